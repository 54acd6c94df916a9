// @ts-check
// Shapes shared by the views, the host and the lib modules, as JSDoc types (no code). A module
// names one with `/** @typedef {import("../lib/types.js").WidgetModel} WidgetModel */`.

/**
 * A listener of a model event: `change:<trait>` listeners get the new value, `msg:custom`
 * listeners the message and its binary buffers.
 * @typedef {(value?: any, buffers?: DataView[]) => void} ModelListener
 */

/**
 * What a view's `model` offers (anywidget's model interface, and the export host's shim of it).
 * @typedef {object} WidgetModel
 * @property {(name: string) => any} get  A trait's value.
 * @property {(name: string, value: any) => void} set  Change a trait (seen by every view of the model).
 * @property {(name: string, callback: ModelListener, context?: any) => void} on  Listen to `change:<trait>` or `msg:custom`.
 * @property {(name?: string | null, callback?: ModelListener | null, context?: any) => void} off  Stop listening (all listeners of `name` when no callback).
 * @property {() => void} save_changes  Send the changes made with `set` to the kernel.
 * @property {(content: any, callbacks?: any, buffers?: (ArrayBuffer | ArrayBufferView)[]) => void} send  A custom message to the kernel.
 */

/**
 * The `host` a view's render gets (anywidget >= 0.11): other models by their "anywidget:<id>"
 * reference, such as the shared selection and data models.
 * @typedef {object} Host
 * @property {(ref: string) => Promise<WidgetModel>} getModel
 * @property {(ref: string) => Promise<{ exports?: object, render: (view: { el: HTMLElement, signal?: AbortSignal }) => Promise<void> }>} [getWidget]
 */

/**
 * Binary data as it reaches a view: a DataView from a kernel, an ArrayBuffer or typed array from
 * an exported page or a test.
 * @typedef {ArrayBuffer | ArrayBufferView} BinaryData
 */

/**
 * An array payload (attnwidget/widgets/payload.py `array_payload`): `{dtype, shape, data}` plus
 * extras; uint8 payloads with `encoding: "sqrt"` carry one `scale` per leading index.
 * @typedef {object} ArrayPayload
 * @property {"float16" | "float32" | "uint8"} dtype
 * @property {number[]} shape
 * @property {BinaryData} data
 * @property {string} [encoding]
 * @property {number[]} [scale]
 */

/**
 * A decoded array: row-major values and their shape, with the payload's extra fields beside them.
 * @typedef {{ shape: number[], values: Float32Array, [extra: string]: any }} DecodedArray
 */

/**
 * A coded map payload (payload.py `map_payload`): cells in `coding`, maybe deflated, maybe only
 * the causal cells.
 * @typedef {object} MapPayload
 * @property {"float16" | "log8"} coding
 * @property {number[]} shape
 * @property {BinaryData} data
 * @property {number} [floor]
 * @property {number} [levels]
 * @property {"causal"} [cells]
 * @property {"deflate" | "deflate-raw"} [compression]
 */

/**
 * A decoded coded map: values, shape and the relative error of a coded value.
 * @typedef {{ shape: number[], values: Float32Array, precision: number, [extra: string]: any }} DecodedMaps
 */

export {};
