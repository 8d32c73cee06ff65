"""Image→text map, caption search and retrieval scores (iccc.vision.linear_map, index, metrics, consistency).

Synthetic vectors only (no model): every expected value is either worked out by hand here or a
brute-force numpy computation written independently of the code under test.
"""

from __future__ import annotations

import math
import pickle
import sys

import numpy as np
import pytest

from iccc.vision.consistency import retrieval_consistency
from iccc.vision.index import CaptionIndex, retrieve_captions
from iccc.vision.linear_map import LinearMap, paired
from iccc.vision.metrics import image_to_caption_metrics, retrieval_metrics

try:
    import faiss  # noqa: F401

    HAVE_FAISS = True
except ImportError:  # the vision extra is not installed
    HAVE_FAISS = False

needs_faiss = pytest.mark.skipif(not HAVE_FAISS, reason='needs faiss (pip install "iccc[vision]")')


class Emb:
    """Duck-typed stand-in for iccc.vision.Embeddings (the code only reads .ids and .vectors)."""

    def __init__(self, vectors, ids=None):
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.ids = tuple(range(len(self.vectors))) if ids is None else tuple(ids)


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def brute_force(vectors, queries, k, groups=None, exclude=None):
    """Positions of the k best cosines, ties by position, computed the slow obvious way."""
    sims = unit(queries) @ unit(vectors).T
    out = []
    for i, row in enumerate(sims):
        items = [(-round(float(s), 6), j) for j, s in enumerate(row)
                 if exclude is None or exclude[i] is None or groups[j] != exclude[i]]
        ranked = [j for _, j in sorted(items)][:k]
        out.append(ranked + [-1] * (k - len(ranked)))
    return np.array(out)


# ---------------------------------------------------------------------------- LinearMap
def test_lstsq_recovers_a_linear_relation_with_offsets():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6))
    w = rng.normal(size=(6, 4))
    y = x @ w + np.array([3.0, -1.0, 0.5, 2.0])
    m = LinearMap.fit(x, y, normalize=False)
    # with centring, the offset goes into the means and the weight is exactly w
    np.testing.assert_allclose(m.weight, w, atol=1e-4)
    np.testing.assert_allclose(m.transform(x, normalize_output=False), y, atol=1e-3)


def test_ridge_is_close_to_lstsq_for_a_small_strength_and_shrinks_for_a_large_one():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5))
    y = x @ rng.normal(size=(5, 5)) + 0.01 * rng.normal(size=(200, 5))
    exact = LinearMap.fit(x, y, normalize=False)
    small = LinearMap.fit(x, y, method="ridge", ridge=1e-6, normalize=False)
    large = LinearMap.fit(x, y, method="ridge", ridge=10.0, normalize=False)
    np.testing.assert_allclose(small.weight, exact.weight, atol=1e-4)
    assert np.linalg.norm(large.weight) < 0.5 * np.linalg.norm(exact.weight)
    # fewer pairs than dimensions: the dual solution agrees with the primal formula
    xs, ys = x[:3], y[:3]
    dual = LinearMap.fit(xs, ys, method="ridge", ridge=0.1, normalize=False, center=False)
    primal = np.linalg.solve(xs.T @ xs + 0.1 * 3 * np.eye(5), xs.T @ ys)
    np.testing.assert_allclose(dual.weight, primal, atol=1e-5)


def test_procrustes_recovers_a_random_rotation():
    rng = np.random.default_rng(2)
    rotation, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    x = rng.normal(size=(100, 8))
    m = LinearMap.fit(x, x @ rotation, method="procrustes", normalize=False, center=False)
    np.testing.assert_allclose(m.weight, rotation, atol=1e-5)
    np.testing.assert_allclose(m.weight.T @ m.weight, np.eye(8), atol=1e-5)
    # a rotation keeps norms, so it is recovered after normalisation and centring as well
    m = LinearMap.fit(x, x @ rotation, method="procrustes")
    np.testing.assert_allclose(m.transform(x), unit(x @ rotation), atol=1e-4)


