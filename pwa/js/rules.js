// The server's field rules (GET /api/v1/sync/rules, read from its marshmallow schemas: the one copy), kept in
// this phone's sealed store so the forms refuse, before saving, what the server would refuse, offline too.
// checkValue() mirrors the server's checks one field at a time (tests/browser/test_safety_rules_parity.py holds
// it to that for every field of every entity); checkForm() reads a form's controls as the form would save
// them; decorate() adds a counter to long text fields. Also the coordinator's reply to a concern, on a visit.
import * as store from "./db.js";
import { request, wellFormed } from "./api.js";
import { h, isoWithOffset, fmtWhen } from "./ui.js";
import { CONCERN_OUTCOMES, word } from "./codes.js";

let current = null;
let loaded = false;

export async function rules() {
  if (!loaded) {
    current = await store.getMeta("field_rules");
    loaded = true;
  }
  return current;
}

// The rules in force on this page (null: none, as on a phone that has not fetched them yet: the server checks).
export function setRules(doc) {
  current = doc;
  loaded = true;
}

// After a sync: fetch the rules when they changed (ETag = version); no answer keeps the cached copy.
export async function refresh() {
  const cached = await rules();
  try {
    const doc = await request("GET", "/api/v1/sync/rules", { headers: cached ? { "If-None-Match": `"${cached.version}"` } : {} });
    if (doc && doc.version && doc.entities) {
      setRules(doc);
      await store.setMeta("field_rules", doc);
    }
  } catch (err) {
    if (!(err && err.status === 304)) return cached; // offline or refused: the cached rules still hold
  }
  return current;
}

const count = (n) => n.toLocaleString("en-GB");
const chars = (s) => [...s].length; // characters as the server counts them (code points, not UTF-16 units)
const TRUE = new Set(["t", "T", "true", "True", "TRUE", "on", "On", "ON", "y", "Y", "yes", "Yes", "YES", "1", 1]);
const FALSE = new Set(["f", "F", "false", "False", "FALSE", "off", "Off", "OFF", "n", "N", "no", "No", "NO", "0", 0]);
const ISO_DT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDay(y, m, d) {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d && y >= 1;
}

// A UUID as the server reads one: dashes and braces optional, any case, an optional urn:uuid: prefix.
function isUuid(value) {
  if (typeof value !== "string") return false;
  const hex = value.replace("urn:", "").replace("uuid:", "").replace(/^\{+|\}+$/g, "").replace(/-/g, "");
  return /^[0-9a-fA-F]{32}$/.test(hex);
}

// ms since 1970 (UTC) of an ISO date-time with an offset, or null (not one the server reads, or no offset).
function awareTime(value) {
  const m = typeof value === "string" ? ISO_DT.exec(value) : null;
  if (!m || !m[8]) return null;
  const [y, mo, d, hh, mi = "0", ss = "0"] = m.slice(1, 7).map((x) => (x === undefined ? undefined : x));
  if (!validDay(+y, +mo, +d) || +hh > 23 || +mi > 59 || +ss > 59) return null;
  let offset = 0;
  if (m[8] !== "Z") {
    const sign = m[8][0] === "-" ? -1 : 1;
    const digits = m[8].slice(1).replace(":", "");
    const oh = +digits.slice(0, 2), om = digits.length > 2 ? +digits.slice(2, 4) : 0;
    if (oh > 23 || om > 59) return null;
    offset = sign * (oh * 60 + om);
  }
  return Date.UTC(+y, +mo - 1, +d, +hh, +mi, +ss) - offset * 60000;
}

const DT_MIN = Date.UTC(1900, 0, 2), DT_MAX = Date.UTC(2200, 0, 1);

