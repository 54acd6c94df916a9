// AttentionGraph: tokens as nodes, edges above a threshold, arc or force layout, in SVG.
import { effectTitle } from "../../lib/effects.js";
import { colorAt, cssColor, fmt } from "../../lib/colormap.js";
import { arcLayout, arcPath, arrowHead, forceLayout } from "../../lib/layout.js";
import { sinkOfMap } from "../../lib/sink.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { labelsWithFocus } from "../../lib/rowlabels.js";
import { displayMap, edgesAbove, exactEdges, visibility } from "../../lib/maps.js";
import { decode } from "../../lib/decode.js";
import { connectSelection } from "../../lib/selection.js";
import { mapKey, missingMapText } from "../../lib/store.js";
import { connectMeasured, MEASURE_OPTIONS, MEASURE_HELP, NORMS_NOTE } from "../../lib/measure.js";
import {
  h, makeRoot, TokenMarks, displayToken, exactToken, wireTokens, whenSized, onWidthChange,
} from "../../ui/dom.js";
import {
  select, setTrait, scaleControls, viewScale, viewControls, exportCanvas, stepControl, sinkBox, sinkLine,
} from "../../ui/controls.js";
import { drawLegend, paintLegend, hideNotes, legendLines, paintLegendText } from "../../ui/legend.js";
import { wireTips } from "../../ui/tips.js";
import { theme, onThemeChange } from "../../ui/theme.js";

const NS = "http://www.w3.org/2000/svg";
// One colour per overlaid head, told apart on light and dark pages (Tableau 10's first six).
export const HEAD_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948"];
const MAX_OVERLAY = HEAD_COLOURS.length;
const FORCE_MAX = 300;
// Edge opacity, and that of edges away from the focus token.
const LIT = 0.85, DIM = 0.08;
function svg(tag, attrs = {}) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  return n;
}

