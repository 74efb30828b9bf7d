// Small DOM helpers: build elements without innerHTML (nothing typed by anyone is ever parsed as HTML),
// plus dates in plain words and the toast.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled" || key === "hidden") el[key] = !!value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let fieldCount = 0;
// A labelled control: label, optional hint and error text tied to the control with aria-describedby.
export function field(label, control, { hint, error, id } = {}) {
  const cid = id || control.id || `f${(fieldCount += 1)}`;
  control.id = cid;
  const hintEl = hint ? h("p", { class: "hint", id: `${cid}-hint`, text: hint }) : null;
  const errEl = error ? h("p", { class: "error", id: `${cid}-error`, text: error }) : null;
  const described = [hintEl && hintEl.id, errEl && errEl.id].filter(Boolean).join(" ");
  if (described) control.setAttribute("aria-describedby", described);
  if (error) control.setAttribute("aria-invalid", "true");
  return h("div", { class: "field" }, h("label", { for: cid, text: label }), hintEl, errEl, control);
}

export function select(name, options, value, attrs = {}) {
  return h("select", { name, ...attrs },
    options.map(([v, label]) => h("option", { value: v, selected: String(v) === String(value ?? "") }, label)));
}

// A group of radio buttons with a legend: large targets for one-handed use.
export function radios(name, legend, options, value) {
  return h("fieldset", { class: "radios" }, h("legend", { text: legend }),
    options.map(([v, label]) => h("label", { class: "radio" },
      h("input", { type: "radio", name, value: v, checked: String(v) === String(value) }), h("span", { text: label }))));
}

export function badge(record) {
  if (!record || !record._sync) return null;
  const words = {
    unsynced: ["Not sent yet", "b-wait"], synced: ["Sent", "b-ok"],
    rejected: ["Needs attention", "b-bad"], conflict: ["Changed on two phones", "b-warn"],
  }[record._sync];
  return words ? h("span", { class: `badge ${words[1]}`, text: words[0] }) : null;
}

export function reasons(errors) {
  if (!errors) return "";
  const parts = [];
  for (const [field, msgs] of Object.entries(errors)) {
    const text = Array.isArray(msgs) ? msgs.join(" ") : typeof msgs === "object" ? JSON.stringify(msgs) : String(msgs);
    parts.push(field === "_" || field === "_schema" ? text : `${field.replace(/_/g, " ")}: ${text}`);
  }
  return parts.join("; ");
}

const DAY = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short" });
const TIME = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });
export function fmtDay(iso) { return iso ? DAY.format(new Date(iso)) : ""; }
export function fmtTime(iso) { return iso ? TIME.format(new Date(iso)) : ""; }
export function fmtWhen(iso) { return iso ? `${fmtDay(iso)}, ${fmtTime(iso)}` : ""; }
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
function pad(n) { return String(n).padStart(2, "0"); }

// <input type=datetime-local> value for a Date, and back to ISO 8601 with this phone's offset.
export function localInput(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
export function isoWithOffset(localValue) {
  if (!localValue) return null;
  const d = new Date(localValue);
  if (Number.isNaN(d.getTime())) return null;
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const abs = Math.abs(off);
  return `${localInput(d)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// The toast: a status line in the page's flow under the header, so it never covers a control (issue 15). It stays
// until the worker moves to another screen (hideToast), so there is no timer to read it against.
export function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.hidden = false;
  // It sits in the page's flow, so it covers nothing; a worker who had scrolled down is brought back to it,
  // just below the sticky header, or it would show where nobody sees it.
  const header = document.getElementById("top");
  const box = el.getBoundingClientRect();
  const below = header ? header.getBoundingClientRect().bottom : 0;
  if (box.top < below || box.bottom > window.innerHeight) window.scrollBy({ top: box.top - below - 8, behavior: "instant" });
}
export function hideToast() {
  const el = document.getElementById("toast");
  if (el) { el.hidden = true; el.textContent = ""; }
}
