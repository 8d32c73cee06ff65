"""Image-conditioned negatives (iccc.vision.prior): scene concepts, the image check, determinism."""

from __future__ import annotations

import pickle
import re
import zlib

import numpy as np
import pytest

import iccc
from iccc import Corruptor
from iccc.streams import Streams
from iccc.vision import Embeddings, EmbeddingSet, ImagePrior, calibrate_margin
from iccc.vision.prior import STATUS_POSSIBLY_TRUE, ScoreRequest, scene_key

pytestmark = pytest.mark.model

DIM = 64


def word_vector(word: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(word.encode()))
    v = rng.standard_normal(DIM)
    return v / np.linalg.norm(v)


class WordEmbedder:
    """A real (if simple) dual encoder: a text is the sum of its words' fixed random vectors, an
    image the sum of the vectors of the things it shows; both L2-normalised."""

    name = "bag-of-words"
    dim = DIM

    def __init__(self):
        self.calls = 0

    def _unit(self, words):
        v = sum((word_vector(w) for w in words), np.zeros(DIM))
        return (v / np.linalg.norm(v)).astype(np.float32)

    def encode_texts(self, texts, *, batch_size=None, progress=False):
        self.calls += 1
        words = [[w for w in re.findall(r"[a-z]+", t.lower()) if w not in ("a", "an", "the", "on", "of")]
                 for t in texts]
        return np.stack([self._unit(ws) for ws in words]) if texts else np.zeros((0, DIM), np.float32)

    def encode_images(self, images, *, batch_size=None, progress=False):
        return np.stack([self._unit(things) for things in images])


CAPTIONS = ["A dog on a couch.", "A cat on a bed.", "A ball on a table.", "A bird on a chair.",
            "A horse on a road.", "A dog on a bed.", "A cat on a couch.", "A bird on a table."]


@pytest.fixture(scope="module")
def parsed():
    return iccc.parse(CAPTIONS)


@pytest.fixture(scope="module")
def base(parsed):
    return iccc.ConceptBase.from_parsed(parsed, above_mean=False, groups=range(len(parsed)))


def images_of(things: dict) -> Embeddings:
    enc = WordEmbedder()
    return Embeddings.from_array(enc.encode_images(list(things.values())), ids=list(things))


def draws(engine, parsed, group, n=200, seed=0):
    streams = Streams(seed, 0, range(n))
    return engine.many([parsed] * n, [streams[k] for k in range(n)], [group] * n)


def test_no_prior_gives_todays_records(parsed, base):
    streams = Streams(3, 0, range(len(parsed) * 20))
    rows = parsed * 20
    plain = Corruptor(base).many(rows, [streams[k] for k in range(len(rows))], list(range(8)) * 20)
    again = Corruptor(base, vision=None).many(rows, [streams[k] for k in range(len(rows))], list(range(8)) * 20)
    assert plain == again


def test_scene_concepts_take_the_share_asked(parsed, base):
    caption = parsed[0]  # "A dog on a couch."; "horse" is a legal but rare replacement of "dog"
    images = images_of({0: ["dog", "couch"]})

    def horse_share(records):
        of_dog = [r for r in records if r.original == "dog"]
        assert len(of_dog) > 40
        return np.mean([r.replacement == "horse" for r in of_dog])

    share_before = horse_share(draws(Corruptor(base, operations=["replace"], kinds=["noun"]), caption, 0, n=400))
    for p in (0.5, 1.0):
        prior = ImagePrior(images, scene={0: {"noun": {"horse", "ball"}, "entity": {"horse"}}}, p_scene=p)
        records = draws(Corruptor(base, operations=["replace"], kinds=["noun"], vision=prior), caption, 0, n=400)
        share = horse_share(records)
        if p == 1.0:
            assert share == 1.0
        else:
            assert share_before < 0.3 and 0.38 < share < 0.62, (share_before, share)
        # a scene concept that is not a legal edit ("ball" for an animal) gets no weight
        assert not any(r.replacement == "ball" for r in records)
    # an image without scene concepts, or rows of another image, draw as without the prior
    prior = ImagePrior(images, scene={0: {"noun": {"horse"}}}, p_scene=1.0)
    assert draws(Corruptor(base, operations=["replace"], kinds=["noun"], vision=prior), caption, 5) == \
        draws(Corruptor(base, operations=["replace"], kinds=["noun"]), caption, 5)


