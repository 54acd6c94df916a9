// Cross-attention as a graph: target tokens (queries) in a row above, source tokens (keys) in a
// row below, a line from each target token to every source token it weighs at least `threshold`.
// Source nodes carry key positions (the selection's hovered_token / pinned_token), target nodes
// query rows (its hovered_query / pinned_query); hovering or pinning either sets the shared
// selection, and the lines of the focused tokens stay bright.
import { colorAt, cssColor } from "../../lib/colormap.js";
import { arcLayout } from "../../lib/layout.js";
import { rowLabels, focusLabels } from "../../lib/rowlabels.js";
import { displayMap, visibility } from "../../lib/maps.js";
import { decode } from "../../lib/decode.js";
import { connectSelection } from "../../lib/selection.js";
import { crossFocus } from "../../lib/links.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { mapKey, missingMapText } from "../../lib/store.js";
import { connectMeasured } from "../../lib/measure.js";
import { h, makeRoot, TokenMarks, displayToken, exactToken, whenSized } from "../../ui/dom.js";
import { setTrait, scaleControls, viewControls, viewScale } from "../../ui/controls.js";
import { drawLegend, hideNotes } from "../../ui/legend.js";
import { wireTips } from "../../ui/tips.js";
import { theme, onThemeChange } from "../../ui/theme.js";

const NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  return n;
}
// Tokens keep at least STEP px of their row; PAD keeps the end labels inside; TIERS lines of
// focus labels beyond each row's own labels.
const STEP = 9, PAD = 36, TIERS = 4, LINE = 13, GAP = 4;
const LIT = 0.85, DIM = 0.08;
const LABEL_FONT = "11px system-ui,sans-serif";
const short = (t) => { const s = displayToken(t); return s.length > 12 ? s.slice(0, 11) + "…" : s; };

