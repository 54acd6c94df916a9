import test from "node:test";
import assert from "node:assert/strict";
import { TILE, isTileReply, readTileReply, tileFromPayload, tileId, tileOrigin, tileRequest, tileValue } from "../src/lib/tiles.js";

const OPTIONS = { key: "3/mean", measure: "weights", hide: [0, 5], rowNormalize: true };

test("a tile id names the map, the measure and the display options", () => {
  assert.equal(tileId(OPTIONS, 256, 512), "3/mean|0,5|1|256,512");
  assert.equal(tileId({ ...OPTIONS, measure: "norms", hide: [], rowNormalize: false }, 0, 0), "norms|3/mean||0|0,0");
  assert.notEqual(tileId(OPTIONS, 0, 256), tileId(OPTIONS, 256, 0));
});

test("cells fall in the tile whose origin is the multiple of the tile size below them", () => {
  assert.deepEqual(tileOrigin(0, 255), { r0: 0, c0: 0 });
  assert.deepEqual(tileOrigin(256, 700), { r0: 256, c0: 512 });
  assert.deepEqual(tileOrigin(9, 17, 8), { r0: 8, c0: 16 });
  assert.equal(TILE, 256);
});

test("a request asks for a full tile, cut at the map's edges", () => {
  const msg = tileRequest(OPTIONS, 256, 0, { nQuery: 300, nKey: 1000 });
  assert.deepEqual(msg, {
    type: "tile", id: "3/mean|0,5|1|256,0", key: "3/mean", measure: "weights",
    r0: 256, r1: 300, c0: 0, c1: 256, hide: [0, 5], row_normalize: true,
  });
  assert.deepEqual(tileRequest(OPTIONS, 4, 4, { nQuery: 10, nKey: 6, size: 4 }).c1, 6);
});

test("replies are told from other messages and decoded", () => {
  assert.ok(isTileReply({ type: "tile" }) && isTileReply({ type: "tile-error" }));
  assert.ok(!isTileReply({ type: "value" }) && !isTileReply(null) && !isTileReply(undefined));
  // float16 0, 1, 0.5, -2 and 0.25, 2 as a 2 x 3 block, at an odd offset of its buffer.
  const raw = new Uint8Array(13);
  const dv = new DataView(raw.buffer, 1, 12);
  [0x0000, 0x3c00, 0x3800, 0xc000, 0x3400, 0x4000].forEach((h, i) => dv.setUint16(i * 2, h, true));
  const reply = readTileReply({ type: "tile", id: "a", key: "0/1", r0: 8, c0: 16, dtype: "float16", shape: [2, 3] }, [dv]);
  assert.equal(reply.error, undefined);
  assert.deepEqual({ ...reply.tile, values: [...reply.tile.values] },
    { id: "a", values: [0, 1, 0.5, -2, 0.25, 2], r0: 8, c0: 16, rows: 2, cols: 3 });
  assert.equal(tileValue(reply.tile, 9, 17), 0.25);
  assert.deepEqual(readTileReply({ type: "tile-error", id: "b", message: "too big" }, []), { id: "b", error: "too big" });
  assert.throws(() => readTileReply({ type: "tile", id: "c", dtype: "float16", shape: [1, 1] }, []), /without its buffer/);
});

test("tiles kept in the state decode like replies, and a tile is two-dimensional", () => {
  const kept = { dtype: "float16", shape: [1, 2], data: new Uint8Array([0x00, 0x3c, 0x00, 0x38]), id: "k", key: "0/0", r0: 0, c0: 256 };
  const tile = tileFromPayload(kept);
  assert.deepEqual([...tile.values], [1, 0.5]);
  assert.equal(tile.cols, 2);
  assert.throws(() => tileFromPayload({ ...kept, shape: [2] }), /rows x cols/);
});