def test_centring_and_normalisation():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 4)) + 5.0
    y = rng.normal(size=(50, 3)) - 2.0
    m = LinearMap.fit(x, y)
    np.testing.assert_allclose(m.image_mean, unit(x).mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(m.text_mean, unit(y).mean(axis=0), atol=1e-6)
    out = m.transform(x)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(m.transform(7.0 * x), out, atol=1e-5)  # the input scale does not matter
    plain = LinearMap.fit(x, y, center=False, normalize=False)
    assert not plain.image_mean.any() and not plain.text_mean.any()
    assert m.transform(x[0]).shape == (1, 3)


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_and_load_are_exact(tmp_path, suffix):
    if suffix == ".safetensors":
        pytest.importorskip("safetensors")
    rng = np.random.default_rng(4)
    m = LinearMap.fit(rng.normal(size=(40, 5)), rng.normal(size=(40, 3)), method="ridge", ridge=0.25)
    path = m.save(tmp_path / f"map{suffix}")
    back = LinearMap.load(path)
    for name in ("weight", "image_mean", "text_mean"):
        assert np.array_equal(getattr(back, name), getattr(m, name))
        assert getattr(back, name).dtype == np.float32
    assert (back.method, back.ridge, back.normalize, back.center) == ("ridge", 0.25, True, True)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            assert "weight" in data.files


def test_linear_map_bad_arguments(tmp_path):
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(10, 4)), rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="only used by method='ridge'"):
        LinearMap.fit(x, y, method="lstsq", ridge=0.5)
    with pytest.raises(ValueError, match="should be > 0 for method='ridge'"):
        LinearMap.fit(x, y, method="ridge")
    with pytest.raises(ValueError, match="same dimension, got 4 and 3"):
        LinearMap.fit(x, y, method="procrustes")
    bad = x.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="row 7 holds NaN"):
        LinearMap.fit(bad, y)
    with pytest.raises(ValueError, match="one row per pair"):
        LinearMap.fit(x, y[:9])
    with pytest.raises(ValueError, match="Unknown method 'svd'"):
        LinearMap.fit(x, y, method="svd")
    m = LinearMap.fit(x, y)
    with pytest.raises(ValueError, match=r"should end with \.npz or \.safetensors"):
        m.save(tmp_path / "map.pkl")
    with pytest.raises(ValueError, match="should have 4 columns"):
        m.transform(np.ones((2, 5)))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        LinearMap.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", weight=np.ones((2, 2)))
    with pytest.raises(ValueError, match="not a LinearMap file"):
        LinearMap.load(tmp_path / "other.npz")


def test_paired_rows_follow_the_captions():
    images = Emb([[1, 0], [0, 1], [1, 1]], ids=["a", "b", "c"])
    texts = np.arange(12, dtype=np.float32).reshape(4, 3)
    x, y = paired(images, texts, ["c", "zzz", "a", None])
    assert x.tolist() == [[1, 1], [1, 0]]
    assert y.tolist() == [texts[0].tolist(), texts[2].tolist()]
    x2, _ = paired({"a": [1, 0], "c": [1, 1]}, texts, ["c", "zzz", "a", None])
    assert x2.tolist() == x.tolist()
    with pytest.raises(ValueError, match="No caption of `texts` has its image"):
        paired(images, texts, ["x", "y", "z", None])
    with pytest.raises(ValueError, match="one image id per row"):
        paired(images, texts, ["a"])
    with pytest.raises(ValueError, match="unique ids"):
        paired(Emb([[1, 0], [0, 1]], ids=["a", "a"]), texts, ["a"] * 4)


