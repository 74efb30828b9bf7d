// Sign in with email and password: the first screen on a new phone, and again after a session ends, a
// forgotten PIN or the offline lease.
import * as sync from "../sync.js";
import { h, field } from "../ui.js";

export function signIn(ctx, { again = false, email: known = "", title = "", intro = "" } = {}) {
  const error = h("p", { class: "error", role: "alert", id: "signin-error" });
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, inputmode: "email", value: known || "" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit", class: "btn primary wide" }, "Sign in");
  const form = h("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!email.value || !password.value) { error.textContent = "Enter your email and password."; return; }
    if (navigator.onLine === false) { error.textContent = "You need signal to sign in. Your work stays safe on this phone."; return; }
    button.disabled = true;
    try {
      await sync.signIn(email.value.trim(), password.value);
      await ctx.signedIn();
    } catch (err) {
      error.textContent = err.status === 401 ? "That email and password do not match."
        : err.status === 429 ? "Too many tries. Please wait a minute."
        : err.code === "other_user" ? err.message
        : "Could not reach Alongside. Check your signal and try again.";
      button.disabled = false;
    }
  } },
  field("Email", email), field("Password", password), error, button);
  return h("section", { class: "signin" },
    h("h1", { text: title || (again ? "Sign in again" : "Sign in") }),
    h("p", { text: intro || (again ? "Your sign-in ended. Everything you logged is still on this phone and will be sent once you sign in."
      : "Sign in once with signal. After that Alongside works without signal.") }),
    form);
}
