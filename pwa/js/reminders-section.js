// The person page's "Reminders" section (online only: reminders live on the server, never on this phone):
// whether this person gets reminders and how, "Offer reminders" (a large QR code for the person to scan
// with their own phone, the link, Share/Copy), text-message or email consent given in person, their
// settings, goal-step reminders from the safe templates, and "Stop reminders" on the person's request.
// Mounted by the person screen with mount(el, personId, goals). No innerHTML for anything anyone typed.
import { request } from "./api.js";
import { h, field, fmtWhen, localInput, isoWithOffset, toast } from "./ui.js";

const CHANNELS = { webpush: "phone notifications", sms: "text messages", email: "email" };
const POLL_MS = 4000;
const base = (id) => `/api/v1/invites/people/${encodeURIComponent(id)}`;
// DOM replaceChildren() would print a null as "null": drop the parts that are not there.
const fill = (el, ...parts) => el.replaceChildren(...parts.flat().filter((p) => p != null && p !== false));
const check = (input, text) => h("label", { class: "check" }, input, h("span", { text }));

function offlineNote(el, personId, goals) {
  fill(el, h("h2", { id: "reminders-h", text: "Reminders" }),
    h("p", { class: "banner warn", id: "reminders-offline", text: "Reminders need signal: offering them or changing them works only online. Nothing here is stored on this phone." }),
    h("button", { type: "button", class: "btn", id: "reminders-retry", onclick: () => mount(el, personId, goals) }, "Try again"));
}

function qrElement(svgText) {
  // The SVG is made by our server (segno) from the link; parsed as SVG, never as HTML, scripts dropped.
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== "svg") return h("p", { class: "error", text: "The QR code could not be shown: use the link." });
  svg.querySelectorAll("script, foreignObject").forEach((n) => n.remove());
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code of the reminders link");
  if (!svg.getAttribute("viewBox") && svg.getAttribute("width") && svg.getAttribute("height")) {
    svg.setAttribute("viewBox", `0 0 ${parseFloat(svg.getAttribute("width"))} ${parseFloat(svg.getAttribute("height"))}`);
  }
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("class", "qr");
  return document.importNode(svg, true);
}

function statusLine(s) {
  if (!s.reminders_on) return "Off: this person does not get reminders.";
  const how = s.channels.map((c) => CHANNELS[c] || c).join(", ") || "no channel left";
  const phones = s.devices ? ` (${s.devices} phone${s.devices === 1 ? "" : "s"})` : "";
  const since = s.consent_given_at ? ` since ${fmtWhen(s.consent_given_at)}` : "";
  return `On${since}: ${how}${phones}.`;
}

function offerBox(el, personId, refresh) {
  const box = h("div", { class: "offer", id: "reminders-offer" });
  const start = h("button", { type: "button", class: "btn primary wide", id: "offer-reminders" }, "Offer reminders");
  const say = h("p", { role: "status", "aria-live": "polite", class: "sub" });
  start.addEventListener("click", async () => {
    start.disabled = true;
    say.textContent = "Making a link…";
    try {
      const invite = await request("POST", "/api/v1/invites", { body: { person_id: personId } });
      const link = h("p", { id: "reminders-link", class: "link", text: invite.url });
      const copy = h("button", { type: "button", class: "btn", id: "reminders-copy" }, "Copy link");
      copy.addEventListener("click", async () => {
        try { await navigator.clipboard.writeText(invite.url); toast("Link copied"); } catch { toast("Press and hold the link to copy it"); }
      });
      const share = navigator.share ? h("button", { type: "button", class: "btn", id: "reminders-share" }, "Share link") : null;
      if (share) share.addEventListener("click", () => navigator.share({ title: "Reminders", url: invite.url }).catch(() => {}));
      fill(box,
        h("p", { text: "Ask them to scan this with their own phone's camera, or send them the link. It works once, for 3 days." }),
        qrElement(invite.qr_svg),
        h("p", { class: "sub", text: "The link:" }), link,
        h("div", { class: "actions" }, share, copy),
        h("p", { role: "status", "aria-live": "polite", id: "reminders-waiting", text: "Waiting for them to turn reminders on…" }));
      poll(el, personId, refresh);
    } catch (err) {
      start.disabled = false;
      say.textContent = err.status === 0 ? "No signal: offering reminders needs a connection." : (err.message || "That did not work.");
    }
  });
  box.append(start, say);
  return box;
}

