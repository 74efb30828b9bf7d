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

// A lone surrogate (half of a UTF-16 pair, e.g. from a bad paste or a cut-off emoji) is not Unicode: no JSON this
// phone sends may carry one (a server must refuse it, and a refused batch would block the outbox). Every request
// body is serialised here and only here, so this is the one place each is replaced by U+FFFD, in keys and values.
const SURROGATES = /[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]/g; // no lookbehind: older Safari has none
const fixString = (s) => (s.toWellFormed ? s.toWellFormed() : s.replace(SURROGATES, (m) => (m.length === 2 ? m : "\ufffd")));
export function wellFormed(value) {
  if (typeof value === "string") return fixString(value);
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value && typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [fixString(k), wellFormed(v)]));
  }
  return value; // numbers, booleans, null; Dates and the like serialise themselves
}

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
      body: body === undefined ? undefined : JSON.stringify(wellFormed(body)),
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
