// Talking to the server: JSON over fetch with the session cookie, the CSRF token on writes, and a
// timeout. A timeout is an error, never a success: the outbox keeps everything until an answer comes.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || (status ? `http_${status}` : "network");
    this.errors = (body && body.errors) || {};
  }
}

let csrfToken = null;
export function setCsrf(token) { csrfToken = token; }
let defaultTimeout = 20000;
export function setDefaultTimeout(ms) { defaultTimeout = ms; } // slow links may want longer; tests shorter

export async function request(method, path, { body, headers = {}, timeout = defaultTimeout } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const h = { Accept: "application/json", ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) h["X-CSRF-Token"] = csrfToken;
  let response;
  let data = null;
  try {
    response = await fetch(path, {
      method, headers: h, credentials: "same-origin", cache: "no-store", signal: controller.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    try {
      data = response.status === 204 ? null : await response.json();
    } catch {
      if (response.ok) throw new ApiError(0, { code: "bad_response", message: "The answer could not be read" });
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, { code: controller.signal.aborted ? "timeout" : "network", message: "No connection" });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
