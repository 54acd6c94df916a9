// AttentionGraph: tokens as nodes, edges above a threshold, arc or force layout, in SVG.
import { colorAt, cssColor, fmt } from "../lib/colormap.js";
import { arcLayout, arcPath, forceLayout } from "../lib/layout.js";
import { displayMap, edgesAbove, visibility } from "../lib/maps.js";
import { decode } from "../lib/decode.js";
import { connectSelection } from "../lib/selection.js";
import { mapCache, mapKey, missingMapText } from "./heatmap.js";
import {
  h, makeRoot, TokenMarks, select, setTrait, scaleControls, viewScale, drawLegend, paintLegend, hideNotes, pngButton,
  exportCanvas, showTip, hideTip, displayToken, exactToken, wireTokens, legendLines, paintLegendText, stepControl,
} from "./common.js";

const NS = "http://www.w3.org/2000/svg";
const FORCE_MAX = 300;
function svg(tag, attrs = {}) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  return n;
}

export default async function render({ model, el, host, signal }) {
  const ui = makeRoot(el, "graph");
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query");
  const maskPayload = model.get("_mask");
  const visible = visibility({ nQuery, nKey, causal: model.get("_causal"), mask: maskPayload ? decode(maskPayload).values : null });
  const getMap = mapCache(model);
  const marks = new TokenMarks();

  const slider = h("input", { type: "range", min: "0", max: "1", step: "0.01", value: String(model.get("threshold")), style: "width:110px" });
  const sliderVal = h("span", { text: model.get("threshold").toFixed(2), style: "min-width:2.5em" });
  slider.addEventListener("input", () => { sliderVal.textContent = Number(slider.value).toFixed(2); }, { signal });
  slider.addEventListener("change", () => setTrait(model, "threshold", Number(slider.value)), { signal });
  const layoutSel = select("layout", [["arc", "arc"], ["force", "force"]], model.get("arrangement"), (v) => setTrait(model, "arrangement", v), signal);
  ui.controls.append(h("label", {}, "threshold", slider, sliderVal), layoutSel.node);
  const syncScale = scaleControls(model, ui.controls, signal);
  pngButton(ui.controls, "attention-graph.png", () => drawExport(), signal);

  const step = stepControl(sel, tokens, signal);
  if (step) ui.body.append(step.node);

  const W = Math.max(420, Math.min(900, nKey * 22)), Hh = 300;
  const root = svg("svg", { width: W, height: Hh, viewBox: `0 0 ${W} ${Hh}`, style: "display:block;font:11px system-ui,sans-serif" });
  ui.body.append(root);
  const edgeLayer = svg("g"), nodeLayer = svg("g");
  root.append(edgeLayer, nodeLayer);
  wireTokens(root, sel, signal);

  let edgeEls = [], scale = null, pos = null;

  function draw() {
    syncScale();
    slider.value = String(model.get("threshold"));
    sliderVal.textContent = model.get("threshold").toFixed(2);
    layoutSel.input.value = model.get("arrangement");
    const key = mapKey(sel.get("layer"), sel.get("head"), sel.get("fusion"));
    ui.title.textContent = `Graph · layer ${sel.get("layer")} · ${sel.get("head") === null ? `${sel.get("fusion")} of heads` : `head ${sel.get("head")}`} · weights ≥ ${model.get("threshold")}`;
    ui.root.dataset.layer = String(sel.get("layer"));
    ui.root.dataset.head = sel.get("head") === null ? sel.get("fusion") : String(sel.get("head"));
    const raw = getMap(key);
    edgeLayer.replaceChildren(); nodeLayer.replaceChildren(); marks.clear(); edgeEls = [];
    const hide = model.get("hide");
    const values = raw ? displayMap(raw, nQuery, nKey, { hide, visible }) : null;
    ui.status.textContent = raw ? "" : missingMapText(model, key);
    const edges = values ? edgesAbove(values, nQuery, nKey, model.get("threshold")) : [];
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
      const p = svg("path", { d, fill: "none", stroke: cssColor(colorAt(cmap, t)), "stroke-width": (0.5 + 4 * e.weight).toFixed(2), "stroke-opacity": 0.85 });
      p.append(svg("title"));
      p.firstChild.textContent = `${e.source} ${exactToken(tokens[e.source])} → ${e.target} ${exactToken(tokens[e.target])}: ${e.weight.toPrecision(3)}`;
      edgeLayer.append(p);
      edgeEls.push({ p, e });
    }
    const every = layout === "arc" ? Math.max(1, Math.ceil(12 / (W / nKey))) : 1;
    for (let i = 0; i < nKey; i++) {
      const g = svg("g", { class: "aw-tok aw-node", "data-token-index": i, transform: `translate(${pos.x[i].toFixed(1)},${pos.y[i].toFixed(1)})`, style: "cursor:pointer" });
      const hidden = hide.includes(i);
      g.append(svg("circle", { r: 3.5, fill: hidden ? "#d0d7de" : "#57606a" }));
      if (i % every === 0 || layout !== "arc") {
        const label = svg("text", layout === "arc" ? { transform: "rotate(60) translate(7,3)", "font-size": 10 } : { x: 6, y: -5, "font-size": 10 });
        const text = displayToken(tokens[i]);
        label.textContent = text.length > 16 ? text.slice(0, 15) + "…" : text;
        if (hidden) label.setAttribute("text-decoration", "line-through");
        g.append(label);
      }
      const title = svg("title");
      title.textContent = `${i} ${exactToken(tokens[i])}`;
      g.append(title);
      nodeLayer.append(g);
      marks.add(i, g);
    }
    notes.push(`${edges.length} edge${edges.length === 1 ? "" : "s"} ≥ ${model.get("threshold")}; width and colour by weight; ` +
      (layout === "arc" ? "arcs join each query to the keys it attends to" : "strongly attending tokens are pulled together"));
    drawLegend(ui.legend, scale, cmap, notes);
    onHover();
  }

  // Hovered token, else the query row of the generation step: its edges stay bright.
  function onHover() {
    const hov = sel.get("hovered_token");
    marks.hover(hov);
    marks.pin(sel.get("pinned_token"));
    const stepRow = sel.get("step") === null || sel.get("step") === undefined ? null : sel.get("pinned_token");
    const focus = hov ?? stepRow;
    ui.root.dataset.focus = focus === null || focus === undefined ? "" : String(focus);
    for (const { p, e } of edgeEls) {
      const on = focus === null || focus === undefined || (hov === null || hov === undefined ? e.source === focus : e.source === focus || e.target === focus);
      p.setAttribute("stroke-opacity", on ? 0.85 : 0.08);
    }
  }

  function drawExport() {
    const { canvas: out, ctx } = exportCanvas(W, Hh + 60);
    ctx.fillStyle = "#1f2328"; ctx.font = "600 13px system-ui,sans-serif";
    ctx.fillText(ui.title.textContent, 8, 16);
    ctx.translate(0, 26);
    // Same path strings as the SVG, so the PNG matches what is on screen.
    for (const { p, e } of edgeEls) {
      ctx.strokeStyle = p.getAttribute("stroke");
      ctx.lineWidth = Number(p.getAttribute("stroke-width"));
      ctx.globalAlpha = Number(p.getAttribute("stroke-opacity"));
      ctx.stroke(new Path2D(p.getAttribute("d")));
    }
    ctx.globalAlpha = 1;
    ctx.font = "10px system-ui,sans-serif";
    const arc = pos.y.every((y) => y === pos.y[0]);
    for (const g of nodeLayer.children) {
      const i = Number(g.getAttribute("data-token-index"));
      ctx.fillStyle = "#57606a";
      ctx.beginPath(); ctx.arc(pos.x[i], pos.y[i], 3.5, 0, 2 * Math.PI); ctx.fill();
      const label = g.querySelector("text");
      if (!label) continue;
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

  root.addEventListener("mousemove", (ev) => {
    const t = ev.target.closest?.("path");
    if (t && t.firstChild) showTip(ui.tip, ui.root, t.firstChild.textContent, ev); else hideTip(ui.tip);
  }, { signal });
  root.addEventListener("mouseleave", () => hideTip(ui.tip), { signal });

  sel.on(["layer", "head", "fusion"], draw);
  sel.on(["hovered_token", "pinned_token", "step"], onHover);
  for (const name of ["_maps", "threshold", "arrangement", "scale", "gamma", "colormap", "hide"]) model.on(`change:${name}`, draw);
  draw();
  return () => el.replaceChildren();
}