export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "graph");
  const ctl = viewControls(ui, { embedded, menu, signal });
  await whenSized(ui.root);
  const sink = sinkBox();
  ui.body.before(sink);
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query");
  const maskPayload = model.get("_mask");
  const visible = visibility({ nQuery, nKey, causal: model.get("_causal"), mask: maskPayload ? decode(maskPayload).values : null });
  const maps = await connectMeasured(model, host, { signal });
  const what = () => (maps.measure() === "norms" ? "norm" : "weight");
  // Beside a view that switches to norms, the title names weights first, not only in its threshold.
  const graphName = () => (model.get("_measure_name") && !maps.hasNorms ? `Graph of ${model.get("_measure_name")}` : "Graph");
  const getMap = (key) => maps.get(key);
  // Edges at the threshold: the kernel's, from exact weights, while they match what is drawn; else
  // from the coded weights (within 2.8%, so a weight near the threshold may land either side).
  const edgesOf = (key, values, threshold, hide) =>
    exactEdges(model.get("_exact_edges"), { key, threshold, hide, measure: maps.measure(), offset: nKey - nQuery, decode })
      ?? (values ? edgesAbove(values, nQuery, nKey, threshold) : []);
  const marks = new TokenMarks();

  const slider = h("input", { type: "range", min: "0", max: "1", step: "0.01", value: String(model.get("threshold")), style: "width:110px" });
  const sliderVal = h("span", { text: model.get("threshold").toFixed(2), style: "min-width:2.5em" });
  slider.addEventListener("input", () => { sliderVal.textContent = Number(slider.value).toFixed(2); }, { signal });
  slider.addEventListener("change", () => setTrait(model, "threshold", Number(slider.value)), { signal });
  const layoutSel = select("layout", [["arc", "arc"], ["force", "force"]], model.get("arrangement"), (v) => setTrait(model, "arrangement", v), signal);
  ui.controls.append(h("label", {}, "threshold", slider, sliderVal), layoutSel.node);
  const measureSel = maps.hasNorms ? select("measure", MEASURE_OPTIONS, maps.measure(), (v) => setTrait(model, "measure", v), signal) : null;
  if (measureSel) {
    measureSel.node.title = MEASURE_HELP;
    measureSel.node.classList.add("aw-measure");
    ctl.shared.append(measureSel.node);
  }
  // Overlay: several heads of the layer at once, one colour each (the `overlay` trait).
  const headIds = model.get("_head_ids");
  const overlayBox = h("span", { class: "aw-overlay-heads", style: "display:inline-flex;flex-wrap:wrap;align-items:center;gap:2px" },
    h("span", { class: "aw-muted", text: "overlay heads", title: `draw up to ${MAX_OVERLAY} heads of the layer together, one colour each` }));
  const overlayBtns = headIds.map((hd) => {
    const b = h("button", { class: "aw-btn aw-overlay-head", text: String(hd), "data-head": String(hd), style: "padding:0 5px;min-width:1.8em" });
    b.addEventListener("click", () => {
      const on = new Set(model.get("overlay"));
      if (on.has(hd)) on.delete(hd); else if (on.size < MAX_OVERLAY) on.add(hd);
      setTrait(model, "overlay", headIds.filter((x) => on.has(x)));
    }, { signal });
    overlayBox.append(b);
    return b;
  });
  ui.controls.append(overlayBox);
  const syncScale = scaleControls(model, ctl.options, signal);
  ctl.png("graph", "attention-graph.png", () => drawExport());

  const step = embedded ? null : stepControl(sel, tokens, signal);
  if (step) ui.body.append(step.node);

  // As wide as the slot allows (never wider), shorter in a dashboard.
  const widthFor = (width) => Math.max(280, Math.min(900, nKey * 22, width ? width - 22 : 900));
  let W = widthFor(ui.root.clientWidth);
  const Hh = embedded ? 210 : 300;
  const root = svg("svg", { width: W, height: Hh, viewBox: `0 0 ${W} ${Hh}`, style: "display:block;font:11px system-ui,sans-serif" });
  ui.body.append(root);
  // A focus token dims every edge at once (the edge layer's opacity) and copies its own edges,
  // full strength, into the layer above: a hover touches one style and that token's edges, not
  // every edge.
  const edgeLayer = svg("g", { class: "aw-edges" }), litLayer = svg("g", { class: "aw-edges-lit" }), nodeLayer = svg("g", { class: "aw-nodes" });
  root.append(edgeLayer, litLayer, nodeLayer);
  wireTokens(root, sel, signal);

  let edgeEls = [], byToken = new Map(), lit = null, scale = null, pos = null, values = null;
  function clearEdges() {
    edgeLayer.replaceChildren(); litLayer.replaceChildren(); nodeLayer.replaceChildren(); marks.clear();
    edgeEls = []; byToken = new Map(); lit = null;
  }
  function addEdge(p, e, a) {
    const k = edgeEls.length;
    edgeEls.push({ p, e, a });
    for (const t of e.source === e.target ? [e.source] : [e.source, e.target]) {
      if (!byToken.has(t)) byToken.set(t, []);
      byToken.get(t).push(k);
    }
    edgeLayer.append(p);
    if (a) edgeLayer.append(a);
  }

  function draw() {
    syncScale();
    slider.value = String(model.get("threshold"));
    sliderVal.textContent = model.get("threshold").toFixed(2);
    layoutSel.input.value = model.get("arrangement");
    const key = mapKey(sel.get("layer"), sel.get("head"), sel.get("fusion"));
    const overlay = model.get("overlay") ?? [];
    overlayBtns.forEach((b, k) => {
      const on = overlay.indexOf(headIds[k]);
      b.setAttribute("aria-pressed", String(on >= 0));
      b.style.background = on >= 0 ? HEAD_COLOURS[on] : "";
      b.style.color = on >= 0 ? "#fff" : "";
      b.style.borderColor = on >= 0 ? HEAD_COLOURS[on] : "";
    });
    ui.root.dataset.measure = maps.measure();
    if (measureSel) measureSel.input.value = maps.measure();
    if (overlay.length) { drawOverlay(overlay); return; }
    ui.title.textContent = `${graphName()} · layer ${sel.get("layer")} · ${sel.get("head") === null ? `${sel.get("fusion")} of heads` : `head ${sel.get("head")}`}${effectTitle(model.get("_effects"), sel.get("layer"), sel.get("head"))} · ${what()}s ≥ ${model.get("threshold")}`;
    ui.root.dataset.layer = String(sel.get("layer"));
    ui.root.dataset.head = sel.get("head") === null ? sel.get("fusion") : String(sel.get("head"));
    const raw = getMap(key);
    clearEdges();
    const hide = model.get("hide");
    values = raw ? displayMap(raw, nQuery, nKey, { hide, visible }) : null;
    sinkLine(sink, model, tokens, values ? sinkOfMap(values, nQuery, nKey, { visible, hide }) : null, "this map's attention (mean over query rows)", signal, { menu });
    const ink = theme(ui.root);
    ui.status.textContent = raw ? "" : missingMapText(maps.info(), key);
    const edges = raw ? edgesOf(key, values, model.get("threshold"), hide) : [];
    const notes = hideNotes(tokens, hide);
    let layout = model.get("arrangement");
    if (layout === "force" && nKey > FORCE_MAX) { layout = "arc"; notes.push(`force layout is limited to ${FORCE_MAX} tokens; showing arcs`); }
    const base = Hh - 70;
    if (layout === "arc") {
      const xs = arcLayout(nKey, W - 40, 16); // labels slant right: keep room for the last one
      pos = { x: xs, y: new Float64Array(nKey).fill(base) };
    } else {
      pos = forceLayout(nKey, edges, { width: W, height: Hh, seed: 11 });
    }
    scale = viewScale(model, 1);
    const cmap = model.get("colormap");
    // Weakest first so strong edges are drawn on top.
    for (const e of [...edges].reverse()) {
      const t = scale(e.weight);
      const d = layout === "arc" ? arcPath(pos.x[e.source], pos.x[e.target], base, -1, base - 14)
        : `M${pos.x[e.source].toFixed(1)},${pos.y[e.source].toFixed(1)}L${pos.x[e.target].toFixed(1)},${pos.y[e.target].toFixed(1)}`;
      const colour = cssColor(colorAt(cmap, t));
      const p = svg("path", { d, fill: "none", stroke: colour, "stroke-width": (0.5 + 4 * e.weight).toFixed(2), "stroke-opacity": LIT, class: "aw-edge" });
      p.dataset.tip = `query ${e.source} ${exactToken(tokens[e.source])} → key ${e.target} ${exactToken(tokens[e.target])}\n${what()} ${e.weight.toPrecision(3)}`;
      // Arrowhead at the key end: the query attends to the key.
      const x1 = pos.x[e.source], y1 = pos.y[e.source], x2 = pos.x[e.target], y2 = pos.y[e.target];
      const from = layout === "arc" ? [(x1 + x2) / 2, base - 2 * Math.min(base - 14, Math.abs(x2 - x1) / 2)] : [x1, y1];
      const tip = arrowHead(from[0], from[1], x2, y2, 7 + 4 * e.weight, layout === "arc" ? 4 : 4.5);
      const a = tip ? svg("path", { d: tip, fill: colour, "fill-opacity": LIT, stroke: ink.fg, "stroke-width": 0.6, class: "aw-arrow" }) : null;
      if (a) a.dataset.tip = p.dataset.tip;
      addEdge(p, e, a);
    }
    drawNodes(layout, hide, ink);
    if (maps.hasNorms) notes.unshift(maps.measure() === "norms" ? NORMS_NOTE : "attention weights");
    notes.push(`${edges.length} edge${edges.length === 1 ? "" : "s"} ≥ ${model.get("threshold")}; width and colour by weight; ` +
      (layout === "arc" ? "each arc runs from a query to a key it attends to (arrowhead at the key)" : "arrows point from query to key; strongly attending tokens are pulled together"));
    notes.push(anchorNote(scale, nKey));
    drawLegend(ui.legend, scale, cmap, notes, 180, null, uniformShare(nKey));
    onHover();
  }

  // Several heads of the layer at once: each head's edges in its own colour, width by weight.
  function drawOverlay(overlay) {
    const layer = sel.get("layer"), hide = model.get("hide"), threshold = model.get("threshold");
    ui.title.textContent = `${graphName()} · layer ${layer} · heads ${overlay.join(", ")} overlaid · ${what()}s ≥ ${threshold}`;
    ui.root.dataset.layer = String(layer);
    ui.root.dataset.head = `overlay:${overlay.join(",")}`;
    clearEdges();
    values = null; scale = null; // colour means head here, not weight: no colour bar in the PNG
    sinkLine(sink, model, tokens, null, "", signal);
    const ink = theme(ui.root);
    const missing = [], edges = [];
    overlay.forEach((hd, k) => {
      const raw = getMap(mapKey(layer, hd, sel.get("fusion")));
      if (!raw) { missing.push(hd); return; }
      const v = displayMap(raw, nQuery, nKey, { hide, visible });
      for (const e of edgesOf(mapKey(layer, hd, sel.get("fusion")), v, threshold, hide)) edges.push({ ...e, head: hd, k });
    });
    ui.status.textContent = missing.length
      ? `Heads ${missing.join(", ")} of layer ${layer} are not in this view's data (raise max_bytes, or run the kernel).` : "";
    let layout = model.get("arrangement");
    if (layout === "force" && nKey > FORCE_MAX) layout = "arc";
    const base = Hh - 70;
    pos = layout === "arc" ? { x: arcLayout(nKey, W - 40, 16), y: new Float64Array(nKey).fill(base) }
      : forceLayout(nKey, edges, { width: W, height: Hh, seed: 11 });
    edges.sort((a, b) => a.weight - b.weight);
    for (const e of edges) {
      const x1 = pos.x[e.source], y1 = pos.y[e.source], x2 = pos.x[e.target], y2 = pos.y[e.target];
      // Each head's arcs a little higher than the previous head's, so shared edges stay apart.
      const lift = 1 + 0.18 * e.k;
      const hgt = Math.min(base - 14, Math.abs(x2 - x1) / 2) * lift;
      const mx = (x1 + x2) / 2;
      const d = layout === "arc" ? `M${x1.toFixed(1)},${base}Q${mx.toFixed(1)},${(base - 2 * hgt).toFixed(1)} ${x2.toFixed(1)},${base}`
        : `M${x1.toFixed(1)},${y1.toFixed(1)}L${x2.toFixed(1)},${y2.toFixed(1)}`;
      const colour = HEAD_COLOURS[e.k];
      const p = svg("path", { d, fill: "none", stroke: colour, "stroke-width": (0.6 + 3.5 * e.weight).toFixed(2), "stroke-opacity": LIT, class: "aw-edge" });
      p.dataset.tip = `head ${e.head}: query ${e.source} ${exactToken(tokens[e.source])} → key ${e.target} ${exactToken(tokens[e.target])}\n${what()} ${e.weight.toPrecision(3)}`;
      const from = layout === "arc" ? [mx, base - 2 * hgt] : [x1, y1];
      const tip = arrowHead(from[0], from[1], x2, y2, 7 + 4 * e.weight, layout === "arc" ? 4 : 4.5);
      const a = tip ? svg("path", { d: tip, fill: colour, "fill-opacity": LIT, stroke: ink.fg, "stroke-width": 0.6, class: "aw-arrow" }) : null;
      if (a) a.dataset.tip = p.dataset.tip;
      addEdge(p, e, a);
    }
    drawNodes(layout, hide, ink);
    const key = h("div", { style: "display:flex;flex-wrap:wrap;gap:4px 10px;align-items:center" });
    overlay.forEach((hd, k) => key.append(h("span", { style: "display:inline-flex;align-items:center;gap:4px" },
      h("span", { style: `display:inline-block;width:14px;height:4px;border-radius:2px;background:${HEAD_COLOURS[k]}` }), `head ${hd}`)));
    const notes = hideNotes(tokens, hide).concat([`${edges.length} edges ≥ ${threshold}; colour by head, width by weight; arrowhead at the key`]);
    ui.legend.replaceChildren(h("div", {}, key, ...notes.map((n) => h("div", { class: "aw-note", text: n }))));
    onHover();
  }

  function drawNodes(layout, hide, ink) {
    // Arc labels are rotated 60 degrees: one needs about 14 px of the axis (11 px text / sin 60 plus
    // a little air). The spacing is that of the nodes as placed, inside the margins, not W / nKey.
    const spacing = nKey > 1 ? Math.abs(pos.x[nKey - 1] - pos.x[0]) / (nKey - 1) : W;
    const every = layout === "arc" ? Math.max(1, Math.ceil(14 / spacing)) : 1;
    nodeLabels = { every, made: new Map(), shown: new Set(), make: null };
    // No transform per node (each would be a layer of its own for the browser to sort on every
    // repaint): arc labels share one rotation, the node layer's, and every node is placed in its
    // frame, which is the page's turned back by 60 degrees.
    const arc = layout === "arc";
    const cos = Math.cos(Math.PI / 3), sin = Math.sin(Math.PI / 3);
    if (arc) nodeLayer.setAttribute("transform", "rotate(60)"); else nodeLayer.removeAttribute("transform");
    for (let i = 0; i < nKey; i++) {
      const x = arc ? pos.x[i] * cos + pos.y[i] * sin : pos.x[i], y = arc ? pos.y[i] * cos - pos.x[i] * sin : pos.y[i];
      const g = svg("g", { class: "aw-tok aw-node", "data-token-index": i, style: "cursor:pointer" });
      const hidden = hide.includes(i);
      g.append(svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 4, fill: hidden ? ink.border : ink.muted }));
      const make = () => {
        const label = svg("text", { x: (x + (arc ? 7 : 6)).toFixed(1), y: (y + (arc ? 3 : -5)).toFixed(1), "font-size": 11, fill: ink.fg });
        // Position first, so repeated words and the arrows' ends can be told apart.
        const text = displayToken(tokens[i]);
        label.append(svg("tspan", { fill: ink.muted }), text.length > 14 ? text.slice(0, 13) + "…" : text);
        label.firstChild.textContent = `${i} `;
        if (hidden) label.setAttribute("text-decoration", "line-through");
        g.append(label);
        nodeLabels.made.set(i, label);
      };
      if (i % every === 0 || !arc) { make(); nodeLabels.shown.add(i); } else nodeLabels.made.set(i, make);
      g.dataset.tip = nodeTip(i);
      nodeLayer.append(g);
      marks.add(i, g);
    }
  }

  // Hovered token, else the query row of the generation step: its edges stay bright (a hovered
  // token's edges both ways, a step row's outgoing ones), the others fade.
  function focusOf() {
    const hov = sel.get("hovered_token");
    const stepRow = sel.get("step") === null || sel.get("step") === undefined ? null : sel.get("pinned_token");
    const focus = hov ?? stepRow;
    return { focus: focus ?? null, both: hov !== null && hov !== undefined };
  }
  const isOn = (e, { focus, both }) => focus === null || e.source === focus || (both && e.target === focus);

  // Thinned arc labels: the hovered and pinned nodes are always labelled, and the thinned labels
  // next to them give way (lib/rowlabels.js labelsWithFocus), so a neighbour's label is never read
  // as theirs. Labels of thinned nodes are made on first need.
  let nodeLabels = null;
  function focusNodeLabels() {
    if (!nodeLabels || nodeLabels.every <= 1) return;
    const { every, made, shown } = nodeLabels;
    const regular = [];
    for (let i = 0; i < nKey; i += every) regular.push(i);
    const want = new Set(labelsWithFocus(regular, every, [sel.get("hovered_token"), sel.get("pinned_token")], { start: 0, end: nKey }));
    for (const i of shown) if (!want.has(i)) { const l = made.get(i); if (l && typeof l !== "function") l.style.display = "none"; }
    for (const i of want) {
      if (typeof made.get(i) === "function") made.get(i)();
      const l = made.get(i);
      if (l && typeof l !== "function") l.style.display = "";
    }
    nodeLabels.shown = want;
  }

  function onHover() {
    marks.hover(sel.get("hovered_token"));
    marks.pin(sel.get("pinned_token"));
    focusNodeLabels();
    const f = focusOf();
    ui.root.dataset.focus = f.focus === null ? "" : String(f.focus);
    const key = `${f.focus}|${f.both}`;
    if (key === lit) return;
    lit = key;
    edgeLayer.style.opacity = f.focus === null ? "" : String(DIM / LIT);
    const bright = [];
    if (f.focus !== null) {
      for (const k of byToken.get(f.focus) ?? []) {
        const { p, a, e } = edgeEls[k];
        if (!isOn(e, f)) continue;
        const copy = p.cloneNode(false);
        copy.setAttribute("class", "aw-edge-lit");
        bright.push(copy);
        if (a) { const ac = a.cloneNode(false); ac.setAttribute("class", "aw-arrow-lit"); bright.push(ac); }
      }
    }
    // A blank graph says why: no edge passes the threshold at all, or none from the step's query.
    const stepFocus = f.focus !== null && !f.both;
    const empty = !edgeEls.length ? `no edge over ${model.get("threshold")}; lower the threshold`
      : stepFocus && !bright.length ? `no edge over ${model.get("threshold")} at this step (query ${f.focus} ${exactToken(tokens[f.focus])})` : "";
    ui.root.dataset.empty = empty;
    if (empty) {
      const note = svg("text", { x: (W / 2).toFixed(1), y: 40, "text-anchor": "middle", "font-size": 12, fill: theme(ui.root).muted, class: "aw-graph-empty" });
      note.textContent = empty;
      bright.push(note);
    }
    litLayer.replaceChildren(...bright);
  }

  function drawExport() {
    const { canvas: out, ctx } = exportCanvas(W, Hh + 60);
    ctx.fillStyle = "#1f2328"; ctx.font = "600 13px system-ui,sans-serif";
    ctx.fillText(ui.title.textContent, 8, 16);
    ctx.translate(0, 26);
    // Same path strings as the SVG, so the PNG matches what is on screen.
    const f = focusOf();
    for (const { p, a, e } of edgeEls) {
      ctx.strokeStyle = p.getAttribute("stroke");
      ctx.lineWidth = Number(p.getAttribute("stroke-width"));
      ctx.globalAlpha = isOn(e, f) ? LIT : DIM;
      ctx.stroke(new Path2D(p.getAttribute("d")));
      if (a) { ctx.fillStyle = a.getAttribute("fill"); ctx.fill(new Path2D(a.getAttribute("d"))); }
    }
    ctx.globalAlpha = 1;
    ctx.font = "10px system-ui,sans-serif";
    const arc = pos.y.every((y) => y === pos.y[0]);
    for (const g of nodeLayer.children) {
      const i = Number(g.getAttribute("data-token-index"));
      ctx.fillStyle = "#57606a";
      ctx.beginPath(); ctx.arc(pos.x[i], pos.y[i], 3.5, 0, 2 * Math.PI); ctx.fill();
      const label = g.querySelector("text");
      if (!label || label.style.display === "none") continue;
      ctx.save(); ctx.fillStyle = "#1f2328";
      ctx.translate(pos.x[i], pos.y[i]);
      if (arc) { ctx.rotate(Math.PI / 3); ctx.fillText(label.textContent, 7, 3); } else ctx.fillText(label.textContent, 6, -5);
      ctx.restore();
    }
    if (scale) {
      paintLegend(ctx, scale, model.get("colormap"), 10, Hh + 2, 200);
      paintLegendText(ctx, legendLines(ui.legend).slice(0, 2), 220, Hh + 14);
    }
    return out;
  }

  // Node: the token, where it looks most and what looks at it most. Edge: query, key and weight.
  function nodeTip(i) {
    let text = `${i} ${exactToken(tokens[i])}`;
    if (!values) return text;
    const qi = i - (nKey - nQuery);
    if (qi >= 0) {
      let best = -1, w = 0;
      for (let j = 0; j < nKey; j++) if (values[qi * nKey + j] > w) { w = values[qi * nKey + j]; best = j; }
      if (best >= 0) text += `\nattends most to ${best} ${exactToken(tokens[best])}: ${w.toPrecision(3)}`;
    }
    let best = -1, w = 0;
    for (let q = 0; q < nQuery; q++) if (values[q * nKey + i] > w) { w = values[q * nKey + i]; best = q + nKey - nQuery; }
    if (best >= 0) text += `\nattended most by ${best} ${exactToken(tokens[best])}: ${w.toPrecision(3)}`;
    return text;
  }
  wireTips(root, ui, signal);

  sel.on(["layer", "head", "fusion"], draw);
  sel.on(["hovered_token", "pinned_token", "step"], onHover);
  maps.on(draw);
  for (const name of ["overlay", "threshold", "arrangement", "scale", "gamma", "colormap", "hide", "_exact_edges"]) model.on(`change:${name}`, draw);
  onThemeChange(draw, signal);
  // A new width places the nodes again across it; widths past the widest graph change nothing.
  onWidthChange(ui.root, (width) => {
    const w = widthFor(width);
    if (w === W) return;
    W = w;
    root.setAttribute("width", String(W));
    root.setAttribute("viewBox", `0 0 ${W} ${Hh}`);
    draw();
  }, signal);
  draw();
  return () => el.replaceChildren();
}
