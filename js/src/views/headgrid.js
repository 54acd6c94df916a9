// HeadGrid: every layer x head as a thumbnail; hovering a token draws its row in every one.
import { decode } from "../lib/decode.js";
import { lut, makeScale, colorAt, cssColor, fmt } from "../lib/colormap.js";
import { connectSelection } from "../lib/selection.js";
import {
  h, makeRoot, tokenElement, TokenMarks, scaleControls, viewScale, drawLegend, paintLegend, hideNotes, pngButton,
  exportCanvas, showTip, hideTip, exactToken, wireTokens,
} from "./common.js";

const GAP = 3, GROUP_GAP = 10, LAYER_W = 34;

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export default async function render({ model, el, host, signal }) {
  const ui = makeRoot(el, "headgrid");
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query"), offset = nKey - nQuery;
  const layers = model.get("_layer_ids"), heads = model.get("_head_ids"), kvOf = model.get("_kv_of_head");
  const labels = model.get("_labels");
  // Thumbnails shrink for many heads so a row fits a notebook column (scrolls below 28 px).
  const THUMB = Math.max(28, Math.min(46, Math.floor(560 / heads.length) - GAP));
  // Grouped-query attention: heads sharing a kv head are drawn together.
  const gqa = new Set(kvOf).size < heads.length;
  const marks = new TokenMarks();
  const name = model.get("_llm_name");
  ui.title.textContent = `Heads${name ? ` · ${name}` : ""} · ${layers.length} layers × ${heads.length} heads`;
  const syncScale = scaleControls(model, ui.controls, signal);
  pngButton(ui.controls, "attention-heads.png", () => drawExport(), signal);

  // Token strip.
  const strip = h("div", { class: "aw-strip" });
  for (let i = 0; i < nKey; i++) {
    const t = tokenElement(tokens, i, "span");
    strip.append(t);
    marks.add(i, t);
  }
  wireTokens(strip, sel, signal);

  const gridBox = h("div", { style: "max-height:520px;overflow:auto;margin-top:6px;position:relative" });
  ui.body.append(strip, gridBox);

  let thumbs = null, tq = 0, tk = 0, tint = null;
  let thumbEls = []; // [{canvas, layerIndex, headIndex}]

  function headOrder(li) {
    const idx = heads.map((_, k) => k);
    if (model.get("order") === "tint" && tint) idx.sort((a, b) => tint[li * heads.length + b] - tint[li * heads.length + a]);
    return idx;
  }

  const cache = new WeakMap();
  const decodeOnce = (p) => { if (!cache.has(p)) cache.set(p, decode(p)); return cache.get(p); };
  // The kernel sends thumbnails for the current hiding and for the first token's hiding toggled.
  function pickThumbs() {
    const want = model.get("hide");
    const useAlt = model.get("_thumbs_alt")?.shape && sameList(want, model.get("_thumbs_alt_hide")) && !sameList(want, model.get("_thumbs_hide"));
    thumbsHide = useAlt ? model.get("_thumbs_alt_hide") : model.get("_thumbs_hide");
    thumbs = decodeOnce(model.get(useAlt ? "_thumbs_alt" : "_thumbs"));
  }
  let thumbsHide = [];

  function build() {
    pickThumbs();
    [, , tq, tk] = thumbs.shape;
    tint = model.get("_tint") ? decode(model.get("_tint")).values : null;
    const grouped = gqa && model.get("order") !== "tint";
    gridBox.replaceChildren();
    thumbEls = [];
    // Header: kv-head groups and head numbers.
    const head = h("div", { style: `display:flex;gap:${GAP}px;margin-left:${LAYER_W}px;position:sticky;top:0;background:#fff;z-index:1;padding-bottom:2px` });
    heads.forEach((hd, k) => {
      const newGroup = grouped && k > 0 && kvOf[k] !== kvOf[k - 1];
      head.append(h("div", { style: `width:${THUMB}px;text-align:center;color:#57606a;font-size:10px;margin-left:${newGroup ? GROUP_GAP - GAP : 0}px;border-top:${grouped ? "2px solid " + ["#8c959f", "#d0d7de"][kvOf[k] % 2] : "none"}`, text: grouped ? `h${hd} kv${kvOf[k]}` : model.get("order") === "tint" ? "" : `h${hd}` }));
    });
    gridBox.append(head);
    layers.forEach((layer, li) => {
      const row = h("div", { style: `display:flex;gap:${GAP}px;align-items:center;margin-bottom:${GAP}px` });
      row.append(h("div", { style: `width:${LAYER_W - GAP}px;text-align:right;color:#57606a;font-size:10px`, text: `L${layer}` }));
      headOrder(li).forEach((hi, pos) => {
        const newGroup = grouped && pos > 0 && kvOf[hi] !== kvOf[hi - 1];
        const c = h("canvas", { width: tk, height: tq, style: `width:${THUMB}px;height:${THUMB}px;image-rendering:pixelated;display:block` });
        const cell = h("div", {
          class: "aw-thumb", "data-layer": String(layer), "data-head": String(heads[hi]),
          style: `position:relative;width:${THUMB}px;height:${THUMB + (tint ? 4 : 0)}px;margin-left:${newGroup ? GROUP_GAP - GAP : 0}px;cursor:pointer;outline:1px solid #d0d7de`,
          title: `layer ${layer}, head ${heads[hi]} (kv head ${kvOf[hi]})` + (tint ? `\n${model.get("tint_label") || "tint"}: ${fmt(tint[li * heads.length + hi])}` : "") + (labels.length ? `\n${labels[li][hi]}` : ""),
        }, c);
        if (labels.length && labels[li][hi]) cell.append(h("div", { style: "position:absolute;left:1px;top:0;font-size:8px;color:#fff;text-shadow:0 0 2px #000;pointer-events:none;white-space:nowrap;overflow:hidden;max-width:100%", text: labels[li][hi] }));
        if (tint) cell.append(h("div", { class: "aw-tint", style: "height:4px", "data-tint": String(tint[li * heads.length + hi]) }));
        row.append(cell);
        thumbEls.push({ canvas: c, cell, li, hi });
      });
      gridBox.append(row);
    });
    paint();
  }

  let scale = null;
  function paint() {
    pickThumbs();
    syncScale();
    const hide = model.get("hide");
    for (const [i, nodes] of marks.byIndex) for (const n of nodes) n.classList.toggle("aw-hidden-tok", hide.includes(i));
    const vmax = Math.max(...thumbs.scale, 1e-6);
    scale = viewScale(model, vmax);
    const table = lut(model.get("colormap"));
    const hov = sel.get("hovered_token");
    const row = hov !== null && hov >= offset ? Math.floor((hov - offset) / model.get("_pool")) : null;
    const per = tq * tk;
    const layer = sel.get("layer"), headSel = sel.get("head");
    let tmin = Infinity, tmax = -Infinity;
    if (tint) for (const v of tint) { tmin = Math.min(tmin, v); tmax = Math.max(tmax, v); }
    for (const { canvas, cell, li, hi } of thumbEls) {
      const base = (li * heads.length + hi) * per;
      const ctx = canvas.getContext("2d");
      const img = ctx.createImageData(tk, tq);
      for (let k = 0; k < per; k++) {
        const t = scale(thumbs.values[base + k]), o = k * 4;
        if (row === null) {
          const c = Math.round(t * 255) * 3;
          img.data[o] = table[c]; img.data[o + 1] = table[c + 1]; img.data[o + 2] = table[c + 2];
        } else {
          // Under a hovered row the map stays as light grey context for the bars.
          const g = 250 - Math.round(60 * t);
          img.data[o] = g; img.data[o + 1] = g; img.data[o + 2] = g;
        }
        img.data[o + 3] = 255;
      }
      ctx.clearRect(0, 0, tk, tq);
      ctx.putImageData(img, 0, 0);
      if (row !== null) {
        // The hovered token's attention row as bars across the keys, coloured and sized by weight.
        for (let c = 0; c < tk; c++) {
          const v = thumbs.values[base + row * tk + c];
          const t = scale(v);
          if (t <= 0) continue;
          ctx.fillStyle = cssColor(colorAt(model.get("colormap"), t));
          const bh = Math.max(1, t * tq);
          ctx.fillRect(c, tq - bh, 1, bh);
        }
        // A tick on the left edge marks where the hovered row sits in the map.
        ctx.fillStyle = "#fb8500";
        ctx.fillRect(0, row, Math.max(1, tk / 12), 1);
      }
      const isSel = layers[li] === layer && heads[hi] === headSel;
      cell.style.outline = isSel ? "2px solid #0969da" : "1px solid #d0d7de";
      if (tint) {
        const bar = cell.querySelector(".aw-tint");
        bar.style.background = cssColor(colorAt("magma", tmax > tmin ? (tint[li * heads.length + hi] - tmin) / (tmax - tmin) : 0.5));
      }
    }
    const notes = hideNotes(tokens, thumbsHide);
    if (!sameList(thumbsHide, hide)) notes.push(`thumbnails were made with hide = [${thumbsHide}]; applying [${hide}] needs the kernel`);
    const pool = model.get("_pool");
    if (pool > 1) notes.push(`thumbnails max-pooled ${pool}x${pool}; a hovered token shows its block of ${pool} rows`);
    notes.push("hover a token: its attention row in every head · click a head: select it");
    if (tint) notes.push(`bar under each head: ${model.get("tint_label") || "tint"}, ${fmt(tmin)} (dark) to ${fmt(tmax)} (light)`);
    drawLegend(ui.legend, scale, model.get("colormap"), notes);
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
    const W = LAYER_W + heads.length * (THUMB + GAP) + 3 * GROUP_GAP + 20;
    const Hh = 40 + layers.length * (THUMB + GAP) + 60;
    const { canvas: out, ctx } = exportCanvas(W, Hh);
    ctx.fillStyle = "#1f2328"; ctx.font = "600 13px system-ui,sans-serif";
    ctx.fillText(ui.title.textContent, 6, 16);
    ctx.font = "10px system-ui,sans-serif"; ctx.fillStyle = "#57606a";
    const gridRect = gridBox.getBoundingClientRect();
    for (const { canvas, cell, li } of thumbEls) {
      const r = cell.getBoundingClientRect();
      const x = r.left - gridRect.left + gridBox.scrollLeft, y = 34 + li * (THUMB + GAP);
      ctx.drawImage(canvas, x, y, THUMB, THUMB);
    }
    layers.forEach((l, li) => { ctx.textAlign = "right"; ctx.fillText(`L${l}`, LAYER_W - 6, 34 + li * (THUMB + GAP) + THUMB / 2 + 3); });
    if (scale) paintLegend(ctx, scale, model.get("colormap"), LAYER_W, 40 + layers.length * (THUMB + GAP), 200);
    return out;
  }

  function onHover() {
    marks.hover(sel.get("hovered_token"));
    marks.pin(sel.get("pinned_token"));
    paint();
  }

  sel.on(["hovered_token", "pinned_token", "layer", "head"], onHover);
  for (const name of ["scale", "gamma", "colormap", "hide", "_thumbs_hide", "_thumbs_alt"]) model.on(`change:${name}`, paint);
  for (const name of ["_thumbs", "order", "_tint"]) model.on(`change:${name}`, build);
  build();
  onHover();
  return () => el.replaceChildren();
}