def test_reweight_keeps_relative_weights():
    class Pool:
        lemmas = ["dog", "cat", "fork", "spoon"]

    prior = ImagePrior(images_of({0: ["x"]}), scene={0: {"noun": {"fork", "spoon"}}}, p_scene=0.3)
    w = np.array([4.0, 2.0, 1.0, 3.0])
    out, cumulative = prior.reweight(Pool(), w, np.cumsum(w), "noun", 0)
    assert np.isclose(out.sum(), 1.0) and np.isclose(cumulative[-1], 1.0)
    # (1 - p) of the weight as before (the scene candidates keep their share of it), plus p on them
    assert np.isclose(out[2] + out[3], 0.7 * 0.4 + 0.3)
    assert np.isclose(out[2] / out[3], 1 / 3) and np.isclose(out[0] / out[1], 2.0)
    same, _ = prior.reweight(Pool(), w, np.cumsum(w), "attribute", 0)
    assert same is w


def test_check_drops_what_the_image_shows(parsed, base):
    caption = parsed[0]  # "A dog on a couch."; the image also shows a horse
    images = images_of({0: ["dog", "couch", "horse"]})
    enc = WordEmbedder()
    prior = ImagePrior(images, encoder=enc, margin=0.05, candidates=4, p_scene=0.0)
    engine = Corruptor(base, operations=["replace"], kinds=["noun", "entity"], vision=prior)
    text_only = draws(Corruptor(base, operations=["replace"], kinds=["noun", "entity"]), caption, 0)
    records = draws(engine, caption, 0)
    assert any("horse" in r.replacement for r in text_only)
    kept = [r for r in records if r is not None]
    assert kept and not any("horse" in r.replacement for r in kept)
    # every kept negative is clearly less similar to the image than the caption
    sims = prior.score([ScoreRequest(0, (caption.text, *(r.corrupted_caption for r in kept)))])[0]
    assert np.all(sims[1:] <= sims[0] - 0.05)
    # one batch of texts per round of rows, not one call per row
    assert enc.calls <= 3


def test_check_status_when_the_image_may_support_every_candidate(parsed):
    # the only legal edit is dog -> horse, and the image shows a horse too
    base = iccc.ConceptBase.from_parsed(iccc.parse(["A dog on a couch.", "A horse on a couch."]), above_mean=False)
    prior = ImagePrior(images_of({0: ["dog", "couch", "horse"]}), encoder=WordEmbedder(), margin=0.05, p_scene=0.0)
    ds = {"caption": ["A dog on a couch.", "A dog on a couch."], "image_id": [0, 9]}
    out = iccc.corrupt(ds, [0, 1], concepts=base, seed=0, kinds=["noun", "entity"], operations=["replace"],
                       vision=prior, group_column="image_id")
    assert out["corrupt_status"][0] == STATUS_POSSIBLY_TRUE and out["corrupted_caption"][0] is None
    # row 1's image has no vector: a text-only negative
    assert out["corrupt_status"][1] == "ok" and "horse" in out["replacement"][1]
    assert iccc.corrupt("A dog on a couch.", concepts=base, seed=0, kinds=["noun", "entity"], operations=["replace"],
                        vision=prior, group=0) is None


def test_same_rows_for_any_batching_and_after_pickling(parsed, base):
    images = images_of({g: [w.strip(".").lower() for w in CAPTIONS[g].split()[1::3]] for g in range(8)})
    prior = ImagePrior(images, scene={g: {"noun": {"ball", "horse"}} for g in range(8)}, encoder=WordEmbedder(),
                       margin=0.02, candidates=3)
    batch = {"caption": CAPTIONS * 5, "image_id": list(range(8)) * 5}
    kwargs = dict(concepts=base, seed=1, vision=prior, group_column="image_id")
    whole = iccc.corrupt(batch, list(range(40)), **kwargs)
    parts = [iccc.corrupt({k: v[lo:lo + 7] for k, v in batch.items()}, list(range(lo, min(40, lo + 7))), **kwargs)
             for lo in range(0, 40, 7)]
    for name in whole:
        assert whole[name] == [x for p in parts for x in p[name]]
    clone = pickle.loads(pickle.dumps(prior))
    again = iccc.corrupt(batch, list(range(40)), **{**kwargs, "vision": clone})
    assert again == whole
    assert set(whole["corrupt_status"]) <= {"ok", STATUS_POSSIBLY_TRUE}


