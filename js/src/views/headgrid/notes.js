// @ts-check
// The head grid's legend notes, DOM-free: what the thumbnails leave out and what their marks mean.
import { fmt } from "../../lib/colormap.js";
import { sameList } from "./geometry.js";

/**
 * Notes after the hiding notes (`notes`, appended to and returned).
 * @param {string[]} notes
 * @param {object} facts
 * @param {number} facts.nKey
 * @param {readonly number[]} facts.hide  The hiding asked for.
 * @param {readonly number[]} facts.thumbsHide  The hiding the thumbnails were made with.
 * @param {readonly string[]} facts.missing  Held heads whose map was not there.
 * @param {number} facts.pool  Thumbnail pooling factor.
 * @param {number} facts.sampled  Query rows sampled per pooled row (0: all).
 * @param {{ name: string, min: number, max: number } | null} facts.tint  An unsigned tint's range.
 * @param {boolean} facts.badges  Some head has role labels.
 * @returns {string[]}
 */
export function gridNotes(notes, { nKey, hide, thumbsHide, missing, pool, sampled, tint, badges }) {
  if (missing.length) notes.push(`no map held for ${missing.length} head${missing.length > 1 ? "s" : ""} (${missing.slice(0, 4).join(", ")}${missing.length > 4 ? ", …" : ""}): drawn blank`);
  if (!sameList(thumbsHide, hide)) notes.push(`thumbnails were made with hide = [${thumbsHide}]; applying [${hide}] needs the kernel`);
  if (pool > 1 && sampled) {
    notes.push(`${nKey} tokens: thumbnails show ${sampled} of every ${pool} query rows (keys max-pooled ${pool} to 1), ` +
      "so a long input's overview stays quick; the heatmap shows any head in full");
  } else if (pool > 1) notes.push(`thumbnails max-pooled ${pool}x${pool}; a hovered token shows its block of ${pool} rows`);
  if (tint) notes.push(`bar under each head: ${tint.name}, ${fmt(tint.min)} (dark) to ${fmt(tint.max)} (light)`);
  if (badges) {
    notes.push("badges: where a head looks on this text — sink (first token), prev (previous token), ind (induction " +
      "target) — when that pattern takes most of its attention; aw.experiments.head_roles tests heads on the model");
  }
  return notes;
}
