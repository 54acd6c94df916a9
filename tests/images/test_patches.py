"""Patch maps and overlays of a vision encoder's attention, against the weights they come from."""

import numpy as np
import pytest
from helpers.tiny_seq2seq import test_image as make_image
from helpers.tiny_seq2seq import tiny_vision

import attnwidget as aw


@pytest.fixture(scope="module")
def deit():
    model, processor = tiny_vision("deit")  # [CLS], [DIST], then a 4 x 4 grid
    return aw.extract(model, processor, image=make_image())


def test_patch_map_is_the_query_row_on_patches(deit):
    grid = aw.images.patch_map(deit, 0, layer=1)
    assert grid.shape == (4, 4)
    row = deit.layer(1).mean(axis=0)[0]  # independent: mean over heads of the [CLS] row
    np.testing.assert_allclose(grid.ravel(), row[2:], atol=1e-6)
    np.testing.assert_allclose(aw.images.patch_map(deit, 5, layer=0).ravel(), deit.layer(0).mean(0)[5, 2:], atol=1e-6)
    flow = aw.images.patch_map(deit, 0, rollout=True)
    np.testing.assert_allclose(flow.ravel(), aw.metrics.rollout(deit)[0, 2:], atol=1e-6)


def test_overlay_tints_the_strongest_patch_most():
    values = np.zeros((4, 4), np.float32)
    values[1, 2] = 1.0
    values[3, 0] = 0.25
    image = np.full((40, 48, 3), 100, np.uint8)
    out = aw.images.patch_overlay(image, values, alpha=0.5)
    assert out.shape == (40, 48, 3) and out.dtype == np.uint8
    # Cell (1, 2) covers rows 10..19 and columns 24..35 of the image; it is the brightest.
    cell = out[10:20, 24:36].astype(int).sum(-1)
    assert cell.min() == out.astype(int).sum(-1).max()
    assert out[35, 5].sum() > out[0, 0].sum()  # the weaker patch is tinted less, but tinted
    np.testing.assert_array_equal(aw.images.patch_overlay(image, values, alpha=0.0), image)


def test_overlay_draws_a_uniform_map_low_on_the_ramp_not_white():
    # 196 patches of 1/196 each: the views' colours are anchored to absolute weight, so is the ramp.
    n = 14
    values = np.full((n, n), 1 / n**2, np.float32)
    image = np.full((28, 28, 3), 100, np.uint8)
    out = aw.images.patch_overlay(image, values, alpha=1.0)
    # Log scale, 1e-3..1: t = (log10(1/196) + 3) / 3 = 0.236; the ramp (3t, 3t-1, 3t-2) is dark red.
    t = (np.log10(1 / n**2) + 3) / 3
    expect = np.round(np.clip([3 * t, 3 * t - 1, 3 * t - 2], 0, 1) * 255)
    assert (out == expect.astype(np.uint8)).all()
    assert out[..., 0].max() < 200 and out[..., 1:].max() == 0  # neither white nor yellow
    # Linear: the same map is nearly black (1/196 of the top); the old, per-map maximum is opt-in.
    lin = aw.images.patch_overlay(image, values, alpha=1.0, scale="linear")
    assert (lin == [4, 0, 0]).all()
    assert (aw.images.patch_overlay(image, values, alpha=1.0, vmax=None) == 255).all()
    # A patch with all of the query's attention is white on every scale.
    sharp = np.zeros((n, n), np.float32)
    sharp[0, 0] = 1.0
    for scale in ("log", "linear", "power"):
        assert (aw.images.patch_overlay(image, sharp, alpha=1.0, scale=scale)[0, 0] == 255).all()
    with pytest.raises(ValueError, match="scale must be one of"):
        aw.images.patch_overlay(image, values, scale="sqrt")
    with pytest.raises(ValueError, match="vmax must be a positive number"):
        aw.images.patch_overlay(image, values, vmax=0)
    with pytest.raises(TypeError, match="vmax must be"):
        aw.images.patch_overlay(image, values, vmax="1")


def test_patch_bad_input(deit, tiny_llama, word_tokenizer):
    text = aw.extract(tiny_llama, word_tokenizer, "w1 w2 w3")
    with pytest.raises(ValueError, match="no patch grid"):
        aw.images.patch_map(text)
    with pytest.raises(IndexError, match="query 99 out of range"):
        aw.images.patch_map(deit, 99)
    with pytest.raises(ValueError, match="values must be a \\(rows, cols\\) array"):
        aw.images.patch_overlay(np.zeros((8, 8, 3), np.uint8), np.ones(4))
    with pytest.raises(ValueError, match="image must be"):
        aw.images.patch_overlay(np.zeros((8,)), np.ones((2, 2)))