// One value against one field's rule: null when the server would take it, else the reason in plain words.
export function checkValue(rule, value) {
  if (value === null || value === undefined) return rule.nullable ? null : "Fill this in.";
  switch (rule.type) {
    case "string": {
      if (typeof value !== "string") return "This must be text.";
      if (rule.choices) return rule.choices.includes(value) ? null : "Choose one of the options.";
      const n = chars(value);
      if (rule.minLength && n < rule.minLength) return rule.minLength === 1 ? "Fill this in." : `Use at least ${count(rule.minLength)} characters.`;
      if (rule.maxLength != null && n > rule.maxLength) {
        return `This is ${count(n)} characters: the most is ${count(rule.maxLength)}. Shorten it by ${count(n - rule.maxLength)}.`;
      }
      if (rule.text && value.includes("\u0000")) return "This contains a character that cannot be stored.";
      if (rule.text && (value.isWellFormed ? !value.isWellFormed() : /[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/.test(value))) {
        return "This contains a broken character (half of an emoji?). Please type it again.";
      }
      return null;
    }
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value)) return "This must be a whole number.";
      if ((rule.minimum != null && value < rule.minimum) || (rule.maximum != null && value > rule.maximum)) {
        return `Choose a number from ${rule.minimum ?? "any"} to ${rule.maximum ?? "any"}.`;
      }
      return null;
    }
    case "boolean":
      return TRUE.has(value) || FALSE.has(value) || value === true || value === false ? null : "Choose yes or no.";
    case "uuid":
      return isUuid(value) ? null : "This link to another record is broken.";
    case "list": {
      if (!Array.isArray(value)) return "This must be a list.";
      if (rule.maxItems != null && value.length > rule.maxItems) return `Choose at most ${count(rule.maxItems)}.`;
      for (const item of value) {
        if (rule.items === "uuid" && !isUuid(item)) return "One of these links is broken.";
        if (rule.items === "string" && typeof item !== "string") return "One of these is not valid.";
        if (rule.itemChoices && !rule.itemChoices.includes(item)) return "Choose from the options.";
      }
      return null;
    }
    case "datetime": {
      const t = awareTime(value);
      if (t === null) return "Enter a date and time.";
      if (t < DT_MIN || t > DT_MAX) return "Enter a date between the years 1900 and 2200.";
      // issue 15 guards: a time at most this far ahead of now (a visit a day, a next visit two years)
      if (rule.maxAheadSeconds != null && t > Date.now() + rule.maxAheadSeconds * 1000) return "That is too far ahead. Check the date.";
      return null;
    }
    case "date": {
      const m = typeof value === "string" ? ISO_DATE.exec(value) : null;
      if (!m || !validDay(+m[1], +m[2], +m[3])) return "Enter a date.";
      return value < "1900-01-01" || value > "2200-01-01" ? "Enter a date between the years 1900 and 2200." : null;
    }
    default:
      return null; // a kind this phone does not know yet: the server still checks it
  }
}

// A form control's value as the screen saves it, by the field's rule; undefined: not checked here.
function controlValue(form, name, rule) {
  const el = form.elements[name];
  if (!el) return undefined;
  const one = el instanceof RadioNodeList ? el[0] : el;
  if (!one || one.disabled || one.closest("[hidden]")) return undefined; // not what the screen will save
  if (one.type === "checkbox" && el instanceof RadioNodeList) return [...el].filter((c) => c.checked).map((c) => c.value);
  if (one.type === "checkbox") return rule.type === "list" ? (one.checked ? [one.value] : []) : one.checked;
  const raw = el.value;
  if (rule.type === "integer") return raw === "" ? (rule.nullable ? null : undefined) : Number(raw);
  if (rule.type === "datetime") {
    if (raw === "") return rule.nullable ? null : undefined; // the screen says "Enter when..." itself
    return one.type === "datetime-local" ? isoWithOffset(raw) || raw : undefined;
  }
  if (rule.type === "date") return raw === "" ? (rule.nullable ? null : undefined) : raw;
  return raw;
}

// {name: message} for every control of `form` the server would refuse, by `entity`'s rules.
export async function checkForm(form, entity) {
  const doc = await rules();
  const spec = doc && doc.entities && doc.entities[entity];
  const problems = {};
  if (!spec) return problems; // never fetched yet: the server checks on sync, as before
  for (const [name, rule] of Object.entries(spec.fields)) {
    const typed = controlValue(form, name, rule);
    if (typed === undefined) continue;
    const value = wellFormed(typed); // as it will be sent: a broken character goes as U+FFFD (api.js)
    const message = checkValue(rule, value);
    if (message) problems[name] = message;
  }
  return problems;
}

// "12 of 10,000 characters" under each long text field, kept up to date as the worker types.
export async function decorate(form, entity) {
  const doc = await rules();
  const spec = doc && doc.entities && doc.entities[entity];
  if (!spec) return;
  for (const [name, rule] of Object.entries(spec.fields)) {
    const el = form.elements[name];
    if (!el || el instanceof RadioNodeList || rule.type !== "string" || rule.choices || !(rule.maxLength >= 200)) continue;
    if (el.parentElement.querySelector(`.counter[data-for="${name}"]`)) continue;
    const counter = h("p", { class: "hint counter", id: `${el.id || name}-count`, "data-for": name });
    const update = () => {
      const n = chars(el.value);
      counter.textContent = n > rule.maxLength
        ? `${count(n)} of ${count(rule.maxLength)} characters: ${count(n - rule.maxLength)} too many`
        : `${count(n)} of ${count(rule.maxLength)} characters`;
      counter.classList.toggle("over", n > rule.maxLength);
    };
    update();
    el.addEventListener("input", update);
    el.after(counter);
    el.setAttribute("aria-describedby", [el.getAttribute("aria-describedby"), counter.id].filter(Boolean).join(" "));
  }
}

// The coordinator's answer to a concern on a visit (action note, outcome), as the worker sees it.
export function concernReply(visit) {
  if (!visit || !(visit.concern_ack_note || visit.concern_outcome)) return null;
  return h("div", { class: "concern-reply card", "data-concern-reply": visit.id },
    h("p", { class: "sub", text: `Your coordinator answered your concern${visit.concern_ack_at ? ` (${fmtWhen(visit.concern_ack_at)})` : ""}:` }),
    visit.concern_outcome ? h("p", { class: "outcome", text: word(CONCERN_OUTCOMES, visit.concern_outcome) }) : null,
    visit.concern_ack_note ? h("p", { class: "feedback", text: visit.concern_ack_note }) : null);
}