# ---------------------------------------------------------------------------- CaptionIndex
def tied_data(seed=0, n=300, d=12):
    """Random vectors with exact duplicates (ties) and queries that hit them."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, d)).astype(np.float32)
    vectors[200:260] = vectors[:60]  # 60 duplicated captions
    vectors[290:] = vectors[0]  # one caption ten more times
    queries = rng.normal(size=(40, d)).astype(np.float32)
    queries[:10] = vectors[:10]
    groups = [i % 23 for i in range(n)]
    return vectors, queries, groups


@pytest.mark.parametrize("k", [1, 3, 15])
def test_numpy_search_is_exact_with_ties_by_position(k):
    vectors, queries, groups = tied_data()
    index = CaptionIndex(vectors, groups=groups, backend="numpy")
    scores, positions = index.search(queries, k)
    assert positions.dtype == np.int64 and scores.dtype == np.float32 and scores.shape == (40, k)
    assert np.array_equal(positions, brute_force(vectors, queries, k))
    expected = np.take_along_axis(unit(queries) @ unit(vectors).T, positions, axis=1)
    np.testing.assert_allclose(scores, expected, atol=1e-6)
    assert (np.diff(scores, axis=1) <= 0).all()
    # query 0 is caption 0, which has 11 exact copies: they come back in position order
    if k == 15:
        assert positions[0, :12].tolist() == [0, 200] + list(range(290, 300))


@needs_faiss
@pytest.mark.parametrize("k", [1, 5, 40])
@pytest.mark.parametrize("with_exclude", [False, True])
def test_faiss_flat_and_numpy_agree_exactly(k, with_exclude):
    vectors, queries, groups = tied_data(seed=k)
    exclude = [i % 25 for i in range(len(queries))] if with_exclude else None  # 23, 24: no such group
    a = CaptionIndex(vectors, groups=groups, backend="numpy")
    b = CaptionIndex(vectors, groups=groups, backend="faiss")
    assert (a.backend, b.backend, b.kind) == ("numpy", "faiss", "flat")
    sa, pa = a.search(queries, k, exclude=exclude)
    sb, pb = b.search(queries, k, exclude=exclude)
    assert np.array_equal(pa, pb)
    assert np.array_equal(sa, sb)
    assert np.array_equal(pa, brute_force(vectors, queries, k, groups, exclude))


@needs_faiss
def test_faiss_flat_and_numpy_agree_when_ties_run_past_the_fetched_results():
    rng = np.random.default_rng(7)
    vectors = np.repeat(rng.normal(size=(3, 8)), 40, axis=0)  # 3 distinct vectors, 40 copies each
    queries = np.concatenate([vectors[[0, 50, 100]], rng.normal(size=(5, 8))])
    for k in (2, 45):
        sa, pa = CaptionIndex(vectors, backend="numpy").search(queries, k)
        sb, pb = CaptionIndex(vectors, backend="faiss").search(queries, k)
        assert np.array_equal(pa, pb) and np.array_equal(sa, sb)
        assert np.array_equal(pa, brute_force(vectors, queries, k))
    assert pa[1, :40].tolist() == list(range(40, 80))


@pytest.mark.parametrize("backend", ["numpy", pytest.param("faiss", marks=needs_faiss)])
def test_exclude_skips_exactly_the_group(backend):
    vectors, queries, groups = tied_data(seed=3)
    index = CaptionIndex(vectors, groups=groups, backend=backend)
    exclude = [i % 23 for i in range(len(queries))]
    _, positions = index.search(queries, 20, exclude=exclude)
    for row, group in zip(positions, exclude):
        assert all(groups[p] != group for p in row)
    _, plain = index.search(queries, 40)
    for row, kept, group in zip(plain, positions, exclude):
        assert [p for p in row if groups[p] != group][:20] == kept.tolist()  # the same order, minus the group
    # None, or a value no caption has, excludes nothing
    assert np.array_equal(index.search(queries[:2], 5, exclude=[None, "nope"])[1], plain[:2, :5])


@pytest.mark.parametrize("backend", ["numpy", pytest.param("faiss", marks=needs_faiss)])
def test_short_results_are_padded(backend):
    index = CaptionIndex(np.eye(3), groups=["a", "a", "b"], backend=backend)
    scores, positions = index.search(np.eye(3), 5, exclude=["a", "b", None])
    assert positions.tolist() == [[2, -1, -1, -1, -1], [1, 0, -1, -1, -1], [2, 0, 1, -1, -1]]
    assert np.isneginf(scores[positions < 0]).all() and np.isfinite(scores[positions >= 0]).all()
    assert scores[1].tolist()[:2] == [1.0, 0.0]


def clustered(seed, n_clusters=20, per=25, d=16):
    rng = np.random.default_rng(seed)
    centres = unit(rng.normal(size=(n_clusters, d)))
    vectors = np.repeat(centres, per, axis=0) + 0.05 * rng.normal(size=(n_clusters * per, d))
    queries = centres[rng.integers(0, n_clusters, 50)] + 0.05 * rng.normal(size=(50, d))
    return vectors.astype(np.float32), queries.astype(np.float32)


@needs_faiss
@pytest.mark.parametrize("options", [dict(kind="ivf"), dict(kind="ivf", nlist=20, nprobe=4),
                                     dict(kind="hnsw"), dict(kind="hnsw", hnsw_m=8, ef_search=32)])
def test_approximate_kinds_find_almost_everything_on_small_data(options):
    vectors, queries = clustered(0)
    _, exact = CaptionIndex(vectors, backend="numpy").search(queries, 10)
    index = CaptionIndex(vectors, backend="faiss", **options)
    assert index.kind == options["kind"]
    scores, found = index.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact)])
    assert recall >= 0.95
    assert (np.diff(scores, axis=1) <= 0).all()
    if options["kind"] == "ivf":
        assert index.nlist == options.get("nlist", max(1, min(round(4 * math.sqrt(500)), 500 // 39)))


def test_numpy_backend_has_only_the_exact_kind():
    for kind in ("ivf", "hnsw"):
        with pytest.raises(ValueError, match=f"kind='{kind}' is approximate search on faiss"):
            CaptionIndex(np.eye(4), backend="numpy", kind=kind)


def test_without_faiss(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)  # makes `import faiss` raise ImportError
    with pytest.raises(ImportError, match=r'pip install "iccc\[vision\]"'):
        CaptionIndex(np.eye(4), backend="faiss")
    index = CaptionIndex(np.eye(4))
    assert index.backend == "numpy"
    assert index.search(np.eye(4)[1], 1)[1].tolist() == [[1]]
    with pytest.raises(ValueError, match="only has kind='flat'"):
        CaptionIndex(np.eye(4), kind="ivf")


def test_index_properties_and_bad_arguments():
    index = CaptionIndex(Emb([[3, 4], [0, 2], [1, 0]]), groups=np.array([5, 6, 5]), backend="numpy")
    assert (len(index), index.dim, index.groups, index.kind) == (3, 2, (5, 6, 5), "flat")
    np.testing.assert_allclose(index.vectors[0], [0.6, 0.8])
    assert not index.vectors.flags.writeable
    assert "3 x 2" in repr(index)
    with pytest.raises(ValueError, match="`backend` should be one of"):
        CaptionIndex(np.eye(2), backend="torch")
    with pytest.raises(ValueError, match="`kind` should be one of"):
        CaptionIndex(np.eye(2), kind="lsh")
    with pytest.raises(ValueError, match="`groups` should hold 2"):
        CaptionIndex(np.eye(2), groups=[1])
    with pytest.raises(TypeError, match=r"`groups\[1\]` should be hashable"):
        CaptionIndex(np.eye(2), groups=[1, [2]])
    with pytest.raises(ValueError, match="`nlist` should be at most the number of captions"):
        CaptionIndex(np.eye(2), nlist=3, kind="ivf")
    with pytest.raises(ValueError, match="`nprobe` should be a positive int, got 0"):
        CaptionIndex(np.eye(2), nprobe=0)
    with pytest.raises(ValueError, match="`text_emb` should be finite"):
        CaptionIndex([[1.0, np.inf]])
    with pytest.raises(ValueError, match="should have 2 columns"):
        index.search(np.ones((1, 3)), 1)
    for bad in (0, -2, True, 1.5):
        with pytest.raises(ValueError, match="`k` should be a positive int"):
            index.search(np.ones((1, 2)), bad)
    with pytest.raises(ValueError, match="`exclude` should hold 1 group values"):
        index.search(np.ones((1, 2)), 1, exclude=[5, 6])
    with pytest.raises(TypeError, match="`exclude` should be a sequence"):
        index.search(np.ones((1, 2)), 1, exclude="5")
    with pytest.raises(ValueError, match="needs an index built with `groups`"):
        CaptionIndex(np.eye(2), backend="numpy").search(np.ones((1, 2)), 1, exclude=[0])


@pytest.mark.parametrize("backend", ["numpy", pytest.param("faiss", marks=needs_faiss)])
def test_index_pickles(backend):
    vectors, queries, groups = tied_data(seed=5)
    index = CaptionIndex(vectors, groups=groups, backend=backend)
    back = pickle.loads(pickle.dumps(index))
    for a, b in zip(index.search(queries, 7, exclude=groups[:40]), back.search(queries, 7, exclude=groups[:40])):
        assert np.array_equal(a, b)


# ---------------------------------------------------------------------------- retrieve_captions
def modality_gap(seed, n_images=120, captions_per=2, d=16):
    """Texts near one base vector per image; images a random linear function of the base plus a
    large shared offset and noise, so raw image-text cosines say little."""
    rng = np.random.default_rng(seed)
    base = unit(rng.normal(size=(n_images, d)))
    image_of_text = np.repeat(np.arange(n_images), captions_per)
    texts = base[image_of_text] + 0.1 * rng.normal(size=(len(image_of_text), d))
    a = rng.normal(size=(d, d))
    images = base @ a + 3.0 * rng.normal(size=d) + 0.05 * rng.normal(size=(n_images, d))
    return images.astype(np.float32), texts.astype(np.float32), image_of_text


def test_a_fitted_map_closes_the_modality_gap():
    images, texts, image_of_text = modality_gap(0)
    fit = image_of_text < 60  # fit on the captions of images 0..59, evaluate on the others
    x, y = paired(Emb(images), texts[fit], image_of_text[fit].tolist())
    m = LinearMap.fit(x, y, method="ridge", ridge=1e-3)
    test_images, test_texts, test_of = images[60:], texts[~fit], image_of_text[~fit] - 60
    index = CaptionIndex(test_texts, groups=test_of.tolist(), backend="numpy")

    def recall(results):
        return np.mean([any(item["group"] == i for item in found) for i, found in enumerate(results)])

    raw = retrieve_captions(test_images, index, k=5)
    mapped = retrieve_captions(Emb(test_images), index, map=m, k=5)
    assert recall(raw) < 0.5
    assert recall(mapped) >= 0.9
    metrics_raw = image_to_caption_metrics(test_images, test_texts, test_of.tolist(), backend="numpy")
    metrics_map = image_to_caption_metrics(test_images, test_texts, test_of.tolist(), map=m, backend="numpy")
    assert metrics_map["R@5"] >= 0.9 > 0.5 > metrics_raw["R@5"]
    assert metrics_map["MRR"] > metrics_raw["MRR"] and metrics_map["queries"] == 60


def test_retrieve_captions_results():
    index = CaptionIndex([[1, 0], [0, 1], [1, 1]], groups=["x", "y", "y"], backend="numpy")
    out = retrieve_captions([[1, 0.2], [0, 1]], index, k=5, captions=["a", "b", "c"], exclude=["x", None])
    assert [[item["position"] for item in found] for found in out] == [[2, 1], [1, 2, 0]]
    first = out[0][0]
    assert set(first) == {"position", "score", "caption", "group"}
    assert (first["caption"], first["group"]) == ("c", "y")
    assert first["score"] == pytest.approx(float(unit([1, 0.2]) @ unit([1, 1])), abs=1e-6)
    plain = retrieve_captions([1, 0.2], CaptionIndex([[1, 0], [0, 1]], backend="numpy"), k=1)
    assert plain == [[{"position": 0, "score": pytest.approx(0.980581, abs=1e-6)}]]


def test_retrieve_captions_bad_arguments():
    index = CaptionIndex(np.eye(3), backend="numpy")
    with pytest.raises(TypeError, match="`index` should be a CaptionIndex"):
        retrieve_captions(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="`captions` should hold one text per caption of the index \\(3\\)"):
        retrieve_captions(np.eye(3), index, captions=["a"])
    with pytest.raises(ValueError, match="`images` have 4-d vectors but the index holds 3-d captions"):
        retrieve_captions(np.ones((1, 4)), index)
    m = LinearMap.fit(np.random.default_rng(0).normal(size=(20, 4)), np.random.default_rng(1).normal(size=(20, 5)))
    with pytest.raises(ValueError, match="the map gives 5-d vectors but the index holds 3-d"):
        retrieve_captions(np.ones((1, 4)), index, map=m)
    with pytest.raises(TypeError, match="`map` should be a LinearMap"):
        retrieve_captions(np.eye(3), index, map=np.eye(3))
    with pytest.raises(ValueError, match="`k` should be a positive int, got 0"):
        retrieve_captions(np.eye(3), index, k=0)


# ---------------------------------------------------------------------------- metrics
def test_retrieval_metrics_by_hand():
    ranked = [[3, 1, 4, -1],  # relevant {1, 4}: hits at ranks 2 and 3
              [9, 8, 7, 6],  # relevant {0}: no hit
              [5, 2, 0, 1]]  # relevant {5, 6, 7, 8, 9}: hit at rank 1 (five relevant, four ranked)
    relevant = [{1, 4}, {0}, {5, 6, 7, 8, 9}]
    m = retrieval_metrics(ranked, relevant, ks=(1, 2, 4), ndcg_at=4)
    d = [1 / math.log2(r + 1) for r in range(1, 5)]  # the discounts of ranks 1..4
    ndcg = [(d[1] + d[2]) / (d[0] + d[1]), 0.0, d[0] / sum(d)]
    assert m["R@1"] == pytest.approx(1 / 3)
    assert m["R@2"] == pytest.approx(2 / 3)
    assert m["R@4"] == pytest.approx(2 / 3)
    assert m["nDCG@4"] == pytest.approx(sum(ndcg) / 3)
    assert m["MRR"] == pytest.approx((1 / 2 + 0 + 1) / 3)
    assert m["queries"] == 3
    assert list(m) == ["R@1", "R@2", "R@4", "nDCG@4", "MRR", "queries"]
    perfect = retrieval_metrics(np.arange(10)[None, :], [set(range(10))])
    assert perfect == {"R@1": 1.0, "R@5": 1.0, "R@10": 1.0, "nDCG@10": pytest.approx(1.0), "MRR": 1.0, "queries": 1}


def test_retrieval_metrics_bad_arguments():
    ranked = [[0, 1, 2]]
    with pytest.raises(ValueError, match=r"`relevant\[0\]` is empty"):
        retrieval_metrics(ranked, [set()], ks=(1,), ndcg_at=3)
    with pytest.raises(ValueError, match="cut-off 5 exceeds the ranked lists' length K=3"):
        retrieval_metrics(ranked, [{0}], ks=(1, 5), ndcg_at=3)
    with pytest.raises(ValueError, match="`ndcg_at` cut-off 10 exceeds"):
        retrieval_metrics(ranked, [{0}], ks=(1,))
    with pytest.raises(ValueError, match="ranks a position twice"):
        retrieval_metrics([[0, 0, 2]], [{0}], ks=(1,), ndcg_at=3)
    with pytest.raises(TypeError, match="should hold integer positions"):
        retrieval_metrics([[0.0, 1.0]], [{0}], ks=(1,), ndcg_at=2)
    with pytest.raises(ValueError, match="one set per query"):
        retrieval_metrics(ranked, [{0}, {1}], ks=(1,), ndcg_at=3)
    with pytest.raises(ValueError, match="positions >= 0"):
        retrieval_metrics([[0, -3, 2]], [{0}], ks=(1,), ndcg_at=3)
    with pytest.raises(ValueError, match="`ks` should hold positive ints"):
        retrieval_metrics(ranked, [{0}], ks=(0,), ndcg_at=3)
    with pytest.raises(ValueError, match="`ndcg_at` should be a positive int"):
        retrieval_metrics(ranked, [{0}], ks=(1,), ndcg_at=0)


def test_image_to_caption_metrics_inputs():
    images = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    texts = np.array([[0.9, 0.1], [0.1, 0.9], [0.8, 0.3]])
    kwargs = dict(ks=(1, 2), ndcg_at=2, backend="numpy")
    # image "c" has no caption: it is not a query
    by_array = image_to_caption_metrics(images, texts, ["a", "b", "a"], image_ids=["a", "b", "c"], **kwargs)
    by_emb = image_to_caption_metrics(Emb(images, ids=["a", "b", "c"]), texts, ["a", "b", "a"], **kwargs)
    by_map = image_to_caption_metrics({"a": images[0], "b": images[1], "c": images[2]}, texts, ["a", "b", "a"],
                                      **kwargs)
    assert by_array == by_emb == by_map
    assert (by_array["queries"], by_array["images_without_captions"], by_array["captions"]) == (2, 1, 3)
    assert by_array["R@1"] == 1.0 and by_array["nDCG@2"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="No image of `image_emb` has a caption"):
        image_to_caption_metrics(images, texts, ["x", "y", None], **kwargs)
    with pytest.raises(ValueError, match="one image id per row of `text_emb`"):
        image_to_caption_metrics(images, texts, [0, 1], **kwargs)
    with pytest.raises(ValueError, match="3 vectors but 2 image ids"):
        image_to_caption_metrics(images, texts, [0, 1, 0], image_ids=[0, 1], **kwargs)
    with pytest.raises(ValueError, match="'a' appears more than once"):
        image_to_caption_metrics(images, texts, ["a", "a", "a"], image_ids=["a", "b", "a"], **kwargs)


# ---------------------------------------------------------------------------- retrieval_consistency
def test_grc_and_qgr_by_hand():
    gallery = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    text = [[1.0, 0.7, 0.0]]  # cosines with the gallery: 0.819, 0.950, 0.573, 0 -> retrieves 1, 0, 2
    own = [[0.0, 0.6, 0.8]]
    out = retrieval_consistency(["a caption"], own, gallery, text, k=3, backend="numpy")
    assert out["retrieved"].tolist() == [[1, 0, 2]]
    # pairs (1, 0): 0.6, (1, 2): 0.8, (0, 2): 0 -> GRC 1.4 / 3; own image vs 1, 0, 2: 0.48, 0, 0.6 -> QGR 1.08 / 3
    assert out["grc"][0] == pytest.approx(1.4 / 3)
    assert out["qgr"][0] == pytest.approx(1.08 / 3)
    assert out["combined"][0] == pytest.approx((1.4 / 3 + 1.08 / 3) / 2)
    weighted = retrieval_consistency(["a caption"], own, gallery, text, k=3, qgr_weight=1.0, backend="numpy")
    assert weighted["combined"][0] == pytest.approx(1.08 / 3)
    np.testing.assert_allclose(out["scores"][0], np.array([0.6 + 0.56, 1.0, 0.7]) / np.linalg.norm([1, 0.7]), atol=1e-6)
    # own image left out of the gallery: with gallery ids, exclude "g1" -> retrieves 0, 2, 3
    left_out = retrieval_consistency(["a caption"], own, gallery, text, k=3, gallery_ids=["g0", "g1", "g2", "g3"],
                                     exclude=["g1"], backend="numpy")
    assert left_out["retrieved"].tolist() == [[0, 2, 3]]
    assert left_out["qgr"][0] == pytest.approx((0 + 0.6 + 0.8) / 3)
    one = retrieval_consistency(["a caption"], own, gallery, text, k=1, backend="numpy")
    assert one["grc"].tolist() == [1.0] and one["qgr"][0] == pytest.approx(0.48)


def test_qgr_is_higher_for_a_caption_that_retrieves_its_own_images_neighbours():
    rng = np.random.default_rng(0)
    centres = unit(rng.normal(size=(2, 16)))
    gallery = np.repeat(centres, 10, axis=0) + 0.1 * rng.normal(size=(20, 16))  # 10 images of each kind
    own = gallery[[0, 0]]  # both captions describe image 0 (kind A)
    texts = np.stack([centres[0], centres[1]]) + 0.05 * rng.normal(size=(2, 16))  # right kind, wrong kind
    out = retrieval_consistency(["right", "wrong"], own, gallery, texts, k=5, gallery_ids=list(range(20)),
                                exclude=[0, 0], backend="numpy")
    assert set(out["retrieved"][0]) <= set(range(1, 10)) and set(out["retrieved"][1]) <= set(range(10, 20))
    assert out["qgr"][0] > out["qgr"][1] + 0.3
    assert out["combined"][0] > out["combined"][1]
    assert out["grc"][1] > 0.5  # the wrong caption's images agree with each other: GRC alone cannot tell


def test_retrieval_consistency_with_an_encoder():
    class Encoder:
        def encode_texts(self, texts):
            return np.array([[1.0, 0.0] if "cat" in t else [0.0, 1.0] for t in texts], dtype=np.float32)

    gallery = Emb([[1, 0.1], [0.1, 1], [1, 0]], ids=["x", "y", "z"])
    out = retrieval_consistency(["a cat", "a dog"], [[1, 0], [0, 1]], gallery, k=1, encoder=Encoder(),
                                exclude=["z", None], backend="numpy")
    assert out["retrieved"].tolist() == [[0], [1]]  # gallery ids taken from the gallery's .ids


def test_retrieval_consistency_bad_arguments():
    gallery = np.eye(3)
    ok = dict(captions=["a", "b"], query_image_emb=np.eye(3)[:2], gallery_image_emb=gallery, text_emb=np.eye(3)[:2])

    def call(**changes):
        return retrieval_consistency(**{**ok, "k": 2, "backend": "numpy", **changes})

    assert call()["retrieved"].shape == (2, 2)
    with pytest.raises(ValueError, match="`k` should be at most the gallery size \\(3\\), got 4"):
        call(k=4)
    with pytest.raises(ValueError, match="`k` should be a positive int, got 0"):
        call(k=0)
    with pytest.raises(ValueError, match="`text_emb` should have one row per caption \\(2\\)"):
        call(text_emb=np.eye(3))
    with pytest.raises(ValueError, match="`query_image_emb` has 2 dimensions but `gallery_image_emb` has 3"):
        call(query_image_emb=np.eye(2))
    with pytest.raises(ValueError, match="needs `gallery_ids`"):
        call(exclude=[0, 1])
    with pytest.raises(ValueError, match="`gallery_ids` should hold 3"):
        call(gallery_ids=[0, 1])
    with pytest.raises(ValueError, match="`exclude` should hold 2"):
        call(gallery_ids=[0, 1, 2], exclude=[0])
    with pytest.raises(ValueError, match="Caption 0 has only 2 gallery images left"):
        call(k=3, gallery_ids=["p", "p", "q"][::-1], exclude=["q", None])
    with pytest.raises(ValueError, match="got neither"):
        call(text_emb=None)
    with pytest.raises(ValueError, match="not both"):
        call(encoder=object())
    with pytest.raises(TypeError, match="should be an iccc.vision.Embedder"):
        call(text_emb=None, encoder=object())
    with pytest.raises(TypeError, match=r"`captions\[1\]` should be a str"):
        call(captions=["a", None])
    with pytest.raises(ValueError, match="`captions` is empty"):
        call(captions=[])
    with pytest.raises(ValueError, match="`qgr_weight` should be a number in \\[0, 1\\]"):
        call(qgr_weight=1.5)
    with pytest.raises(ValueError, match="`gallery_image_emb` should be finite"):
        call(gallery_image_emb=np.full((3, 3), np.nan))
