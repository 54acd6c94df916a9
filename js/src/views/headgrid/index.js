// HeadGrid: every layer x head as a thumbnail; hovering a token draws its row in every one.
import { decode } from "../../lib/decode.js";
import { payloadCache, connectMaps } from "../../lib/store.js";
import { maxPool } from "../../lib/downsample.js";
import { lut, makeScale, colorAt, cssColor, fmt } from "../../lib/colormap.js";
import { connectSelection } from "../../lib/selection.js";
import {
  h, makeRoot, tokenElement, TokenMarks, displayName, exactToken, wireTokens, whenSized, onWidthChange,
} from "../../ui/dom.js";
import { scaleControls, select, setTrait, viewScale, viewControls, exportCanvas } from "../../ui/controls.js";
import { drawLegend, paintLegend, hideNotes } from "../../ui/legend.js";
import { showTip, hideTip } from "../../ui/tips.js";
import { theme, onThemeChange } from "../../ui/theme.js";
import { visibility, displayMap } from "../../lib/maps.js";
import { signed, signedColor, signedExtent } from "../../lib/effects.js";

const GAP = 3, GROUP_GAP = 10, LAYER_W = 34;
// Layers a dashboard's head grid shows before it scrolls.
const EMBEDDED_LAYERS = 6.25;

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "headgrid");
  const ctl = viewControls(ui, { embedded, menu, signal });
  await whenSized(ui.root);
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query"), offset = nKey - nQuery;
  const layers = model.get("_layer_ids"), heads = model.get("_head_ids"), kvOf = model.get("_kv_of_head");
  // Labels and names are the caller's text: invisible and direction-changing characters marked.
  const labels = model.get("_labels").map((row) => row.map(displayName));
  // Thumbnails shrink for many heads so a row fits a notebook column (scrolls below 28 px).
  // and never wider than the slot it is drawn in.
  const thumbFor = (width) => {
    const slot = width ? width - 22 - LAYER_W - 14 : 560;
    return Math.max(24, Math.min(46, Math.floor(Math.min(560, slot) / heads.length) - GAP - (new Set(kvOf).size < heads.length ? 2 : 0)));
  };
  let THUMB = thumbFor(ui.root.clientWidth);
  // Grouped-query attention: heads sharing a kv head are drawn together.
  const gqa = new Set(kvOf).size < heads.length;
  const marks = new TokenMarks();
  // Heads whose full maps the shared data model holds: their thumbnails are pooled from those.
  const held = model.get("data") && (model.get("_thumb_maps") ?? []).length ? await connectMaps(model, host, { signal }) : null;
  const name = displayName(model.get("_llm_name"));
  // Beside a view that switches to norms, the grid says that its thumbnails are weights.
  const measureName = model.get("_measure_name") ?? "";
  ui.title.textContent = `Heads${measureName ? ` · ${measureName}` : ""}${name ? ` · ${name}` : ""} · ${layers.length} layers × ${heads.length} heads`;
  const syncScale = scaleControls(model, ctl.options, signal);
  const tintNames = Object.keys(model.get("_tints") ?? {});
  const tintSel = tintNames.length
    ? select("tint", [...tintNames.map((k) => [k, displayName(k)]), ["", "none"]], model.get("tint_label"), (v) => setTrait(model, "tint_label", v), signal)
    : null;
  if (tintSel) { tintSel.node.title = "colour bar under each head"; ui.controls.append(tintSel.node); }
  ctl.png("heads", "attention-heads.png", () => drawExport());

  // Token strip.
  const strip = h("div", { class: "aw-strip" });
  for (let i = 0; i < nKey; i++) {
    const t = tokenElement(tokens, i, "span");
    strip.append(t);
    marks.add(i, t);
  }
  wireTokens(strip, sel, signal);

  const gridBox = h("div", { class: "aw-grid", style: `max-height:${embedded ? 280 : 520}px;overflow:auto;margin-top:4px;position:relative` });
  // What a hovered token shows, said while it shows (the grid changes meaning on hover).
  // Its box keeps its size whatever it says, so a hover relays and repaints only this line.
  const hoverKey = h("div", { class: "aw-muted aw-hover-key" });
  // In a dashboard the token text above serves as the strip.
  if (embedded) strip.style.display = "none";
  ui.body.append(strip, hoverKey, gridBox);
  // A signed tint (head effects) gets its own diverging bar, centred at 0, under the legend.
  const effLegend = h("div", { class: "aw-legend aw-effect-legend", style: "display:none" });
  ui.legend.after(effLegend);
  const maskVis = visibility({ nQuery, nKey, causal: model.get("_causal"), mask: model.get("_mask") ? decode(model.get("_mask")).values : null });
  let blockVis = null; // Uint8Array(tq * tk): 1 where a thumbnail cell covers a visible cell

  let thumbs = null, tq = 0, tk = 0, tint = null, tintSigned = false;
  // One canvas draws every thumbnail (hundreds of canvases make the browser's compositing the
  // cost of a hover); transparent cells over it carry data-layer/data-head, clicks and tooltips.
  let cells = []; // [{cell, li, hi, x, y}]
  const canvas = h("canvas", { style: "position:absolute;left:0;top:0;pointer-events:none" });
  const dpr = window.devicePixelRatio || 1;
  let rowH = THUMB;
  let full = { w: 1, h: 1, height: 1 }; // the whole grid, in device and CSS pixels

  function headOrder(li) {
    const idx = heads.map((_, k) => k);
    if (model.get("order") === "tint" && tint) idx.sort((a, b) => tint[li * heads.length + b] - tint[li * heads.length + a]);
    return idx;
  }

  // Thumbnails cross coded and deflated: decoded (asynchronously) once per payload.
  const coded = payloadCache(model);
  const THUMBS = ["_thumbs", "_thumbs_alt"];
  const decodeOnce = (p) => coded.get(p);
  const whenDecoded = (fn) => () => coded.ready(THUMBS).then(() => { if (!signal.aborted) fn(); });
  // The kernel sends thumbnails for the current hiding and for the first token's hiding toggled.
  function pickThumbs() {
    const want = model.get("hide");
    const useAlt = model.get("_thumbs_alt")?.shape && sameList(want, model.get("_thumbs_alt_hide")) && !sameList(want, model.get("_thumbs_hide"));
    thumbsHide = useAlt ? model.get("_thumbs_alt_hide") : model.get("_thumbs_hide");
    thumbs = decodeOnce(model.get(useAlt ? "_thumbs_alt" : "_thumbs"));
    if (thumbs) fromMaps(thumbs, thumbsHide);
    return thumbs !== null;
  }

  // The thumbnails of heads the data model holds in full, pooled here as the kernel pools the
  // others (hidden keys removed and rows renormalised, then max-pooled by `_pool`); written into
  // the decoded set once. A map that is not there leaves its thumbnail empty (NaN, drawn as masked).
  let missing = [];
  function fromMaps(set, hide) {
    const keys = model.get("_thumb_maps") ?? [];
    if (!keys.length || set.fromMaps === keys) return;
    set.fromMaps = keys;
    const [, H, tq, tk] = set.shape, pool = model.get("_pool") || 1;
    missing = [];
    for (const key of keys) {
      const [layer, head] = key.split("/").map(Number);
      const li = layers.indexOf(layer), hi = heads.indexOf(head);
      if (li < 0 || hi < 0) continue;
      const at = (li * H + hi) * tq * tk;
      const raw = held ? held.get(key) : null;
      if (!raw) { set.values.fill(NaN, at, at + tq * tk); missing.push(key); continue; }
      const pooled = maxPool(displayMap(raw, nQuery, nKey, { hide, visible: maskVis }), nQuery, nKey, pool);
      set.values.set(pooled.values, at);
    }
  }
  let thumbsHide = [];

  function build() {
    if (!pickThumbs()) return;
    [, , tq, tk] = thumbs.shape;
    // Thumbnail cells whose block holds no visible cell are drawn as the heatmap draws masked cells.
    const pool = model.get("_pool") || 1;
    blockVis = new Uint8Array(tq * tk);
    for (let r = 0; r < tq; r++) for (let c = 0; c < tk; c++) {
      let any = 0;
      for (let i = r * pool; i < Math.min(nQuery, (r + 1) * pool) && !any; i++) {
        for (let j = c * pool; j < Math.min(nKey, (c + 1) * pool); j++) if (maskVis(i, j)) { any = 1; break; }
      }
      blockVis[r * tk + c] = any;
    }
    // Several named tints (aw.show gives entropy and sink mass): the menu's choice, or none.
    const tints = model.get("_tints") ?? {};
    if (Object.keys(tints).length) {
      const chosen = tints[model.get("tint_label")];
      tint = chosen ? decode(chosen).values : null;
    } else tint = model.get("_tint") ? decode(model.get("_tint")).values : null;
    // Signed values (head effects) are drawn on a diverging scale centred at 0.
    tintSigned = Boolean(tint) && (model.get("_tint_signed") ?? []).includes(model.get("tint_label"));
    ui.root.dataset.tintSigned = String(tintSigned);
    const tintText = (v) => (tintSigned ? signed(v) : fmt(v));
    if (tintSel) tintSel.input.value = model.get("tint_label");
    const grouped = gqa && model.get("order") !== "tint";
    rowH = THUMB + (tint ? 4 : 0);
    const xs = (order) => {
      let x = LAYER_W, prev = null;
      return order.map((hi) => {
        if (grouped && prev !== null && kvOf[hi] !== kvOf[prev]) x += GROUP_GAP - GAP;
        const at = x;
        x += THUMB + GAP;
        prev = hi;
        return at;
      });
    };
    // In a dashboard the box shows six whole layers and a part of the next (their header included) without scrolling.
    if (embedded) gridBox.style.maxHeight = `${Math.round(20 + EMBEDDED_LAYERS * (rowH + GAP))}px`;
    const modelX = xs(heads.map((_, k) => k));
    const width = modelX[modelX.length - 1] + THUMB + 2, height = layers.length * (rowH + GAP);
    gridBox.replaceChildren();
    cells = [];
    // Header: kv-head groups and head numbers (hidden when heads are reordered per layer).
    const head = h("div", { style: `position:sticky;top:0;background:var(--aw-bg);z-index:1;height:16px;width:${width}px` });
    headLabels = [];
    heads.forEach((hd, k) => {
      const lab = h("div", { class: "aw-head-label", "data-head": String(hd), style: `position:absolute;left:${modelX[k]}px;width:${THUMB}px;text-align:center;color:var(--aw-muted);font-size:10px;white-space:nowrap;overflow:hidden;border-top:${grouped ? "2px solid " + ["var(--aw-muted)", "var(--aw-border)"][kvOf[k] % 2] : "none"}`, text: grouped ? (THUMB >= 40 ? `h${hd} kv${kvOf[k]}` : `h${hd}`) : model.get("order") === "tint" ? "" : `h${hd}` });
      head.append(lab);
      headLabels.push(lab);
    });
    layerLabels = [];
    const box = h("div", { style: `position:relative;width:${width}px;height:${height}px;margin-top:2px` });
    full = { w: Math.round(width * dpr), h: Math.round(height * dpr), height };
    canvas.width = full.w; canvas.height = full.h;
    canvas.style.width = `${width}px`; canvas.style.height = `${height}px`; canvas.style.top = "0px";
    painted = null;
    box.append(canvas);
    layers.forEach((layer, li) => {
      const y = li * (rowH + GAP);
      const lab = h("div", { class: "aw-layer-label", "data-row-layer": String(layer), style: `position:absolute;left:0;top:${y + THUMB / 2 - 7}px;width:${LAYER_W - 6}px;text-align:right;color:var(--aw-muted);font-size:11px;pointer-events:none`, text: `L${layer}` });
      box.append(lab);
      layerLabels.push(lab);
      const order = headOrder(li);
      xs(order).forEach((x, pos) => {
        const hi = order[pos];
        // The cell is an empty box over the canvas, which draws its outline, role badges and
        // tint bar (drawn boxes would make every repaint walk a few hundred layers).
        const cell = h("div", {
          class: "aw-thumb", "data-layer": String(layer), "data-head": String(heads[hi]),
          style: `position:absolute;left:${x}px;top:${y}px;width:${THUMB}px;height:${rowH}px;cursor:pointer`,
          title: `layer ${layer}, head ${heads[hi]} (kv head ${kvOf[hi]})` + (tint ? `\n${displayName(model.get("tint_label")) || "tint"}: ${tintText(tint[li * heads.length + hi])}` : "") + (labels.length ? `\n${labels[li][hi]}` : ""),
        });
        if (tint) cell.dataset.tint = String(tint[li * heads.length + hi]);
        const words = labels.length && labels[li][hi] ? labels[li][hi].split(/\s+/).filter(Boolean) : [];
        box.append(cell);
        cells.push({ cell, li, hi, x, y, words });
      });
    });
    gridBox.append(head, box);
    lastSel = null;  // a new layout moves every row: scroll the selected one into view again
    paint();
  }

  let scale = null, headLabels = [], layerLabels = [];
  // Built once per data/scale/colour-map change: the thumbnails in colour and in grey (shown
  // under a hovered row) as two atlases at data resolution, and each cell's colour-map level.
  // A hover then copies from an atlas and draws one row of bars per head.
  let atlas = null;
  const CSS_LUT = new Map();
  function cssAt(cmap, k) {
    const key = `${cmap}:${k}`;
    if (!CSS_LUT.has(key)) { const t = lut(cmap); CSS_LUT.set(key, `rgb(${t[k * 3]},${t[k * 3 + 1]},${t[k * 3 + 2]})`); }
    return CSS_LUT.get(key);
  }

  function buildAtlas() {
    const table = lut(model.get("colormap"));
    const ink = theme(ui.root);
    const blank = ink.panelRGB;
    const L = layers.length, H = heads.length, per = tq * tk, W = H * tk;
    const level = new Uint8Array(L * H * per);
    const colour = new ImageData(W, L * tq), grey = new ImageData(W, L * tq);
    for (let li = 0; li < L; li++) for (let hi = 0; hi < H; hi++) {
      const base = (li * H + hi) * per;
      for (let r = 0; r < tq; r++) for (let c = 0; c < tk; c++) {
        const k = base + r * tk + c;
        const seen = blockVis[r * tk + c] && !Number.isNaN(thumbs.values[k]);
        const lv = seen ? Math.round(scale(thumbs.values[k]) * 255) : 0;
        level[k] = lv;
        const o = ((li * tq + r) * W + hi * tk + c) * 4;
        if (seen) { colour.data[o] = table[lv * 3]; colour.data[o + 1] = table[lv * 3 + 1]; colour.data[o + 2] = table[lv * 3 + 2]; }
        else { colour.data[o] = blank[0]; colour.data[o + 1] = blank[1]; colour.data[o + 2] = blank[2]; }
        // Hover mode: the map in faint greys on the theme's background, the hovered row in colour on top.
        const g = seen ? Math.round((ink.dark ? 40 + (50 * lv) / 255 : 250 - (60 * lv) / 255)) : null;
        const gb = g === null ? blank : [g, g, g];
        grey.data[o] = gb[0]; grey.data[o + 1] = gb[1]; grey.data[o + 2] = gb[2];
        colour.data[o + 3] = 255; grey.data[o + 3] = 255;
      }
    }
    const toCanvas = (img) => { const c = h("canvas", { width: W, height: L * tq }); c.getContext("2d").putImageData(img, 0, 0); return c; };
    atlas = { colour: toCanvas(colour), grey: toCanvas(grey), level, laid: {} };
  }

  // Role badges: one chip per word, coloured by role (other labels in grey).
  const BADGE = { sink: "#6e7781", prev: "#0969da", ind: "#bc4c00" };
  // What is drawn over every thumbnail, once per atlas: outlines, role badges and tint bars.
  function laidMarks() {
    if (!atlas.laid.marks) {
      const c = h("canvas", { width: full.w, height: full.h });
      const cx = c.getContext("2d");
      cx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const ink = theme(ui.root);
      let tmin = Infinity, tmax = -Infinity;
      if (tint) for (const v of tint) { tmin = Math.min(tmin, v); tmax = Math.max(tmax, v); }
      const { vmax: tabs } = tintSigned ? signedExtent(tint) : { vmax: 0 };
      cx.strokeStyle = ink.border;
      cx.lineWidth = 1;
      cx.font = "600 9px system-ui,sans-serif";
      cx.textBaseline = "middle";
      for (const { li, hi, x, y, words } of cells) {
        cx.strokeRect(x - 0.5, y - 0.5, THUMB + 1, rowH + 1);
        if (tint) {
          const v = tint[li * heads.length + hi];
          cx.fillStyle = cssColor(tintSigned ? signedColor(v, tabs) : colorAt("magma", tmax > tmin ? (v - tmin) / (tmax - tmin) : 0.5));
          cx.fillRect(x, y + THUMB, THUMB, rowH - THUMB);
        }
        let bx = x + 1, by = y + 1;
        for (const word of words) {
          const w = Math.ceil(cx.measureText(word).width) + 4;
          if (bx > x + 1 && bx + w > x + THUMB) { bx = x + 1; by += 12; }
          if (by + 11 > y + THUMB) break;
          cx.fillStyle = BADGE[word] ?? "#57606a";
          cx.beginPath();
          cx.roundRect ? cx.roundRect(bx, by, w, 11, 3) : cx.rect(bx, by, w, 11);
          cx.fill();
          cx.fillStyle = "#fff";
          cx.fillText(word, bx + 2, by + 6);
          bx += w + 1;
        }
      }
      atlas.laid.marks = c;
    }
    return atlas.laid.marks;
  }

  // Every thumbnail copied to its place once per atlas, at device resolution: a hover then redraws
  // the grid with one drawImage instead of one per head.
  function laidOut(which) {
    if (!atlas.laid[which]) {
      const c = h("canvas", { width: full.w, height: full.h });
      const cx = c.getContext("2d");
      cx.setTransform(dpr, 0, 0, dpr, 0, 0);
      cx.imageSmoothingEnabled = false;
      for (const { li, hi, x, y } of cells) cx.drawImage(atlas[which], hi * tk, li * tq, tk, tq, x, y, THUMB, THUMB);
      atlas.laid[which] = c;
    }
    return atlas.laid[which];
  }

  // The grid scrolls in a box a few rows tall, so its canvas covers only the layers in view and
  // a viewport's margin each side, and moves with the scroll: a hover clears and paints a few
  // layers, not the whole grid. The box's scroll and size are read in their own events, never on
  // a hover (a read there forces a layout).
  let view = null; // { top, height } of the box in CSS pixels; null: every layer
  let painted = null; // { from, to }: the layers the canvas covers
  const refresh = () => { if (painted && atlas && !inPainted(rowsInView())) paintHover(); };
  gridBox.addEventListener("scroll", () => { if (view) { view.top = gridBox.scrollTop; refresh(); } }, { signal, passive: true });
  if (typeof ResizeObserver !== "undefined") {
    const ro = new ResizeObserver(() => {
      view = gridBox.clientHeight > 0 ? { top: gridBox.scrollTop, height: gridBox.clientHeight } : null;
      refresh();
    });
    ro.observe(gridBox);
    signal.addEventListener("abort", () => ro.disconnect());
  }
  function rowsInView() {
    const L = layers.length, pitch = rowH + GAP;
    if (!view) return [0, L];
    // A row of margin each side (the sticky head numbers take 18 px of the box).
    const top = view.top - 18 - pitch, bottom = view.top + view.height + pitch;
    return [Math.max(0, Math.floor(top / pitch)), Math.min(L, Math.ceil(bottom / pitch))];
  }
  const inPainted = ([from, to]) => painted.from <= from && to <= painted.to;

  // `all`: the whole grid on a canvas of its own (the PNG export), returned.
  function paintHover({ all = false } = {}) {
    const hov = sel.get("hovered_token");
    const row = hov !== null && hov >= offset ? Math.floor((hov - offset) / model.get("_pool")) : null;
    const cmap = model.get("colormap");
    const layer = sel.get("layer"), headSel = sel.get("head");
    const [from, to] = all ? [0, layers.length] : rowsInView();
    const pitch = rowH + GAP;
    const top = from * pitch;
    const y0 = Math.min(full.h, Math.round(top * dpr)), hPx = Math.max(1, Math.min(full.h, Math.round(to * pitch * dpr)) - y0);
    let target = canvas;
    if (all) target = h("canvas", { width: full.w, height: full.h });
    else {
      if (!painted || painted.from !== from || painted.to !== to) {
        canvas.height = hPx;
        canvas.style.top = `${top}px`;
        canvas.style.height = `${hPx / dpr}px`;
      }
      painted = { from, to };
    }
    const ctx = target.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, target.width, target.height);
    ctx.drawImage(laidOut(row === null ? "colour" : "grey"), 0, y0, full.w, hPx, 0, 0, full.w, hPx);
    ctx.setTransform(dpr, 0, 0, dpr, 0, -y0);
    const per = tq * tk, bw = THUMB / tk;
    // The hovered token's attention row as bars across the keys, coloured and sized by weight:
    // one path per colour level, so a hover sets a fill colour at most 256 times, not once a bar.
    const bars = row === null ? null : new Map();
    const ticks = row === null ? null : new Path2D();
    for (const { cell, li, hi, x, y } of cells) {
      if (row !== null && li >= from && li < to) {
        const base = (li * heads.length + hi) * per + row * tk;
        for (let c = 0; c < tk; c++) {
          const lv = atlas.level[base + c];
          if (lv === 0) continue;
          let path = bars.get(lv);
          if (!path) bars.set(lv, (path = new Path2D()));
          const bh = Math.max(1, (lv / 255) * THUMB);
          path.rect(x + c * bw, y + THUMB - bh, Math.max(bw, 1), bh);
        }
        // A tick on the left edge marks where the hovered row sits in the map.
        ticks.rect(x, y + (row / tq) * THUMB, 4, Math.max(1.5, THUMB / tq));
      }
      // Written only when it changes: a style write per head per hover would restyle the grid.
      const isSel = layers[li] === layer && heads[hi] === headSel;
      if (cell._awSelected !== isSel) {
        cell._awSelected = isSel;
        cell.classList.toggle("aw-selected", isSel);
        cell.style.outline = isSel ? "3px solid var(--aw-accent)" : "";
        cell.style.zIndex = isSel ? "2" : "";
      }
    }
    if (row !== null) {
      for (const [lv, path] of bars) { ctx.fillStyle = cssAt(cmap, lv); ctx.fill(path); }
      ctx.fillStyle = "#fb8500";
      ctx.fill(ticks);
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(laidMarks(), 0, y0, full.w, hPx, 0, 0, full.w, hPx);
    const key = row === null
      ? "hover a token: its attention row in every head · click a head to select it"
      : `grey: each head's map · coloured bars: what ${hov} ${exactToken(tokens[hov])} attends to (height and colour by weight) · orange tick: its row`;
    if (hoverKey.textContent !== key) hoverKey.textContent = key;
    markSelected();
    return target;
  }

  // The selected layer and head are marked on the axes and scrolled into the grid's view.
  let lastSel = null;
  function markSelected() {
    const layer = sel.get("layer"), headSel = sel.get("head");
    // Labels are restyled only when their state changes (this runs on every hover).
    const mark = (lab, on) => {
      if (lab._awOn === on) return;
      lab._awOn = on;
      lab.style.color = on ? "var(--aw-accent)" : "var(--aw-muted)";
      lab.style.fontWeight = on ? "700" : "";
    };
    for (const lab of layerLabels) mark(lab, Number(lab.dataset.rowLayer) === layer);
    for (const lab of headLabels) mark(lab, headSel !== null && Number(lab.dataset.head) === headSel);
    const key = `${layer}/${headSel}`;
    if (key === lastSel) return;
    lastSel = key;
    const target = cells.find(({ li, hi }) => layers[li] === layer && (headSel === null || heads[hi] === headSel));
    if (!target || !gridBox.clientHeight) return;
    const top = target.y + 18, bottom = top + rowH;
    if (top < gridBox.scrollTop + 18 || bottom > gridBox.scrollTop + gridBox.clientHeight) {
      gridBox.scrollTop = Math.max(0, top - gridBox.clientHeight / 2 + rowH / 2);
    }
    const left = target.x, right = left + THUMB;
    if (headSel !== null && (left < gridBox.scrollLeft || right > gridBox.scrollLeft + gridBox.clientWidth)) {
      gridBox.scrollLeft = Math.max(0, left - gridBox.clientWidth / 2);
    }
  }

  function paint() {
    if (!pickThumbs()) return;
    syncScale();
    const hide = model.get("hide");
    for (const [i, nodes] of marks.byIndex) for (const n of nodes) n.classList.toggle("aw-hidden-tok", hide.includes(i));
    if (thumbs.vmax === undefined) {
      thumbs.vmax = 1e-6;
      for (const v of thumbs.values) if (v > thumbs.vmax) thumbs.vmax = v;
    }
    const vmax = thumbs.vmax;
    scale = viewScale(model, vmax);
    buildAtlas();
    paintHover();
    let tmin = Infinity, tmax = -Infinity;
    if (tint) for (const v of tint) { tmin = Math.min(tmin, v); tmax = Math.max(tmax, v); }
    const notes = hideNotes(tokens, thumbsHide);
    if (missing.length) notes.push(`no map held for ${missing.length} head${missing.length > 1 ? "s" : ""} (${missing.slice(0, 4).join(", ")}${missing.length > 4 ? ", …" : ""}): drawn blank`);
    if (!sameList(thumbsHide, hide)) notes.push(`thumbnails were made with hide = [${thumbsHide}]; applying [${hide}] needs the kernel`);
    const pool = model.get("_pool");
    const sampled = model.get("_sampled_rows") ?? 0;
    if (pool > 1 && sampled) {
      notes.push(`${nKey} tokens: thumbnails show ${sampled} of every ${pool} query rows (keys max-pooled ${pool} to 1), ` +
        "so a long input's overview stays quick; the heatmap shows any head in full");
    } else if (pool > 1) notes.push(`thumbnails max-pooled ${pool}x${pool}; a hovered token shows its block of ${pool} rows`);
    if (tint && !tintSigned) notes.push(`bar under each head: ${displayName(model.get("tint_label")) || "tint"}, ${fmt(tmin)} (dark) to ${fmt(tmax)} (light)`);
    if (labels.some((row) => row.some(Boolean))) {
      notes.push("badges: where a head looks on this text — sink (first token), prev (previous token), ind (induction " +
        "target) — when that pattern takes most of its attention; aw.experiments.head_roles tests heads on the model");
    }
    drawLegend(ui.legend, scale, model.get("colormap"), notes);
    drawEffectLegend();
  }

  // The diverging bar of a signed tint: -max|value| (blue) to 0 (white) to +max|value| (red).
  function drawEffectLegend() {
    if (!tintSigned) { effLegend.style.display = "none"; effLegend.replaceChildren(); return; }
    const { min, max, vmax } = signedExtent(tint);
    const key = `${model.get("tint_label")}:${vmax}:${min}:${max}`;
    effLegend.style.display = "";
    if (effLegend._awKey === key) return;
    effLegend._awKey = key;
    const w = 180, bar = h("canvas", { class: "aw-effect-bar" });
    bar.width = w; bar.height = 12;
    bar.style.cssText = `width:${w}px;height:12px;display:block;border:1px solid var(--aw-border)`;
    const ctx = bar.getContext("2d");
    for (let x = 0; x < w; x++) { ctx.fillStyle = cssColor(signedColor(((x / (w - 1)) * 2 - 1) * vmax, vmax)); ctx.fillRect(x, 0, 1, 12); }
    const ticks = h("div", { class: "aw-effect-ticks", style: `display:flex;justify-content:space-between;width:${w}px` },
      h("span", { class: "aw-effect-neg", text: vmax > 0 ? signed(-vmax) : "0" }), h("span", { text: "0" }),
      h("span", { class: "aw-effect-pos", text: vmax > 0 ? signed(vmax) : "0" }));
    const label = displayName(model.get("tint_label")) || "signed tint";
    const text = h("div", { class: "aw-note", text: `bar under each head: ${label} when the head is ablated, ${signed(min)} to ${signed(max)}; ` +
      "blue below 0 (removing the head lowers it: the head helps), red above 0 (the head works against it), white near 0" });
    effLegend.replaceChildren(h("div", {}, bar, ticks), text);
  }

  gridBox.addEventListener("click", (ev) => {
    const t = ev.target.closest("[data-layer]");
    if (t) sel.set({ layer: Number(t.dataset.layer), head: Number(t.dataset.head) }, { immediate: true });
  }, { signal });
  gridBox.addEventListener("mousemove", (ev) => {
    const t = ev.target.closest("[data-layer]");
    if (!t) { hideTip(ui.tip); return; }
    const hov = sel.get("hovered_token");
    showTip(ui.tip, ui.root, t.title + (hov !== null ? `\nrow of ${hov} ${exactToken(tokens[hov])}` : ""), ev);
  }, { signal });
  gridBox.addEventListener("mouseleave", () => hideTip(ui.tip), { signal });

  function drawExport() {
    const grid = paintHover({ all: true });
    const W = grid.width / dpr + 10, top = 30;
    const Hh = top + grid.height / dpr + 50;
    const { canvas: out, ctx } = exportCanvas(W, Hh);
    ctx.fillStyle = "#1f2328"; ctx.font = "600 13px system-ui,sans-serif";
    ctx.fillText(ui.title.textContent, 6, 16);
    ctx.drawImage(grid, 0, top, grid.width / dpr, grid.height / dpr);
    ctx.font = "10px system-ui,sans-serif"; ctx.fillStyle = "#57606a"; ctx.textAlign = "right";
    layers.forEach((l, li) => ctx.fillText(`L${l}`, LAYER_W - 6, top + li * (rowH + GAP) + THUMB / 2 + 3));
    if (scale) paintLegend(ctx, scale, model.get("colormap"), LAYER_W, top + grid.height / dpr + 8, 200);
    return out;
  }

  function onHover() {
    marks.hover(sel.get("hovered_token"));
    marks.pin(sel.get("pinned_token"));
    paintHover();
  }

  sel.on(["hovered_token", "pinned_token", "layer", "head"], onHover);
  for (const name of ["scale", "gamma", "colormap", "hide", "_thumbs_hide", "_thumbs_alt"]) model.on(`change:${name}`, whenDecoded(paint));
  for (const name of ["_thumbs", "order", "_tint", "_tints", "_tint_signed", "tint_label"]) model.on(`change:${name}`, whenDecoded(build));
  await coded.ready(THUMBS);
  onThemeChange(whenDecoded(build), signal);
  // A new width gives the thumbnails a new size (the grid is laid out again); widths past the
  // largest thumbnails change nothing.
  const relayout = whenDecoded(build);
  onWidthChange(ui.root, (width) => {
    const size = thumbFor(width);
    if (size !== THUMB) { THUMB = size; relayout(); }
  }, signal);
  build();
  onHover();
  return () => el.replaceChildren();
}