def test_calibrated_margin_is_a_quantile_of_sibling_gaps():
    images = Embeddings.from_array(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32), ids=["a", "b"])
    texts = np.array([[1, 0], [0.6, 0.8], [0, 1], [0.8, 0.6]], np.float32)
    found = calibrate_margin(images, texts, ["a", "a", "b", "b"], quantile=0.75)
    gaps = [0.4, -0.4, 0.4, -0.4]
    assert found["pairs"] == 4 and found["images"] == 2
    assert np.isclose(found["margin"], np.quantile(gaps, 0.75))
    assert calibrate_margin(images, texts, ["a", "b", None, None])["margin"] is None
    with pytest.raises(ValueError, match="quantile"):
        calibrate_margin(images, texts, ["a"] * 4, quantile=1.5)
    with pytest.raises(ValueError, match="image_of_text"):
        calibrate_margin(images, texts, ["a"])


def test_build_from_an_embedding_set_finds_scene_concepts_of_other_images():
    # images 0 and 1 are kitchen scenes, 2 is a field; the texts are word-vector captions
    captions = ["A plate on a table.", "A table with a plate.", "A fork on a table.", "A cup on a table.",
                "A horse in a field.", "A cow in a field."]
    image_of_text = [0, 0, 1, 1, 2, 2]
    enc = WordEmbedder()
    texts = Embeddings.from_array(enc.encode_texts(captions))
    images = Embeddings.from_array(enc.encode_images([["plate", "table"], ["fork", "cup", "table"],
                                                      ["horse", "cow", "field"]]), ids=[0, 1, 2])
    found = EmbeddingSet(images=images, texts=texts, captions=tuple(captions), image_of_text=tuple(image_of_text))
    prior = ImagePrior.build(found, neighbours=2, map=None, margin=None)
    assert not prior.checks
    assert "fork" in prior.scene_keys(0, "noun") | prior.scene_keys(0, "entity")
    assert not ({"plate", "table"} & (prior.scene_keys(0, "noun") | prior.scene_keys(0, "entity")))
    assert "horse" not in prior.scene_keys(0, "noun") | prior.scene_keys(0, "entity")
    calibrated = ImagePrior.build(found, encoder=enc, neighbours=2, map=None)
    assert calibrated.checks and calibrated.margin == pytest.approx(calibrated.report["calibration"]["margin"])


def test_bad_arguments():
    images = images_of({0: ["dog"]})
    with pytest.raises(ValueError, match="`margin` is needed"):
        ImagePrior(images, encoder=WordEmbedder())
    with pytest.raises(ValueError, match="`p_scene`"):
        ImagePrior(images, p_scene=1.5)
    with pytest.raises(ValueError, match="`candidates`"):
        ImagePrior(images, candidates=0)
    with pytest.raises(TypeError, match="`encoder`"):
        ImagePrior(images, encoder=object(), margin=0.1)

    class Small(WordEmbedder):
        dim = 8

    with pytest.raises(ValueError, match="dimensional"):
        ImagePrior(images, encoder=Small(), margin=0.1)
    base = iccc.ConceptBase.from_parsed(iccc.parse(["A dog.", "A cat."]), above_mean=False)
    with pytest.raises(TypeError, match="`vision`"):
        Corruptor(base, vision="prior.npz")
    with pytest.raises(TypeError, match="EmbeddingSet"):
        ImagePrior.build(42)
    assert scene_key("noun", "a fork") == "fork"


def test_build_dataset_with_a_prior():
    from datasets import Dataset

    from iccc.dataset import build_dataset

    ds = Dataset.from_dict({"caption": CAPTIONS, "image_id": list(range(8))})
    images = images_of({g: [w.strip(".").lower() for w in CAPTIONS[g].split()[1::3]] for g in range(8)})
    prior = ImagePrior(images, encoder=WordEmbedder(), margin=0.02, candidates=2)
    built = build_dataset(ds, p_correction=1.0, vision=prior, balance=False)
    assert set(built["build_status"]) <= {"ok", STATUS_POSSIBLY_TRUE}
    with pytest.raises(ValueError, match="image id"):
        build_dataset(ds, group_column=None, vision=prior)
    other = ImagePrior(Embeddings.from_array(images.vectors, ids=[str(g) for g in range(8)]))
    with pytest.raises(ValueError, match="None of the image ids"):
        build_dataset(ds, vision=other)
    with pytest.warns(UserWarning, match="have no vector"):
        build_dataset(ds, vision=ImagePrior(images.subset([0, 1, 2])), balance=False)
