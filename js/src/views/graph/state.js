// @ts-check
// What the graph's parts share: one context of things fixed while the view lives, and one state
// object per render (never a module global, as each widget's ESM may be its own module instance).

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {import("../../lib/selection.js").SelectionHandle} SelectionHandle */
/** @typedef {ReturnType<typeof import("../../lib/facts.js").attentionFacts>} Facts */
/** @typedef {import("../../lib/maps.js").Edge} Edge */
/** @typedef {import("./edges.js").EdgeSet} EdgeSet */
/** @typedef {import("./labels.js").NodeLabels} NodeLabels */

/**
 * The view's root and its header, body and legend boxes (ui/dom.js `makeRoot`).
 * @typedef {{ root: HTMLElement, title: HTMLElement, controls: HTMLElement, body: HTMLElement,
 *   legend: HTMLElement, status: HTMLElement, tip: HTMLElement }} Ui
 */

/**
 * Node positions: arc (every y on the baseline) or force.
 * @typedef {{ x: ArrayLike<number>, y: ArrayLike<number> }} Positions
 */

/**
 * What does not change while the view lives.
 * @typedef {object} GraphContext
 * @property {WidgetModel} model
 * @property {SelectionHandle} sel
 * @property {Facts} facts
 * @property {Ui} ui
 * @property {any} maps  lib/measure.js `connectMeasured`: weights or norms, from the data model.
 * @property {(i: number, j: number) => boolean} visible  Whether query row i sees key j.
 * @property {SVGSVGElement} root
 * @property {SVGGElement} nodeLayer
 * @property {SVGGElement} litLayer  The focus token's edges, copied at full strength.
 * @property {number} height  The graph's height in CSS pixels.
 */

/**
 * What the parts draw from and update.
 * @typedef {object} GraphState
 * @property {number} width  The graph's width in CSS pixels.
 * @property {Positions | null} pos
 * @property {Float32Array | null} values  The map drawn (one head or a fusion); null when overlaid.
 * @property {any} scale  The weight scale (ui/controls.js `viewScale`); null when overlaid.
 * @property {EdgeSet} edges
 * @property {NodeLabels | null} labels
 * @property {string | null} lit  The focus whose edges are lit.
 */

export {};
