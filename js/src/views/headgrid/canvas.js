// @ts-check
// Canvases for the head grid's parts, typed.
import { h } from "../../ui/dom.js";

/**
 * @param {number} width  In device pixels.
 * @param {number} height
 * @returns {HTMLCanvasElement}
 */
export function canvasOf(width, height) {
  return /** @type {HTMLCanvasElement} */ (h("canvas", { width, height }));
}

/**
 * @param {HTMLCanvasElement} c
 * @returns {CanvasRenderingContext2D}
 */
export function context2d(c) {
  return /** @type {CanvasRenderingContext2D} */ (c.getContext("2d"));
}
