// AttentionHeatmap: query x key map of the selected layer/head on a canvas, labels as elements.
import { decode, slice0 } from "../lib/decode.js";
import { lut } from "../lib/colormap.js";
import { maxPool, poolFactor } from "../lib/downsample.js";
import { displayMap, visibility, visibleMax } from "../lib/maps.js";
import { connectSelection } from "../lib/selection.js";
import {
  h, makeRoot, tokenElement, TokenMarks, select, checkbox, setTrait, scaleControls, viewScale, drawLegend,
  paintLegend, hideNotes, pngButton, exportCanvas, showTip, hideTip, displayToken, exactToken, legendLines,
  legendTextWidth, paintLegendText, wireTokens,
} from "./common.js";

// Labels in exported images are cut at 12 characters so they fit the margin.
const short = (t) => { const d = displayToken(t); return d.length > 12 ? d.slice(0, 11) + "…" : d; };

const MIN_LABEL_PX = 10;

export function mapKey(layer, head, fusion) {
  return `${layer}/${head === null || head === undefined ? fusion : head}`;
}

/** Decoded maps by key, re-decoded only when the payload object changes. */
export function mapCache(model) {
  let payload = null, decoded = null, index = null;
  return (key) => {
    const p = model.get("_maps");
    if (p !== payload) {
      payload = p;
      decoded = p && p.shape ? decode(p) : null;
      index = new Map((p?.keys ?? []).map((k, i) => [k, i]));
    }
    if (!decoded || !index.has(key)) return null;
    return slice0(decoded, index.get(key));
  };
}

/** Message shown when the selected map is not in the widget state (exported page or kernel busy). */
export function missingMapText(model, key) {
  const p = model.get("_maps") ?? {};
  const mb = ((p.max_bytes ?? 0) / 2 ** 20).toFixed(1);
  return `The map for layer ${key.replace("/", ", head ")} is not in this view's data: it holds ${p.keys?.length ?? 0} ` +
    `of ${p.total ?? "?"} maps (max_bytes = ${mb} MB). With a running kernel it arrives in a moment; an exported ` +
    `page keeps the maps it was saved with (raise max_bytes to keep more).`;
}