export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "graph");
  const ctl = viewControls(ui, { embedded, menu, signal });
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
  const syncScale = scaleControls(model, ctl.options, signal);

  // Every token keeps at least STEP px of its row: a long row is wider than the slot, and the
  // two rows, their lines and labels scroll sideways together in one SVG. Labels are horizontal;
  // where they would touch, only every k-th token is labelled (lib/rowlabels.js), and the focused
  // tokens and the ends of their lines get labels of their own, in tiers away from the row.
  const slot = ui.root.clientWidth ? ui.root.clientWidth - 22 : 900;
  const nMost = Math.max(nKey, nQuery);
  const W = Math.max(280, Math.min(nMost * 40, slot));
  const CW = Math.max(W, 2 * PAD + (nMost - 1) * STEP);
  const TOP = 12 + TIERS * LINE, BOTTOM = TOP + 170, Hh = BOTTOM + 10 + TIERS * LINE;
  const caption = h("div", { class: "aw-muted aw-cross-caption", style: "font-size:12px;margin:2px 0" });
  const scroller = h("div", { class: "aw-cross-scroll", style: `overflow-x:auto;overflow-y:hidden;max-width:100%;width:${W}px` });
  const root = svg("svg", { width: CW, height: Hh, viewBox: `0 0 ${CW} ${Hh}`, style: "display:block;font:11px system-ui,sans-serif" });
  scroller.append(root);
  ui.body.append(caption, scroller);
  const edgeLayer = svg("g", { class: "aw-edges" }), litLayer = svg("g", { class: "aw-edges-lit" });
  const nodeLayer = svg("g", { class: "aw-nodes" }), focusLayer = svg("g", { class: "aw-focus-labels", "pointer-events": "none" });
  root.append(edgeLayer, litLayer, nodeLayer, focusLayer);
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
  const xq = arcLayout(nQuery, CW, PAD), xk = arcLayout(nKey, CW, PAD);
  // Label widths from the font's metrics, once: no layout is read to place a label.
  const widthsOf = (list) => {
    const ctx = document.createElement("canvas").getContext("2d");
    const out = new Float64Array(list.length);
    if (ctx) ctx.font = LABEL_FONT;
    list.forEach((t, i) => { out[i] = ctx ? ctx.measureText(short(t)).width + 2 : 7 * short(t).length; });
    return out;
  };
  const rows = {
    query: { xs: xq, widths: widthsOf(targets), text: targets, y: (tier) => TOP - 8 - tier * LINE, labels: new Map(), shown: [], hidden: [] },
    token: { xs: xk, widths: widthsOf(tokens), text: tokens, y: (tier) => BOTTOM + 18 + tier * LINE, labels: new Map(), shown: [], hidden: [] },
  };
  rows.query.shown = rowLabels(xq, rows.query.widths, GAP);
  rows.token.shown = rowLabels(xk, rows.token.widths, GAP);
  const every = (row, n) => (row.shown.length === n ? "" : `${row.shown.length} of ${n} labelled`);
  const capText = ["target tokens (queries) above, source tokens (keys) below"];
  if (CW > W) capText.push(`${nQuery} × ${nKey} tokens: scroll sideways`);
  const thin = [every(rows.query, nQuery) && `target ${every(rows.query, nQuery)}`, every(rows.token, nKey) && `source ${every(rows.token, nKey)}`].filter(Boolean);
  if (thin.length) capText.push(`${thin.join(", ")}; hover a node for its label and its lines' ends`);
  const unlabelled = h("span", { class: "aw-unlabelled" });
  caption.append(capText.join(" · "), unlabelled);
  let edgeEls = [], byRow = [], byKey = [], ink = theme(ui.root), lit = null;

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
    const scale = viewScale(model, 1), cmap = model.get("colormap");
    ink = theme(ui.root);
    edgeLayer.replaceChildren(); litLayer.replaceChildren(); nodeLayer.replaceChildren(); focusLayer.replaceChildren();
    marks.clear(); rowMarks.clear(); edgeEls = []; lit = null;
    byRow = Array.from({ length: nQuery }, () => []); byKey = Array.from({ length: nKey }, () => []);
    for (const row of Object.values(rows)) { row.labels.clear(); row.hidden = []; }
    const edges = [];
    if (values) for (let i = 0; i < nQuery; i++) for (let j = 0; j < nKey; j++) {
      const w = values[i * nKey + j];
      if (visible(i, j) && w > 0 && w >= threshold) edges.push({ i, j, w });
    }
    edges.sort((a, b) => a.w - b.w); // strongest drawn last, on top
    for (const e of edges) {
      const p = svg("line", { x1: xq[e.i].toFixed(1), y1: TOP + 6, x2: xk[e.j].toFixed(1), y2: BOTTOM - 6, class: "aw-edge",
        stroke: cssColor(colorAt(cmap, scale(e.w))), "stroke-width": (0.5 + 4 * e.w).toFixed(2), "stroke-opacity": LIT });
      p.dataset.tip = `query (target) ${e.i} ${exactToken(targets[e.i])} → key (source) ${e.j} ${exactToken(tokens[e.j])}\n${what()} ${e.w.toPrecision(3)}`;
      edgeLayer.append(p);
      byRow[e.i].push(edgeEls.length); byKey[e.j].push(edgeEls.length);
      edgeEls.push({ p, e });
    }
    const labelled = { query: new Set(rows.query.shown), token: new Set(rows.token.shown) };
    for (let i = 0; i < nQuery; i++) {
      const g = svg("g", { class: "aw-tok aw-node aw-query-node", "data-query-index": i, transform: `translate(${xq[i].toFixed(1)},${TOP})`, style: "cursor:pointer" });
      g.append(svg("circle", { r: 4, fill: ink.muted }));
      if (labelled.query.has(i)) {
        const label = svg("text", { y: -8, "text-anchor": "middle", "font-size": 11, fill: ink.fg });
        label.textContent = short(targets[i]);
        g.append(label);
        rows.query.labels.set(i, label);
      }
      g.dataset.tip = `query (target) ${i} ${exactToken(targets[i])}`;
      nodeLayer.append(g);
      rowMarks.add(i, g);
    }
    for (let j = 0; j < nKey; j++) {
      const g = svg("g", { class: "aw-tok aw-node", "data-token-index": j, transform: `translate(${xk[j].toFixed(1)},${BOTTOM})`, style: "cursor:pointer" });
      g.append(svg("circle", { r: 4, fill: hide.includes(j) ? ink.border : ink.muted }));
      if (labelled.token.has(j)) {
        const label = svg("text", { y: 18, "text-anchor": "middle", "font-size": 11, fill: ink.fg });
        label.textContent = short(tokens[j]);
        if (hide.includes(j)) label.setAttribute("text-decoration", "line-through");
        g.append(label);
        rows.token.labels.set(j, label);
      }
      g.dataset.tip = `key (source) ${j} ${exactToken(tokens[j])}`;
      nodeLayer.append(g);
      marks.add(j, g);
    }
    if (scale) drawLegend(ui.legend, scale, cmap, hideNotes(tokens, hide).concat(
      [`${edges.length} lines ≥ ${threshold}, from each target token to the source tokens it attends to; width by ${what()}`,
        anchorNote(scale, nKey)]), 180, null, uniformShare(nKey));
    onHover();
  }

  // One row's focus labels: the hovered and pinned tokens first, then the far ends of the focus
  // lines, strongest first. Only the labels they push aside are touched, not the whole row.
  function labelRow(name, first, ends) {
    const row = rows[name], seen = new Set(), items = [];
    for (const i of [...first, ...ends]) {
      if (i === null || i === undefined || seen.has(i)) continue;
      seen.add(i);
      items.push({ index: i, width: row.widths[i] });
    }
    const { placed, hidden, dropped } = focusLabels(items, row.xs, row.widths, row.shown, { tiers: TIERS, gap: GAP });
    for (const i of row.hidden) row.labels.get(i)?.removeAttribute("display");
    for (const i of hidden) row.labels.get(i)?.setAttribute("display", "none");
    row.hidden = hidden;
    const out = placed.map(({ index, tier }) => {
      const t = svg("text", { x: row.xs[index].toFixed(1), y: row.y(tier), "text-anchor": "middle", "font-size": 11, "font-weight": 600,
        fill: ink.fg, stroke: ink.bg, "stroke-width": 3, "paint-order": "stroke", class: "aw-focus-label", [`data-label-${name}`]: index });
      t.textContent = short(row.text[index]);
      return t;
    });
    return { out, dropped };
  }

  // The hovered target row and source token, else the pinned ones: the edge layer dims as a
  // whole and their lines are copied, full strength, into the layer above. A hover touches one
  // style, the focused lines and the labels they need: never every line or node.
  function onHover() {
    const state = {};
    for (const k of ["hovered_token", "pinned_token", "hovered_query", "pinned_query"]) state[k] = sel.get(k);
    marks.hover(state.hovered_token);
    marks.pin(state.pinned_token);
    rowMarks.hover(state.hovered_query);
    rowMarks.pin(state.pinned_query);
    const focus = crossFocus(state);
    ui.root.dataset.focus = focus ? `${focus.row ?? ""},${focus.key ?? ""}` : "";
    const now = JSON.stringify(state);
    if (now === lit) return;
    lit = now;
    const mine = new Set();
    if (focus && focus.row !== null) for (const k of byRow[focus.row] ?? []) mine.add(k);
    if (focus && focus.key !== null) for (const k of byKey[focus.key] ?? []) mine.add(k);
    edgeLayer.style.opacity = focus ? String(DIM / LIT) : "";
    litLayer.replaceChildren(...[...mine].sort((a, b) => a - b).map((k) => {
      const copy = edgeEls[k].p.cloneNode(false);
      copy.setAttribute("class", "aw-edge-lit");
      return copy;
    }));
    const strongest = (list) => list.map((k) => edgeEls[k].e).sort((a, b) => b.w - a.w);
    const rowEnds = focus && focus.key !== null ? strongest(byKey[focus.key] ?? []).map((e) => e.i) : [];
    const keyEnds = focus && focus.row !== null ? strongest(byRow[focus.row] ?? []).map((e) => e.j) : [];
    const top = labelRow("query", [state.hovered_query, state.pinned_query], rowEnds);
    const bottom = labelRow("token", [state.hovered_token, state.pinned_token], keyEnds);
    focusLayer.replaceChildren(...top.out, ...bottom.out);
    const dropped = top.dropped + bottom.dropped;
    ui.root.dataset.unlabelled = String(dropped);
    unlabelled.textContent = dropped ? ` · ${dropped} line ends without a label here (their lines' tooltips name them)` : "";
  }

  // A token pinned from another view may lie outside the scrolled part: bring it in.
  function showPinned(name, xs) {
    const i = sel.get(name);
    if (i === null || i === undefined || CW <= W || !xs[i]) return;
    const left = scroller.scrollLeft, width = scroller.clientWidth || W;
    if (xs[i] < left + PAD || xs[i] > left + width - PAD) scroller.scrollLeft = Math.max(0, xs[i] - width / 2);
  }
  sel.on(["pinned_query"], () => showPinned("pinned_query", xq));
  sel.on(["pinned_token"], () => showPinned("pinned_token", xk));

  wireTips(root, ui, signal);

  sel.on(["layer", "head", "fusion"], draw);
  sel.on(["hovered_token", "pinned_token", "hovered_query", "pinned_query"], onHover);
  maps.on(draw);
  for (const name of ["threshold", "scale", "gamma", "colormap", "hide"]) model.on(`change:${name}`, draw);
  onThemeChange(draw, signal);
  draw();
  return () => el.replaceChildren();
}
