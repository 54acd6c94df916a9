// Cross-attention as a graph: target tokens (queries) in a row above, source tokens (keys) in a
// row below, a line from each target token to every source token it weighs at least `threshold`.
// Source nodes carry key positions (the selection's hovered_token / pinned_token), target nodes
// query rows (its hovered_query / pinned_query); hovering or pinning either sets the shared
// selection, and the lines of the focused tokens stay bright.
import { colorAt, cssColor } from "../lib/colormap.js";
import { arcLayout } from "../lib/layout.js";
import { displayMap, visibility } from "../lib/maps.js";
import { decode } from "../lib/decode.js";
import { connectSelection } from "../lib/selection.js";
import { crossFocus, crossLineOn } from "../lib/links.js";
import { mapKey, missingMapText } from "../lib/store.js";
import { connectMeasured } from "../lib/measure.js";
import {
  h, makeRoot, TokenMarks, setTrait, scaleControls, viewScale, drawLegend, hideNotes, showTip, hideTip,
  displayToken, exactToken, theme, whenSized, onThemeChange,
} from "./common.js";

const NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  return n;
}
const short = (t) => { const s = displayToken(t); return s.length > 12 ? s.slice(0, 11) + "…" : s; };

export default async function render({ model, el, host, signal }) {
  const ui = makeRoot(el, "graph");
  ui.root.classList.add("aw-cross-graph");
  await whenSized(ui.root);
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens"), targets = model.get("_query_tokens");
  const nKey = tokens.length, nQuery = targets.length;
  const maskPayload = model.get("_mask");
  const visible = visibility({ nQuery, nKey, causal: false, mask: maskPayload ? decode(maskPayload).values : null });
  const maps = await connectMeasured(model, host, { signal });
  const what = () => (maps.measure() === "norms" ? "norm" : "weight");
  const marks = new TokenMarks(), rowMarks = new TokenMarks();

  const slider = h("input", { type: "range", min: "0", max: "1", step: "0.01", value: String(model.get("threshold")), style: "width:110px" });
  const sliderVal = h("span", { text: model.get("threshold").toFixed(2), style: "min-width:2.5em" });
  slider.addEventListener("input", () => { sliderVal.textContent = Number(slider.value).toFixed(2); }, { signal });
  slider.addEventListener("change", () => setTrait(model, "threshold", Number(slider.value)), { signal });
  ui.controls.append(h("label", {}, "threshold", slider, sliderVal));
  const syncScale = scaleControls(model, ui.controls, signal);

  const slot = ui.root.clientWidth ? ui.root.clientWidth - 22 : 900;
  const W = Math.max(280, Math.min(900, Math.max(nKey, nQuery) * 40, slot)), Hh = 240;
  const TOP = 40, BOTTOM = Hh - 40;
  const root = svg("svg", { width: W, height: Hh, viewBox: `0 0 ${W} ${Hh}`, style: "display:block;font:11px system-ui,sans-serif" });
  ui.body.append(root);
  const edgeLayer = svg("g", { class: "aw-edges" }), nodeLayer = svg("g", { class: "aw-nodes" });
  root.append(edgeLayer, nodeLayer);
  // A node names one token: hovering a target node leaves no source token hovered, and back.
  const nodeAt = (ev) => {
    const q = ev.target.closest?.("[data-query-index]"), k = ev.target.closest?.("[data-token-index]");
    if (q) return ["query", Number(q.getAttribute("data-query-index"))];
    return k ? ["token", Number(k.getAttribute("data-token-index"))] : null;
  };
  root.addEventListener("mouseover", (ev) => {
    const n = nodeAt(ev);
    if (n) sel.set(n[0] === "query" ? { hovered_query: n[1], hovered_token: null } : { hovered_token: n[1], hovered_query: null });
  }, { signal });
  root.addEventListener("mouseleave", () => sel.set({ hovered_token: null, hovered_query: null }), { signal });
  root.addEventListener("click", (ev) => {
    const n = nodeAt(ev);
    if (!n) return;
    const field = `pinned_${n[0]}`;
    sel.set({ [field]: sel.get(field) === n[1] ? null : n[1] }, { immediate: true });
  }, { signal });
  const xq = arcLayout(nQuery, W, 30), xk = arcLayout(nKey, W, 30);
  let edgeEls = [];

  function draw() {
    syncScale();
    slider.value = String(model.get("threshold"));
    sliderVal.textContent = model.get("threshold").toFixed(2);
    const key = mapKey(sel.get("layer"), sel.get("head"), sel.get("fusion"));
    ui.title.textContent = `Cross-attention graph · layer ${sel.get("layer")} · ${sel.get("head") === null ? `${sel.get("fusion")} of heads` : `head ${sel.get("head")}`} · ${what()}s ≥ ${model.get("threshold")}`;
    ui.root.dataset.layer = String(sel.get("layer"));
    const raw = maps.get(key);
    ui.status.textContent = raw ? "" : missingMapText(maps.info(), key);
    const hide = model.get("hide");
    const values = raw ? displayMap(raw, nQuery, nKey, { hide, visible }) : null;
    const threshold = model.get("threshold");
    const scale = viewScale(model, 1), cmap = model.get("colormap"), ink = theme(ui.root);
    edgeLayer.replaceChildren(); nodeLayer.replaceChildren(); marks.clear(); rowMarks.clear(); edgeEls = [];
    const edges = [];
    if (values) for (let i = 0; i < nQuery; i++) for (let j = 0; j < nKey; j++) {
      const w = values[i * nKey + j];
      if (visible(i, j) && w > 0 && w >= threshold) edges.push({ i, j, w });
    }
    edges.sort((a, b) => a.w - b.w); // strongest drawn last, on top
    for (const e of edges) {
      const p = svg("line", { x1: xq[e.i].toFixed(1), y1: TOP + 6, x2: xk[e.j].toFixed(1), y2: BOTTOM - 6, class: "aw-edge",
        stroke: cssColor(colorAt(cmap, scale(e.w))), "stroke-width": (0.5 + 4 * e.w).toFixed(2), "stroke-opacity": 0.85 });
      p.dataset.tip = `query (target) ${e.i} ${exactToken(targets[e.i])} → key (source) ${e.j} ${exactToken(tokens[e.j])}\n${what()} ${e.w.toPrecision(3)}`;
      edgeLayer.append(p);
      edgeEls.push({ p, e, on: true });
    }
    for (let i = 0; i < nQuery; i++) {
      const g = svg("g", { class: "aw-tok aw-node aw-query-node", "data-query-index": i, transform: `translate(${xq[i].toFixed(1)},${TOP})`, style: "cursor:pointer" });
      g.append(svg("circle", { r: 4, fill: ink.muted }));
      const label = svg("text", { y: -8, "text-anchor": "middle", "font-size": 11, fill: ink.fg });
      label.textContent = short(targets[i]);
      g.append(label);
      g.dataset.tip = `query (target) ${i} ${exactToken(targets[i])}`;
      nodeLayer.append(g);
      rowMarks.add(i, g);
    }
    for (let j = 0; j < nKey; j++) {
      const g = svg("g", { class: "aw-tok aw-node", "data-token-index": j, transform: `translate(${xk[j].toFixed(1)},${BOTTOM})`, style: "cursor:pointer" });
      g.append(svg("circle", { r: 4, fill: hide.includes(j) ? ink.border : ink.muted }));
      const label = svg("text", { y: 18, "text-anchor": "middle", "font-size": 11, fill: ink.fg });
      label.textContent = short(tokens[j]);
      if (hide.includes(j)) label.setAttribute("text-decoration", "line-through");
      g.append(label);
      g.dataset.tip = `key (source) ${j} ${exactToken(tokens[j])}`;
      nodeLayer.append(g);
      marks.add(j, g);
    }
    for (const [text, y] of [["target (queries)", 14], ["source (keys)", Hh - 4]]) {
      const t = svg("text", { x: 4, y, "font-size": 10, fill: ink.muted });
      t.textContent = text;
      nodeLayer.append(t);
    }
    if (scale) drawLegend(ui.legend, scale, cmap, hideNotes(tokens, hide).concat(
      [`${edges.length} lines ≥ ${threshold}, from each target token to the source tokens it attends to; width by ${what()}`]));
    onHover();
  }

  // The hovered target row and source token, else the pinned ones: their lines stay bright.
  function onHover() {
    const state = {};
    for (const k of ["hovered_token", "pinned_token", "hovered_query", "pinned_query"]) state[k] = sel.get(k);
    marks.hover(state.hovered_token);
    marks.pin(state.pinned_token);
    rowMarks.hover(state.hovered_query);
    rowMarks.pin(state.pinned_query);
    const focus = crossFocus(state);
    ui.root.dataset.focus = focus ? `${focus.row ?? ""},${focus.key ?? ""}` : "";
    for (const el of edgeEls) {
      const on = crossLineOn(focus, el.e.i, el.e.j);
      if (el.on === on) continue;
      el.on = on;
      el.p.setAttribute("stroke-opacity", on ? 0.85 : 0.08);
    }
  }

  root.addEventListener("mousemove", (ev) => {
    const t = ev.target.closest?.("[data-tip]");
    if (t) showTip(ui.tip, ui.root, t.dataset.tip, ev); else hideTip(ui.tip);
  }, { signal });
  root.addEventListener("mouseleave", () => hideTip(ui.tip), { signal });

  sel.on(["layer", "head", "fusion"], draw);
  sel.on(["hovered_token", "pinned_token", "hovered_query", "pinned_query"], onHover);
  maps.on(draw);
  for (const name of ["threshold", "scale", "gamma", "colormap", "hide"]) model.on(`change:${name}`, draw);
  onThemeChange(draw, signal);
  draw();
  return () => el.replaceChildren();
}
