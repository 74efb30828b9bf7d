// Sign in with email and password (and, for an account with two-step sign-in, a one-time code): the first screen
// on a new phone, and again after a session ends, a forgotten PIN or the offline lease.
import * as sync from "../sync.js";
import { h, field } from "../ui.js";

// What the server says is shown as it says it (it words each of these for people); anything else is ours.
const SERVER_WORDS = new Set(["second_step_required", "invalid_code", "second_step_setup_required", "too_many_requests"]);

export function signIn(ctx, { again = false, email: known = "", title = "", intro = "" } = {}) {
  const error = h("p", { class: "error", role: "alert", id: "signin-error" });
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, inputmode: "email", value: known || "" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  // Asked for only when the server says this account signs in with a second step.
  const code = h("input", { type: "text", name: "one_time_code", autocomplete: "one-time-code", inputmode: "numeric",
    maxlength: 40, spellcheck: "false", autocapitalize: "off" });
  const codeField = field("Code from your authenticator app", code, { hint: "Or one of your recovery codes." });
  codeField.hidden = true;
  email.addEventListener("input", () => { codeField.hidden = true; code.value = ""; }); // another account: ask again
  const button = h("button", { type: "submit", class: "btn primary wide" }, "Sign in");
  const form = h("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!email.value || !password.value) { error.textContent = "Enter your email and password."; return; }
    if (!codeField.hidden && !code.value.trim()) { error.textContent = "Enter the code from your authenticator app."; code.focus(); return; }
    if (navigator.onLine === false) { error.textContent = "You need signal to sign in. Your work stays safe on this phone."; return; }
    button.disabled = true;
    try {
      await sync.signIn(email.value.trim(), password.value, codeField.hidden ? "" : code.value.trim());
      await ctx.signedIn();
    } catch (err) {
      if (err.code === "second_step_required") {
        codeField.hidden = false;
        code.focus();
      }
      if (err.code === "invalid_code") { code.value = ""; code.focus(); }
      error.textContent = SERVER_WORDS.has(err.code) ? err.message
        : err.status === 401 ? "That email and password do not match."
        : err.code === "other_user" ? err.message
        : "Could not reach Alongside. Check your signal and try again.";
      button.disabled = false;
    }
  } },
  field("Email", email), field("Password", password), codeField, error, button);
  return h("section", { class: "signin" },
    h("h1", { text: title || (again ? "Sign in again" : "Sign in") }),
    h("p", { text: intro || (again ? "Your sign-in ended. Everything you logged is still on this phone and will be sent once you sign in."
      : "Sign in once with signal. After that Alongside works without signal.") }),
    form);
}