function poll(el, personId, refresh) {
  const tick = async () => {
    if (!el.isConnected) return; // the worker moved on: stop asking
    try {
      const s = await request("GET", base(personId));
      if (s.reminders_on) { refresh(s, "Reminders are on: they said yes."); return; }
    } catch { /* no signal for a moment: keep waiting */ }
    setTimeout(tick, POLL_MS);
  };
  setTimeout(tick, POLL_MS);
}

function contactForm(personId, s, refresh) {
  const offered = ["sms", "email"].filter((c) => s.channels_available.includes(c));
  if (!offered.length) return null;
  const channel = h("select", { name: "channel", id: "contact-channel" },
    offered.map((c) => h("option", { value: c, text: c === "sms" ? "Text message" : "Email" })));
  const address = h("input", { type: "text", name: "address", id: "contact-address", autocomplete: "off", required: true });
  const agreed = h("input", { type: "checkbox", id: "contact-agreed", required: true });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "contact", id: "contact-form" },
    h("p", { class: "hint", text: "For a phone that cannot open the link. Read them what we send and what we never send; keep the number only with their yes." }),
    field("Send by", channel), field("Mobile number or email address", address),
    check(agreed, "They agreed to reminders this way"),
    error, h("button", { type: "submit", class: "btn" }, "Turn on this way"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!agreed.checked) { error.textContent = "Tick the box once they have agreed."; return; }
    try {
      refresh(await request("POST", `${base(personId)}/contacts`, {
        body: { channel: channel.value, address: address.value, text_version: s.consent_text_current } }),
      "Reminders are on.");
    } catch (err) { error.textContent = err.errors.address ? err.errors.address.join(" ") : err.message; }
  });
  return h("details", {}, h("summary", { text: "Text message or email instead" }), form);
}

function settingsForm(personId) {
  const wrap = h("details", { id: "reminder-settings" }, h("summary", { text: "Their settings" }));
  wrap.addEventListener("toggle", async () => {
    if (!wrap.open || wrap.dataset.loaded) return;
    wrap.dataset.loaded = "1";
    const s = await request("GET", `${base(personId)}/settings`).catch(() => null);
    if (!s) { wrap.append(h("p", { class: "error", text: "Could not load their settings: try again with signal." })); return; }
    const evening = h("input", { type: "checkbox", id: "set-evening", checked: s.evening_before });
    const eveningTime = h("input", { type: "time", id: "set-evening-time", value: s.evening_time, required: true });
    const hours = h("input", { type: "number", id: "set-hours", min: "0", max: "24", value: String(s.hours_before) });
    const qs = h("input", { type: "time", id: "set-quiet-start", value: s.quiet_hours_start, required: true });
    const qe = h("input", { type: "time", id: "set-quiet-end", value: s.quiet_hours_end, required: true });
    const form = h("form", {},
      check(evening, "A reminder the evening before a visit"),
      field("Evening reminder at", eveningTime), field("Hours before a visit (0 for none)", hours),
      field("Quiet hours from", qs), field("Quiet hours until", qe),
      h("button", { type: "submit", class: "btn" }, "Save their settings"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await request("PUT", `${base(personId)}/settings`, { body: { evening_before: evening.checked,
          evening_time: eveningTime.value, hours_before: Number(hours.value), quiet_hours_start: qs.value, quiet_hours_end: qe.value } });
        toast("Saved");
      } catch (err) { toast(err.status === 0 ? "No signal: not saved" : err.message); }
    });
    wrap.append(form);
  });
  return wrap;
}

