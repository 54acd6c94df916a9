// RolloutBar: attention rollout of one query token as bars over the tokens.
import { slice0 } from "../../lib/decode.js";
import { payloadCache, formatWeight } from "../../lib/store.js";
import { colorAt, cssColor } from "../../lib/colormap.js";
import { connectSelection } from "../../lib/selection.js";
import {
  h, makeRoot, tokenElement, TokenMarks, exactToken, displayToken, wireTokens, whenSized, onWidthChange,
} from "../../ui/dom.js";
import { scaleControls, viewScale, pngButton, exportCanvas, stepControl, sinkBox, sinkLine } from "../../ui/controls.js";
import { drawLegend, paintLegend, hideNotes } from "../../ui/legend.js";
import { showTip, hideTip } from "../../ui/tips.js";
import { theme } from "../../ui/theme.js";
import { sinkOfVector } from "../../lib/sink.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { barLayout, barCaption, barValue } from "../../lib/bars.js";

// Embedded in a dashboard (`embedded`), the dashboard's toolbar holds the scale, colour, hiding and
// step controls and `menu` offers the PNG: the view draws none of them, only its bars and one
// caption line.
export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "rollout");
  await whenSized(ui.root);
  // Shorter bars in a dashboard, so every view starts on a laptop's first screen.
  const BAR_H = embedded ? 52 : 120;
  // Above the bars, a band for the value printed over a cut bar (lib/bars.js).
  const LABEL_H = 12;
  const sink = embedded ? null : sinkBox();
  if (sink) ui.body.before(sink);
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const n = tokens.length;
  const marks = new TokenMarks();
  // Beside a view that switches to norms, the title says that the rollout composes weights.
  const measureName = model.get("_measure_name") ?? "";
  const syncScale = embedded ? () => {} : scaleControls(model, ui.controls, signal);
  if (embedded) menu?.png("rollout", "attention-rollout.png", () => drawExport());
  else pngButton(ui.controls, "attention-rollout.png", () => drawExport(), signal);

  const step = embedded ? null : stepControl(sel, tokens, signal);
  if (step) ui.body.append(step.node);

  // Columns fit the slot: narrower columns and thinned labels before a scroll bar.
  const colFor = (width) => Math.max(4, Math.min(26, Math.floor(Math.min(640, width ? width - 24 : 640) / n)));
  let colW = colFor(ui.root.clientWidth);
  let every = Math.max(1, Math.ceil(13 / colW));
  // Bars and labels are drawn on one canvas; over it, one light column per token carries the
  // token's index, its tooltip and the hover and pin marks (a DOM bar and a rotated label per
  // token made every hover restyle and re-layer a thousand elements on long inputs).
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const BASE = LABEL_H + BAR_H;
  const COL_H = BASE + 60;
  let rowW = n * colW;
  const row = h("div", { class: "aw-bars", style: "overflow-x:auto;padding-bottom:2px" });
  const inner = h("div", { style: `position:relative;width:${rowW}px;height:${COL_H}px` });
  const canvas = h("canvas", { class: "aw-bars-canvas", "data-baseline": String(BASE), "data-bar-height": String(BAR_H), width: Math.max(1, Math.round(rowW * dpr)), height: Math.round(COL_H * dpr), style: `position:absolute;left:0;top:0;width:${rowW}px;height:${COL_H}px;pointer-events:none` });
  const colBox = h("div", { style: `position:absolute;left:0;top:0;display:flex;width:${rowW}px;height:${COL_H}px` });
  const cols = [];
  for (let i = 0; i < n; i++) {
    const col = tokenElement(tokens, i, "div", "aw-col");
    col.textContent = "";
    col.style.cssText = `flex:0 0 ${colW}px;height:${COL_H}px;cursor:pointer`;
    colBox.append(col);
    cols.push({ col });
    marks.add(i, col);
  }
  // The value of a cut bar, printed above it (text, so a reader and a test can read it).
  const cutLabel = h("span", { class: "aw-bar-value", hidden: true,
    style: `position:absolute;top:0;height:${LABEL_H}px;line-height:${LABEL_H}px;font-size:10px;white-space:nowrap;transform:translateX(-50%);pointer-events:none;color:var(--aw-fg)` });
  inner.append(canvas, colBox, cutLabel);
  row.append(inner);
  // Bars (heights and colours per token) and labels, painted when the rollout or its scale changes;
  // `cut` is the position of a bar cut at the top (a break mark across it), or -1.
  function paintBars(heights, colours, cut = -1) {
    const ctx = canvas.getContext("2d");
    const ink = theme(ui.root);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const bw = Math.max(2, colW - 2), x0 = (colW - bw) / 2;
    if (heights) for (let j = 0; j < n; j++) {
      if (!(heights[j] > 0)) continue;
      ctx.fillStyle = colours[j];
      ctx.fillRect(j * colW + x0, BASE - heights[j], bw, heights[j]);
    }
    // On a dark background the low colours of the map nearly vanish: a light top edge marks each
    // bar's height (inside the bar, so the height is unchanged).
    if (heights && ink.dark) {
      ctx.fillStyle = ink.muted;
      for (let j = 0; j < n; j++) if (heights[j] > 0) ctx.fillRect(j * colW + x0, BASE - heights[j], bw, 1);
    }
    if (heights && cut >= 0) breakMark(ctx, cut * colW + x0, bw, LABEL_H + 6);
    cutLabel.hidden = !(heights && cut >= 0);
    if (!cutLabel.hidden) cutLabel.style.left = `${cut * colW + colW / 2}px`;
    ctx.fillStyle = ink.fg;
    ctx.font = "11px system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let j = 0; j < n; j += every) {
      const text = displayToken(tokens[j]);
      if (!text) continue;
      ctx.save();
      ctx.beginPath(); ctx.rect(j * colW, BASE + 2, colW * every, 56); ctx.clip();
      ctx.translate(j * colW + colW / 2, BASE + 2);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(text.length > 9 ? text.slice(0, 8) + "…" : text, 0, 0);
      ctx.restore();
    }
  }
  paintBars(null, null);
  // A new width gives the columns a new width: the boxes and the canvas take it and the bars are
  // painted again. Widths past the widest columns change nothing.
  function fitWidth(width) {
    const w = colFor(width);
    if (w === colW) return;
    colW = w; every = Math.max(1, Math.ceil(13 / colW)); rowW = n * colW;
    for (const box of [inner, colBox]) box.style.width = `${rowW}px`;
    canvas.style.width = `${rowW}px`;
    canvas.width = Math.max(1, Math.round(rowW * dpr));
    for (const c of cols) c.col.style.flexBasis = `${colW}px`;
    paintBars(null, null);
    draw();
  }
  // One line says how to read the bars; the longer explanation is its tooltip.
  const ABOUT = "Bars: how much each input token flows into the query token through all layers (click a token to roll out from it).";
  const CAPTION = "bars: how much each token flows into the query token through all layers";
  const caption = h("div", { class: "aw-muted aw-caption", style: "margin-top:2px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis", text: CAPTION, title: ABOUT });
  ui.body.append(row, caption);
  wireTokens(row, sel, signal);

  let scale = null, values = null, layout = null;
  // The rollout crosses coded and deflated: decoded (asynchronously) once per payload.
  const coded = payloadCache(model);
  const ROLLOUTS = ["_rollout", "_rollout_alt"];
  const decodeOnce = (p) => coded.get(p);
  const whenDecoded = (fn) => () => coded.ready(ROLLOUTS).then(() => { if (!signal.aborted) fn(); });
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  // The kernel sends the rollout for the current hiding and for the first token's hiding toggled.
  function current() {
    const want = model.get("hide");
    const alt = model.get("_rollout_alt");
    if (alt && alt.shape && same(want, model.get("_rollout_alt_hide")) && !same(want, model.get("_rollout_hide"))) {
      return { data: decodeOnce(alt), hide: model.get("_rollout_alt_hide") };
    }
    return { data: decodeOnce(model.get("_rollout")), hide: model.get("_rollout_hide") };
  }
  function query() {
    const p = sel.get("pinned_token");
    return p !== null && p !== undefined ? p : model.get("query");
  }
  // Long inputs: the state holds rows of some query tokens only (`rows`); ask the kernel for others.
  const ask = h("button", { class: "aw-btn aw-rollout-ask", text: "compute rollout", style: "display:none;margin-left:6px" });
  ui.status.after(ask);
  let asked = null;
  ask.addEventListener("click", () => {
    asked = query();
    model.send({ type: "rollout-row", query: asked });
    ask.disabled = true;
    ask.textContent = "computing… (needs a running kernel)";
  }, { signal });
  function missing(q, data) {
    const held = data.rows ?? [];
    const shown = held.slice(0, 12).map((i) => `${i} ${exactToken(tokens[i])}`).join(", ");
    return `The rollout into token ${q} ${exactToken(tokens[q])} is not in this view's data: for ${n} tokens it holds ` +
      `rows of ${held.length} query token${held.length === 1 ? "" : "s"} only (${shown}${held.length > 12 ? ", …" : ""}). ` +
      (data.eager ? "With a running kernel it arrives in a moment; " : "Computing one row takes a pass over every layer; ") +
      "an exported page keeps the rows it was saved with.";
  }
  function draw() {
    syncScale();
    const q = query();
    const { data, hide } = current();
    if (!data) return; // still being decoded; drawn when it is
    ui.root.dataset.query = String(q);
    let index = q;
    if (data.rows) index = data.rows.indexOf(q);
    if (index < 0) {
      // The kernel computes rows in a worker thread and reports how far the pass has got.
      const pending = model.get("_pending") ?? {};
      const busy = (pending.rows ?? []).includes(q);
      ui.root.dataset.progress = busy ? String(pending.done ?? 0) : "";
      ui.status.textContent = busy
        ? `Computing the rollout into token ${q} ${exactToken(tokens[q])} in the kernel: ${Math.round(100 * (pending.done ?? 0))}% of the layers`
        : pending.error ? `The kernel could not compute the rollout: ${pending.error}` : missing(q, data);
      ask.style.display = data.eager || busy ? "none" : "";
      if (asked !== q) { ask.disabled = false; ask.textContent = `compute rollout into token ${q}`; }
      ui.title.textContent = `Attention rollout${measureName ? ` of ${measureName}` : ""} into token ${q} ${exactToken(tokens[q])}`;
      paintBars(null, null);
      layout = null;
      caption.textContent = CAPTION;
      caption.title = ABOUT;
      delete ui.root.dataset.cut;
      for (const c of cols) c.col.style.outline = "";
      if (cols[q]) cols[q].col.style.outline = "2px solid var(--aw-accent)";
      values = null;
      return;
    }
    ui.status.textContent = "";
    ask.style.display = "none";
    values = slice0(data, index);
    let vmax = 0;
    for (let j = 0; j < n; j++) if (values[j] > vmax) vmax = values[j];
    // Rollout through many layers spans many decades (a sink takes ~1, the rest 1e-5..1e-8): the log
    // floor follows the data down to nine decades so the other bars have height.
    scale = viewScale(model, vmax || 1, values, 9);
    if (sink) sinkLine(sink, model, tokens, sinkOfVector(values, { hide }), `the rollout into token ${q}`, signal);
    const cmap = model.get("colormap");
    // Heights: proportional to the value on the linear scale (a bar that dwarfs the rest cut, the
    // others drawn against the largest of them); colours: the absolute weight on the view's scale.
    layout = barLayout(values, scale, { hide });
    const heights = new Float32Array(n), colours = new Array(n);
    const border = theme(ui.root).border;
    for (let j = 0; j < n; j++) {
      const t = scale(values[j]);
      const f = layout.fraction[j];
      heights[j] = f > 0 ? Math.max(1, f * BAR_H) : 0;
      colours[j] = hide.includes(j) ? border : cssColor(colorAt(cmap, t));
      cols[j].col.style.outline = j === q ? "2px solid var(--aw-accent)" : "";
      cols[j].col.title = `${j} ${exactToken(tokens[j])}: ${values[j].toPrecision(3)}`;
    }
    paintBars(heights, colours, layout.clipped);
    if (layout.clipped >= 0) cutLabel.textContent = barValue(values[layout.clipped]);
    const about = barCaption(layout, values, (j) => `token ${j} ${exactToken(tokens[j])}`);
    caption.textContent = about.text;
    caption.title = `${about.title} Colours show the absolute weight on the legend's scale. ${ABOUT}`;
    ui.root.dataset.barTop = String(layout.top);
    ui.root.dataset.cut = String(layout.clipped);
    ui.title.textContent = `Attention rollout${measureName ? ` of ${measureName}` : ""} into token ${q} ${exactToken(tokens[q])}`;
    const notes = hideNotes(tokens, hide);
    const want = model.get("hide");
    if (!same(want, hide)) notes.push(`rollout was computed with hide = [${hide}]; applying [${want}] needs the kernel`);
    notes.push(anchorNote(scale, n));
    drawLegend(ui.legend, scale, cmap, notes, 180, null, uniformShare(n));
  }

  row.addEventListener("mousemove", (ev) => {
    const t = ev.target.closest("[data-token-index]");
    if (!t || !values) { hideTip(ui.tip); return; }
    const j = Number(t.dataset.tokenIndex);
    showTip(ui.tip, ui.root, `${j} ${exactToken(tokens[j])}\nrollout ${formatWeight(values[j], current().data?.precision ?? 0)}`, ev);
  }, { signal });
  row.addEventListener("mouseleave", () => hideTip(ui.tip), { signal });

  function drawExport() {
    if (!values || !layout) return exportCanvas(320, 40).canvas;
    const W = Math.max(320, n * colW + 40), Hh = BASE + 168;
    const { canvas: out, ctx } = exportCanvas(W, Hh);
    ctx.fillStyle = "#1f2328"; ctx.font = "600 13px system-ui,sans-serif";
    ctx.fillText(ui.title.textContent, 8, 16);
    const cmap = model.get("colormap");
    const top = 26, base = top + BASE, bw = colW - 2;
    for (let j = 0; j < n; j++) {
      const f = layout.fraction[j], hj = f > 0 ? Math.max(1, f * BAR_H) : 0;
      ctx.fillStyle = cssColor(colorAt(cmap, scale(values[j])));
      ctx.fillRect(20 + j * colW + 1, base - hj, bw, hj);
      if (j % every === 0) {
        ctx.save(); ctx.fillStyle = "#1f2328"; ctx.font = "10px system-ui,sans-serif";
        ctx.translate(20 + j * colW + colW / 2 + 3, base + 4); ctx.rotate(-Math.PI / 2); ctx.textAlign = "right";
        ctx.fillText(displayToken(tokens[j]).slice(0, 10), 0, 0); ctx.restore();
      }
    }
    const cut = layout.clipped;
    if (cut >= 0) {
      breakMark(ctx, 20 + cut * colW + 1, bw, top + LABEL_H + 6, "#ffffff");
      ctx.fillStyle = "#1f2328"; ctx.font = "10px system-ui,sans-serif"; ctx.textAlign = "center";
      ctx.fillText(barValue(values[cut]), 20 + cut * colW + colW / 2, top + LABEL_H - 3);
      ctx.textAlign = "left";
    }
    ctx.fillStyle = "#57606a"; ctx.font = "11px system-ui,sans-serif";
    ctx.fillText(caption.textContent, 8, base + 76);
    paintLegend(ctx, scale, cmap, 20, base + 94, 200);
    return out;
  }

  function onHover() { marks.hover(sel.get("hovered_token")); marks.pin(sel.get("pinned_token")); }
  sel.on(["pinned_token"], draw);
  sel.on(["hovered_token", "pinned_token"], onHover);
  for (const name of ["_rollout", "_rollout_hide", "_rollout_alt", "_pending", "query", "scale", "gamma", "colormap", "hide"]) model.on(`change:${name}`, whenDecoded(draw));
  await coded.ready(ROLLOUTS);
  onWidthChange(ui.root, fitWidth, signal);
  draw();
  onHover();
  return () => el.replaceChildren();
}

/**
 * The break mark across a cut bar: a slanted gap at `y` over the bar at `x`..`x + w`, cleared to
 * the background (the live canvas is transparent there) or painted in `fill` (an export's white).
 */
function breakMark(ctx, x, w, y, fill = null) {
  ctx.save();
  if (fill) ctx.fillStyle = fill;
  else ctx.globalCompositeOperation = "destination-out";
  ctx.beginPath();
  ctx.moveTo(x - 1, y + 2); ctx.lineTo(x + w + 1, y - 2); ctx.lineTo(x + w + 1, y + 1); ctx.lineTo(x - 1, y + 5);
  ctx.closePath();
  ctx.fill();
  ctx.restore();
}
