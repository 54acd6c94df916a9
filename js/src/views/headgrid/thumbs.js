// @ts-check
// Which thumbnails the grid draws: the kernel's set for the current hiding (or the one for the
// first token's hiding toggled), with the heads the shared data model holds in full pooled here
// as the kernel pools the others; and the tint chosen under each head.
import { decode } from "../../lib/decode.js";
import { maxPool } from "../../lib/downsample.js";
import { displayMap } from "../../lib/maps.js";
import { blockVisibility, sameList } from "./geometry.js";

/** @typedef {import("./state.js").GridContext} GridContext */
/** @typedef {import("./state.js").GridState} GridState */
/** @typedef {{ get: (key: string) => Float32Array | ArrayLike<number> | null | undefined }} Held */

/**
 * Pick the decoded thumbnails that match the model's hiding into `g.thumbs` and `g.thumbsHide`.
 * False while they are still being decoded.
 * @param {GridContext} ctx
 * @param {GridState} g
 * @param {{ get: (p: any) => any }} coded  lib/store.js `payloadCache`.
 * @param {Held | null} held  The full maps the shared data model holds, or none.
 * @returns {boolean}
 */
export function pickThumbs(ctx, g, coded, held) {
  const { model } = ctx;
  const want = model.get("hide");
  const useAlt = model.get("_thumbs_alt")?.shape && sameList(want, model.get("_thumbs_alt_hide")) && !sameList(want, model.get("_thumbs_hide"));
  g.thumbsHide = useAlt ? model.get("_thumbs_alt_hide") : model.get("_thumbs_hide");
  g.thumbs = coded.get(model.get(useAlt ? "_thumbs_alt" : "_thumbs"));
  if (g.thumbs) fromMaps(ctx, g, held);
  return g.thumbs !== null;
}

/**
 * The thumbnails of heads the data model holds in full, pooled here as the kernel pools the others
 * (hidden keys removed and rows renormalised, then max-pooled by `_pool`); written into the decoded
 * set once. A map that is not there leaves its thumbnail empty (NaN, drawn as masked) and is
 * listed in `g.missing`.
 * @param {GridContext} ctx
 * @param {GridState} g
 * @param {Held | null} held
 */
function fromMaps(ctx, g, held) {
  const { model, facts, maskVis } = ctx;
  const set = g.thumbs;
  const keys = model.get("_thumb_maps") ?? [];
  if (!set || !keys.length || set.fromMaps === keys) return;
  set.fromMaps = keys;
  const [, H, tq, tk] = set.shape, pool = model.get("_pool") || 1;
  g.missing = [];
  for (const key of keys) {
    const [layer, head] = key.split("/").map(Number);
    const li = facts.layerIds.indexOf(layer), hi = facts.headIds.indexOf(head);
    if (li < 0 || hi < 0) continue;
    const at = (li * H + hi) * tq * tk;
    const raw = held ? held.get(key) : null;
    if (!raw) { set.values.fill(NaN, at, at + tq * tk); g.missing.push(key); continue; }
    const shown = displayMap(raw, facts.nQuery, facts.nKey, { hide: g.thumbsHide, visible: maskVis });
    set.values.set(maxPool(shown, facts.nQuery, facts.nKey, pool).values, at);
  }
}

/**
 * After `pickThumbs`: the thumbnails' shape, which of their cells are visible, and the tint (the
 * menu's choice of several named tints, or the one tint), signed or not.
 * @param {GridContext} ctx
 * @param {GridState} g
 */
export function readThumbs(ctx, g) {
  const { model, facts } = ctx;
  if (!g.thumbs) return;
  [, , g.tq, g.tk] = g.thumbs.shape;
  g.blockVis = blockVisibility(ctx.maskVis, facts.nQuery, facts.nKey, model.get("_pool") || 1, g.tq, g.tk);
  const tints = model.get("_tints") ?? {};
  if (Object.keys(tints).length) {
    const chosen = tints[model.get("tint_label")];
    g.tint = chosen ? decode(chosen).values : null;
  } else g.tint = model.get("_tint") ? decode(model.get("_tint")).values : null;
  // Signed values (head effects) are drawn on a diverging scale centred at 0.
  g.tintSigned = Boolean(g.tint) && (model.get("_tint_signed") ?? []).includes(model.get("tint_label"));
}

/**
 * The largest thumbnail value (at least 1e-6), found once per decoded set.
 * @param {NonNullable<GridState["thumbs"]>} thumbs
 * @returns {number}
 */
export function thumbsMax(thumbs) {
  if (thumbs.vmax === undefined) {
    const values = thumbs.values;
    let vmax = 1e-6;
    for (let i = 0; i < values.length; i++) if (values[i] > vmax) vmax = values[i];
    thumbs.vmax = vmax;
  }
  return thumbs.vmax;
}
