// What every form screen shares: the error box at the top of a form, the "not found" page, and the one
// submit handler (check -> disable the button -> save on this phone -> tell the worker and move on). A failed
// save always gives the button back and says so in the box: nothing typed is lost, the worker can try again.
import { h, reasons, toast } from "./ui.js";
import * as sync from "./sync.js";
import * as fieldRules from "./rules.js";

export function formValue(form, name) {
  const el = form.elements[name];
  return el ? el.value : "";
}

// The box every form starts with: role=alert, focusable, hidden until there is something to say.
export function errorBox() {
  return h("div", { class: "form-errors banner warn", role: "alert", tabindex: "-1", hidden: true });
}

// Shows the problems in the form's box (hides it when there are none); true when there were none.
export function showErrors(form, problems) {
  const box = form.querySelector(".form-errors");
  box.replaceChildren(...problems.map((p) => h("p", { text: p })));
  box.hidden = !problems.length;
  if (problems.length) box.focus();
  return problems.length === 0;
}

export function saveFailed(err) {
  const why = err && err.name === "LockedError" ? err.message
    : err && err.name === "QuotaExceededError" ? "This phone's storage is full."
      : (err && err.message) || "Something went wrong on this phone.";
  return `Not saved. ${why} What you typed is still here: try Save again.`;
}

// Each message beside its field (tied with aria-describedby, aria-invalid set); returns "Label: message" lines
// for the summary at the top. Earlier messages go first.
export function showFieldErrors(form, byName) {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    el.setAttribute("aria-describedby", (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-rule")).join(" "));
  }
  const lines = [];
  for (const [name, message] of Object.entries(byName)) {
    const named = form.elements[name];
    const el = named instanceof RadioNodeList ? named[0] : named;
    if (!el) continue;
    const holder = el.closest(".field, fieldset") || el.parentElement;
    const id = `${el.id || name}-rule`;
    holder.append(h("p", { class: "error field-error", id, text: message }));
    el.setAttribute("aria-invalid", "true");
    el.setAttribute("aria-describedby", [el.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
    const label = holder.querySelector("label, legend");
    lines.push(`${label ? label.textContent.replace(/\s*\(.*\)$/, "") : name.replace(/_/g, " ")}: ${message}`);
  }
  return lines;
}

// submit(form, button, {entity, check, save, saved, then}): `entity` checks the form against the server's field
// rules (rules.js: counters on long text, messages beside the fields); check() returns more problems (plain
// words); save() writes on this phone; saved is the toast; then() runs after (usually a navigate).
export function onSubmit(form, button, { entity, check = () => [], save, saved, then }) {
  if (entity) fieldRules.decorate(form, entity).catch(() => {});
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.hidden || button.disabled) return;
    const beside = entity ? showFieldErrors(form, await fieldRules.checkForm(form, entity).catch(() => ({}))) : [];
    if (!showErrors(form, [...beside, ...check()])) return;
    button.disabled = true;
    try {
      await save();
    } catch (err) {
      button.disabled = false;
      showErrors(form, [saveFailed(err)]);
      return;
    }
    if (saved) toast(typeof saved === "function" ? saved() : saved);
    sync.afterEdit();
    if (then) await then();
  });
}

// A button's action that writes on this phone: the button waits while it runs, and a failure is said, never silent.
export function guarded(action) {
  return async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await action(event);
    } catch (err) {
      toast(saveFailed(err).replace(" What you typed is still here: try Save again.", " Please try again."));
    } finally {
      button.disabled = false;
    }
  };
}

export function missing(what) {
  return h("section", {}, h("h1", { text: `${what} not found` }),
    h("p", { text: "It is not on this phone any more." }), h("a", { href: "/app/", class: "btn", text: "Back to caseload" }));
}

export function rejectedNote(record) {
  return record && record._sync === "rejected"
    ? h("div", { class: "banner warn", role: "alert" }, h("p", { text: `The server did not accept this: ${reasons(record._errors)}. Correct it and save again.` }))
    : null;
}
