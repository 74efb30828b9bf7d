// A goal's ratings over time (issue 15): a small line chart drawn as inline SVG (hidden from screen readers),
// with the same numbers as a list that screen readers read instead. A rating's time is its visit's (ratings of a
// voided visit are left out), or when it was given, for a rating outside a visit.
import { h, fmtDay } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 300, H = 72, PAD = 8;

function s(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// [{rating, at}] oldest first.
export function history(progress, visitsById) {
  const points = [];
  for (const r of progress) {
    if (r.deleted) continue;
    const visit = r.visit_id ? visitsById.get(r.visit_id) : null;
    if (visit && (visit.voided_at || visit._voided_at)) continue;
    const at = (visit && visit.started_at) || r.created_at || r._at || null;
    points.push({ rating: r.rating, at, rev: r.rev == null ? Infinity : r.rev });
  }
  points.sort((a, b) => {
    const ta = a.at ? Date.parse(a.at) : 0, tb = b.at ? Date.parse(b.at) : 0;
    return ta !== tb ? ta - tb : a.rev - b.rev;
  });
  return points;
}

export function goalChart(goalId, points) {
  if (!points.length) return null;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "goal-chart", "aria-hidden": "true", focusable: "false", id: `chart-${goalId}` });
  const x = (i) => (points.length === 1 ? W / 2 : PAD + (i * (W - 2 * PAD)) / (points.length - 1));
  const y = (r) => H - PAD - (r * (H - 2 * PAD)) / 10;
  svg.append(s("line", { x1: PAD, x2: W - PAD, y1: y(0), y2: y(0), class: "axis" }));
  svg.append(s("line", { x1: PAD, x2: W - PAD, y1: y(10), y2: y(10), class: "axis" }));
  if (points.length > 1) svg.append(s("polyline", { points: points.map((p, i) => `${x(i)},${y(p.rating)}`).join(" "), class: "line" }));
  points.forEach((p, i) => svg.append(s("circle", { cx: x(i), cy: y(p.rating), r: 4, class: "dot" })));
  const list = h("ol", { class: "sr-only", "aria-label": "Ratings over time" },
    points.map((p) => h("li", { text: `${p.at ? fmtDay(p.at) : "Date not known"}: ${p.rating} out of 10` })));
  return h("div", { class: "goal-history" }, svg, list);
}
