"""Caption metrics from a dual encoder (iccc.train.caption_metrics): similarity and retrieval consistency."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from iccc.train.caption_metrics import caption_consistency

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0)}


class ColourEmbedder:
    """Images by their mean colour, texts by the colour words they name: one shared 3-d space."""

    name, dim = "colour", 3

    def __init__(self):
        self.image_calls = 0

    @staticmethod
    def _unit(v):
        v = np.asarray(v, dtype=np.float32) + 1e-3
        return v / np.linalg.norm(v)

    def encode_images(self, images, *, batch_size=None, progress=False):
        self.image_calls += len(images)
        return np.stack([self._unit(np.asarray(im).reshape(-1, 3).mean(axis=0)) for im in images])

    def encode_texts(self, texts, *, batch_size=None, progress=False):
        return np.stack([self._unit(sum((np.array(rgb, float) for c, rgb in COLOURS.items() if c in t),
                                        np.zeros(3))) for t in texts])


def image(colour):
    return Image.new("RGB", (8, 8), COLOURS[colour])


def test_right_captions_score_higher_than_wrong_ones():
    colours = ["red", "green", "blue", "yellow"] * 2
    images = [image(c) for c in colours]
    refs = [f"a {c} square." for c in colours]
    wrong = [f"a {colours[(i + 1) % 4]} square." for i in range(len(colours))]
    enc = ColourEmbedder()
    good = caption_consistency(images, refs, refs, enc, k=2)
    assert good["n_images"] == 4 and good["n_rows"] == 8 and enc.image_calls == 4  # one vector per image
    bad = caption_consistency(images, wrong, refs, enc, k=2)
    assert good["image_text_similarity"] > bad["image_text_similarity"]
    assert good["retrieval_qgr"] > bad["retrieval_qgr"]
    assert good["reference_text_similarity"] == pytest.approx(1.0, abs=1e-5)
    assert bad["reference_retrieval_qgr"] == pytest.approx(good["retrieval_qgr"])
    # image ids instead of pixels give the same gallery
    keyed = caption_consistency(images, refs, refs, ColourEmbedder(), k=2, image_keys=[i % 4 for i in range(8)])
    assert keyed["retrieval_qgr"] == pytest.approx(good["retrieval_qgr"])


def test_small_and_bad_inputs():
    enc = ColourEmbedder()
    one = caption_consistency([image("red")], ["a red square."], ["a red square."], enc)
    assert one["retrieval_qgr"] is None and one["k"] is None and one["n_images"] == 1
    assert caption_consistency([], [], [], enc)["n_rows"] == 0
    with pytest.raises(ValueError, match="`generated`"):
        caption_consistency([image("red")], [], ["x"], enc)
    with pytest.raises(ValueError, match="`k`"):
        caption_consistency([image("red")], ["x"], ["x"], enc, k=0)
    with pytest.raises(TypeError, match="`embedder`"):
        caption_consistency([image("red")], ["x"], ["x"], object())