export default async function render({ model, el, host, signal }) {
  const ui = makeRoot(el, "heatmap");
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query"), offset = nKey - nQuery;
  const maskPayload = model.get("_mask");
  const visible = visibility({ nQuery, nKey, causal: model.get("_causal"), mask: maskPayload ? decode(maskPayload).values : null });
  const getMap = mapCache(model);
  const marks = new TokenMarks();

  // Controls: layer, head/fusion, scale options, row normalisation, PNG.
  const layers = model.get("_layer_ids"), heads = model.get("_head_ids");
  const layerSel = select("layer", layers.map((l) => [l, String(l)]), sel.get("layer"), (v) => sel.set({ layer: Number(v) }, { immediate: true }), signal);
  const FUSIONS = ["mean", "max", "min"];
  const headOptions = [...FUSIONS.map((f) => [f, `${f} of heads`]), ...heads.map((x) => [x, `head ${x}`])];
  const headValue = () => (sel.get("head") === null ? sel.get("fusion") : sel.get("head"));
  const headSel = select("head", headOptions, headValue(), (v) => {
    if (FUSIONS.includes(v)) sel.set({ head: null, fusion: v }, { immediate: true });
    else sel.set({ head: Number(v) }, { immediate: true });
  }, signal);
  ui.controls.append(layerSel.node, headSel.node);
  const syncScale = scaleControls(model, ui.controls, signal);
  const rowNorm = checkbox("row-normalise", model.get("row_normalize"), (on) => setTrait(model, "row_normalize", on), signal);
  rowNorm.node.title = "scale each query row to its own maximum";
  ui.controls.append(rowNorm.node);
  pngButton(ui.controls, "attention-heatmap.png", () => drawExport(), signal);

  // Body: key labels on top, query labels on the left, canvas and overlay.
  const px = Math.max(240, Math.min(520, nKey * 14));
  const cell = px / nKey, rowPx = (px * nQuery) / nKey;
  const factor = poolFactor(nKey, px);
  const every = Math.max(1, Math.ceil(MIN_LABEL_PX / cell));
  const font = Math.max(9, Math.min(11, Math.floor(cell) - 1));
  // Label margins sized to the longest label drawn (cut at 14 characters by CSS ellipsis).
  let longest = 1;
  for (let j = 0; j < nKey; j += every) longest = Math.max(longest, Math.min(14, displayToken(tokens[j]).length));
  const textPx = longest * font * 0.62;
  const LABEL_W = Math.round(Math.max(48, Math.min(96, textPx + 10)));
  const TOP_H = Math.round(Math.max(30, Math.min(72, textPx + 6)));
  const grid = h("div", { style: `display:grid;grid-template-columns:${LABEL_W}px ${px}px;grid-template-rows:${TOP_H}px ${rowPx}px;gap:2px` });
  const topLabels = h("div", { style: "position:relative;overflow:hidden" });
  const leftLabels = h("div", { style: "position:relative;overflow:hidden" });
  const stage = h("div", { style: `position:relative;width:${px}px;height:${rowPx}px` });
  const canvas = h("canvas", { style: `position:absolute;left:0;top:0;width:${px}px;height:${rowPx}px;image-rendering:pixelated;border:1px solid #d0d7de` });
  const overlay = h("canvas", { style: `position:absolute;left:0;top:0;width:${px}px;height:${rowPx}px;cursor:crosshair` });
  const dpr = window.devicePixelRatio || 1;
  overlay.width = Math.round(px * dpr); overlay.height = Math.round(rowPx * dpr);
  stage.append(canvas, overlay);
  const axisNote = h("div", { style: `margin-left:${LABEL_W + 2}px;width:${px}px;color:#57606a;text-align:center;margin-top:2px`, text: "key (attended to) →" });
  grid.append(h("div", { style: "display:flex;align-items:flex-end;justify-content:flex-end;color:#57606a;padding:0 4px 2px 0;text-align:right", text: "query ↓ \\ key →" }), topLabels, leftLabels, stage);
  ui.body.append(grid, axisNote);

  for (let j = 0; j < nKey; j += every) {
    const t = tokenElement(tokens, j, "span");
    t.style.cssText = `position:absolute;left:${Math.max(0, (j + 0.5) * cell - font / 2 - 1)}px;bottom:0;writing-mode:vertical-rl;transform:rotate(180deg);font-size:${font}px;max-height:${TOP_H}px;overflow:hidden;text-overflow:ellipsis;line-height:${font + 2}px`;
    topLabels.append(t);
    marks.add(j, t);
  }
  for (let i = 0; i < nQuery; i += every) {
    const t = tokenElement(tokens, i + offset, "span");
    t.style.cssText = `position:absolute;right:2px;top:${Math.max(0, (i + 0.5) * cell - (font + 2) / 2)}px;font-size:${font}px;line-height:${font + 2}px;max-width:${LABEL_W - 4}px;overflow:hidden;text-overflow:ellipsis;text-align:right`;
    leftLabels.append(t);
    marks.add(i + offset, t);
  }

  let shown = null; // {values, key}
  let scale = null;

  function draw() {
    const key = mapKey(sel.get("layer"), sel.get("head"), sel.get("fusion"));
    ui.root.dataset.layer = String(sel.get("layer"));
    ui.root.dataset.head = sel.get("head") === null ? sel.get("fusion") : String(sel.get("head"));
    ui.title.textContent = `Attention · layer ${sel.get("layer")} · ${sel.get("head") === null ? `${sel.get("fusion")} of heads` : `head ${sel.get("head")}`}`;
    layerSel.input.value = String(sel.get("layer"));
    headSel.input.value = String(headValue());
    rowNorm.input.checked = model.get("row_normalize");
    syncScale();
    const hide = model.get("hide");
    for (const [i, nodes] of marks.byIndex) for (const n of nodes) n.classList.toggle("aw-hidden-tok", hide.includes(i));
    const raw = getMap(key);
    if (!raw) {
      ui.status.textContent = missingMapText(model, key);
      canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      shown = null;
      return;
    }
    ui.status.textContent = "";
    const values = displayMap(raw, nQuery, nKey, { hide, rowNormalize: model.get("row_normalize"), visible });
    scale = viewScale(model, model.get("row_normalize") ? 1 : visibleMax(values, nQuery, nKey, visible));
    const pooled = maxPool(values, nQuery, nKey, factor, (i, j) => !visible(i, j));
    canvas.width = pooled.cols; canvas.height = pooled.rows;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(pooled.cols, pooled.rows);
    const table = lut(model.get("colormap"));
    const hiddenCol = new Uint8Array(pooled.cols);
    if (factor === 1) for (const x of hide) hiddenCol[x] = 1;
    for (let k = 0; k < pooled.values.length; k++) {
      const v = pooled.values[k], o = k * 4;
      if (Number.isNaN(v) || hiddenCol[k % pooled.cols]) {
        img.data[o] = 246; img.data[o + 1] = 248; img.data[o + 2] = 250; // masked or hidden: page grey
      } else {
        const c = Math.round(scale(v) * 255) * 3;
        img.data[o] = table[c]; img.data[o + 1] = table[c + 1]; img.data[o + 2] = table[c + 2];
      }
      img.data[o + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    shown = { values, key };
    const notes = hideNotes(tokens, hide);
    if (model.get("row_normalize")) notes.push("each row scaled to its own maximum");
    if (factor > 1) notes.push(`${factor}x${factor} blocks max-pooled to fit; labels every ${every} tokens`);
    drawLegend(ui.legend, scale, model.get("colormap"), notes);
    drawOverlay();
  }

  let cursor = null; // {i, j} under the pointer, in rows/cols of the full map
  function drawOverlay() {
    const ctx = overlay.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, px, rowPx);
    const hovered = sel.get("hovered_token");
    const pinned = sel.get("pinned_token");
    const band = (index, color) => {
      if (index === null || index === undefined) return;
      ctx.strokeStyle = color; ctx.lineWidth = 1.5;
      ctx.strokeRect(index * cell, 0, Math.max(cell, 1), rowPx); // key column
      const qi = index - offset;
      if (qi >= 0) ctx.strokeRect(0, qi * cell, px, Math.max(cell, 1)); // query row
    };
    band(pinned, "rgba(9,105,218,0.9)");
    band(hovered, "rgba(255,140,0,0.95)");
    if (cursor) {
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 1;
      ctx.strokeRect(cursor.j * cell, cursor.i * cell, Math.max(cell, 2), Math.max(cell, 2));
    }
  }

  function cellAt(ev) {
    const r = overlay.getBoundingClientRect();
    const j = Math.floor(((ev.clientX - r.left) / r.width) * nKey);
    const i = Math.floor(((ev.clientY - r.top) / r.height) * nQuery);
    return i >= 0 && i < nQuery && j >= 0 && j < nKey ? { i, j } : null;
  }

  overlay.addEventListener("mousemove", (ev) => {
    cursor = cellAt(ev);
    if (!cursor || !shown) { hideTip(ui.tip); return; }
    const { i, j } = cursor;
    const v = shown.values[i * nKey + j];
    const what = !visible(i, j) ? "masked" : model.get("hide").includes(j) ? "hidden" : v.toPrecision(3);
    showTip(ui.tip, ui.root, `query ${i + offset} ${exactToken(tokens[i + offset])}\nkey ${j} ${exactToken(tokens[j])}\nweight ${what}`, ev);
    sel.set({ hovered_token: i + offset });
    drawOverlay();
  }, { signal });
  overlay.addEventListener("mouseleave", () => { cursor = null; hideTip(ui.tip); sel.set({ hovered_token: null }); drawOverlay(); }, { signal });
  overlay.addEventListener("click", (ev) => {
    const c = cellAt(ev);
    if (c) sel.set({ pinned_token: sel.get("pinned_token") === c.i + offset ? null : c.i + offset }, { immediate: true });
  }, { signal });

  // Token labels: hover highlights row and column everywhere; click pins; Alt+click hides a key.
  for (const box of [topLabels, leftLabels]) {
    wireTokens(box, sel, signal, {
      onClick(idx, ev) {
        if (!ev.altKey) return false;
        const hide = new Set(model.get("hide"));
        hide.has(idx) ? hide.delete(idx) : hide.add(idx);
        setTrait(model, "hide", [...hide].sort((a, b) => a - b));
        return true;
      },
    });
  }

  function onHover() { marks.hover(sel.get("hovered_token")); marks.pin(sel.get("pinned_token")); drawOverlay(); }

  // Publication export: labels drawn as text beside the map, legend below.
  function drawExport() {
    const lines = legendLines(ui.legend);
    const T = 28; // title band
    const W = Math.max(LABEL_W + px + 20, LABEL_W + 214 + legendTextWidth(lines) + 10);
    const Hh = T + TOP_H + rowPx + 30 + 14 * Math.max(2, lines.length);
    const { canvas: out, ctx } = exportCanvas(W, Hh);
    ctx.fillStyle = "#1f2328"; ctx.font = "600 13px system-ui,sans-serif";
    ctx.fillText(ui.title.textContent, 8, 18);
    ctx.imageSmoothingEnabled = false;
    if (shown) ctx.drawImage(canvas, LABEL_W, T + TOP_H, px, rowPx);
    ctx.font = `${font}px system-ui,sans-serif`;
    ctx.textAlign = "right";
    for (let i = 0; i < nQuery; i += every) ctx.fillText(short(tokens[i + offset]), LABEL_W - 4, T + TOP_H + (i + 0.5) * cell + font / 3);
    for (let j = 0; j < nKey; j += every) {
      ctx.save();
      ctx.translate(LABEL_W + (j + 0.5) * cell + font / 3, T + TOP_H - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left";
      ctx.fillText(short(tokens[j]), 0, 0);
      ctx.restore();
    }
    if (scale) {
      paintLegend(ctx, scale, model.get("colormap"), LABEL_W, T + TOP_H + rowPx + 8, 200);
      paintLegendText(ctx, lines, LABEL_W + 210, T + TOP_H + rowPx + 20);
    }
    return out;
  }

  sel.on(["layer", "head", "fusion"], draw);
  sel.on(["hovered_token", "pinned_token"], onHover);
  for (const name of ["_maps", "scale", "gamma", "colormap", "hide", "row_normalize"]) model.on(`change:${name}`, draw);
  draw();
  onHover();
  return () => el.replaceChildren();
}