function goalReminderForm(personId, goals, refresh) {
  const wrap = h("details", { id: "goal-reminder" }, h("summary", { text: "A reminder for a step" }));
  wrap.addEventListener("toggle", async () => {
    if (!wrap.open || wrap.dataset.loaded) return;
    wrap.dataset.loaded = "1";
    const t = await request("GET", "/api/v1/invites/goal-templates").catch(() => null);
    if (!t) { wrap.append(h("p", { class: "error", text: "Needs signal: try again." })); return; }
    const template = h("select", { id: "goal-template" }, t.templates.map((x) =>
      h("option", { value: x.id, text: x.id === "custom" ? "Your own words (shown only on their page)" : x.text })));
    const text = h("input", { type: "text", id: "goal-text", maxlength: String(t.custom_text_max) });
    const textField = field("Your words", text, { hint: t.warning });
    textField.hidden = true;
    template.addEventListener("change", () => { textField.hidden = template.value !== "custom"; });
    const when = h("input", { type: "datetime-local", id: "goal-when", required: true,
      value: localInput(new Date(Date.now() + 24 * 3600 * 1000)) });
    const goal = h("select", { id: "goal-goal" }, h("option", { value: "", text: "No particular goal" }),
      goals.map((g) => h("option", { value: g.id, text: g.title || "(untitled goal)" })));
    const error = h("p", { class: "error", role: "alert" });
    const form = h("form", {}, field("Reminder", template), textField, field("When", when), field("For the goal", goal),
      h("p", { class: "hint", text: "The notification itself never shows words you type." }), error,
      h("button", { type: "submit", class: "btn" }, "Add the reminder"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await request("POST", `${base(personId)}/goal-reminders`, { body: { template: template.value,
          text: template.value === "custom" ? text.value : "", send_at: isoWithOffset(when.value), goal_id: goal.value || null } });
        refresh(await request("GET", base(personId)), "Reminder added");
      } catch (err) {
        error.textContent = Object.values(err.errors || {}).flat().join(" ") || err.message;
      }
    });
    wrap.append(form);
  });
  return wrap;
}

function stopForm(personId, refresh) {
  const asked = h("input", { type: "checkbox", id: "stop-asked" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { id: "stop-reminders" },
    check(asked, "They asked me to stop their reminders"), error,
    h("button", { type: "submit", class: "btn danger" }, "Stop reminders"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!asked.checked) { error.textContent = "Tick the box: we stop reminders only when the person asks."; return; }
    try { refresh(await request("DELETE", base(personId)), "Reminders stopped"); } catch (err) { error.textContent = err.message; }
  });
  return form;
}

function render(el, personId, goals, s, announce) {
  const refresh = (next, message) => render(el, personId, goals, next, message);
  const upcoming = s.upcoming.length ? h("ul", { class: "list", id: "reminders-upcoming" }, s.upcoming.slice(0, 5).map((r) =>
    h("li", { class: "sub", text: `${fmtWhen(r.send_at)}: ${r.body}` }))) : null;
  fill(el,
    h("h2", { id: "reminders-h", text: "Reminders" }),
    h("p", { id: "reminders-status", role: "status", "aria-live": "polite" },
      h("strong", { text: s.reminders_on ? "On" : "Off" }), " ", statusLine(s).replace(/^(On|Off)/, "").replace(/^:\s*/, "")),
    announce ? h("p", { class: "sub", text: announce }) : null,
    s.reminders_on ? h("p", { class: "sub", text: `Consent text ${s.consent_text_version}. ${s.pending_reminders} planned.` }) : null,
    upcoming,
    offerBox(el, personId, refresh),
    contactForm(personId, s, refresh),
    s.reminders_on ? settingsForm(personId) : null,
    s.reminders_on ? goalReminderForm(personId, goals, refresh) : null,
    s.reminders_on ? stopForm(personId, refresh) : null);
}

export async function mount(el, personId, goals = []) {
  fill(el, h("h2", { id: "reminders-h", text: "Reminders" }), h("p", { class: "sub", text: "Checking…" }));
  if (navigator.onLine === false) { offlineNote(el, personId, goals); return; }
  try {
    render(el, personId, goals, await request("GET", base(personId)));
  } catch (err) {
    if (err.status === 0) offlineNote(el, personId, goals);
    else fill(el, h("h2", { id: "reminders-h", text: "Reminders" }),
      h("p", { class: "sub", text: err.status === 404 ? "Reminders can be offered once this person has reached the server." : "Reminders could not be loaded." }));
  }
}
