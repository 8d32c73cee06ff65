"""Embeddings in (iccc.vision.embeddings): arrays, lists, mappings, columns and files; ids; validation; save/load."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from iccc.vision import Embeddings, EmbeddingSet, as_embeddings, load_embeddings, save_embeddings
from iccc.vision.embeddings import FILE_FORMAT, check_ids_match


def rand(n, d=4, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def full_set(image_ids=("a", "b", "c"), image_of_text=("a", "a", None, "c"), seed=0):
    images = Embeddings(rand(len(image_ids), seed=seed), ids=list(image_ids))
    texts = Embeddings(rand(len(image_of_text), seed=seed + 1))
    captions = tuple(f"caption {i}" for i in range(len(image_of_text)))
    return EmbeddingSet(images=images, texts=texts, captions=captions, image_of_text=tuple(image_of_text),
                        model="tiny-clip", statuses={"zz": "missing", "yy": "unreadable"},
                        meta={"rows": 4, "dim": 4, "columns": ["image", "caption"], "seconds": 0.25})


def assert_same_set(a: EmbeddingSet, b: EmbeddingSet):
    for attr in ("images", "texts"):
        x, y = getattr(a, attr), getattr(b, attr)
        assert (x is None) == (y is None), attr
        if x is not None:
            assert x.ids == y.ids and [type(i) for i in x.ids] == [type(i) for i in y.ids], attr
            assert x.vectors.dtype == y.vectors.dtype == np.float32
            assert x.vectors.tobytes() == y.vectors.tobytes(), attr  # bit-identical
    assert a.captions == b.captions
    assert a.image_of_text == b.image_of_text
    if a.image_of_text is not None:
        assert [type(i) for i in a.image_of_text] == [type(i) for i in b.image_of_text]
    assert a.model == b.model
    assert a.statuses == b.statuses and [type(k) for k in a.statuses] == [type(k) for k in b.statuses]
    assert dict(a.meta) == dict(b.meta)


# ---------------------------------------------------------------------------- Embeddings
def test_embeddings_basic_api():
    v = rand(3)
    e = Embeddings(v, ids=["x", "y", "z"])
    assert e.dim == 4 and len(e) == 3 and e.ids == ("x", "y", "z")
    assert e.vectors.dtype == np.float32 and e.vectors.flags.c_contiguous and not e.vectors.flags.writeable
    with pytest.raises(ValueError):
        e.vectors[0, 0] = 1.0
    assert e.row_of("z") == 2
    np.testing.assert_array_equal(e.take(["z", "x"]), v[[2, 0]])
    assert e.take([]).shape == (0, 4)
    sub = e.subset(["y"])
    assert sub.ids == ("y",) and np.array_equal(sub.vectors, v[[1]])
    assert "Embeddings(n=3, dim=4" in repr(e) and len(repr(Embeddings(rand(1000)))) < 120


def test_default_ids_and_float64_input():
    e = Embeddings.from_array(np.eye(3))
    assert e.ids == (0, 1, 2) and e.vectors.dtype == np.float32


def test_caller_array_is_not_frozen_or_shared():
    v = rand(2)
    e = Embeddings(v)
    assert v.flags.writeable  # the caller's array keeps its flags
    v[0, 0] = 123.0
    assert e.vectors[0, 0] != 123.0  # and editing it does not reach the embeddings


def test_numpy_ids_are_plain_values_and_match():
    e = Embeddings(rand(3), ids=np.array([5, 6, 7], dtype=np.int64))
    assert e.ids == (5, 6, 7) and all(type(i) is int for i in e.ids)
    assert 5 in e and np.int64(5) in e and np.int32(6) in e
    assert e.row_of(np.int64(7)) == 2 and e.row_of(7) == 2
    s = Embeddings(rand(2), ids=[np.str_("a"), b"b"])
    assert s.ids == ("a", "b") and all(type(i) is str for i in s.ids)
    assert "b" in s and b"b" in s


def test_contains_is_false_for_odd_values():
    e = Embeddings(rand(2), ids=["a", "b"])
    assert "c" not in e
    assert [1, 2] not in e and {"a": 1} not in e and np.zeros(2) not in e and None not in e


def test_duplicate_ids_name_the_first_duplicate():
    with pytest.raises(ValueError, match=r"'b' appears more than once"):
        Embeddings(rand(4), ids=["a", "b", "b", "a"])
    with pytest.raises(ValueError, match=r"5 appears more than once"):
        Embeddings(rand(2), ids=[5, np.int64(5)])


def test_unhashable_ids_are_refused():
    with pytest.raises(TypeError, match="hashable"):
        Embeddings(rand(2), ids=[[1], [2]])
    with pytest.raises(TypeError, match="sequence of ids"):
        Embeddings(rand(2), ids="ab")


def test_nan_row_names_its_id():
    v = rand(4)
    v[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"`image_emb` row for id 'img3' holds NaN or inf"):
        as_embeddings(v, name="image_emb", ids=["img1", "img2", "img3", "img4"])
    v[2, 1] = 0
    v[3, 0] = np.inf
    with pytest.raises(ValueError, match=r"row for id 3 holds NaN or inf"):
        Embeddings(v)


@pytest.mark.parametrize("bad, error, match", [
    (np.ones(4), ValueError, r"2-D array .*shape \(4,\)"),
    (np.ones((2, 3, 4)), ValueError, r"2-D array .*shape \(2, 3, 4\)"),
    (np.array([["a", "b"], ["c", "d"]]), TypeError, "numbers"),
    ([["0.1", "0.2"]], TypeError, "numbers"),
    (np.ones((2, 2), dtype=bool), TypeError, "numbers"),
    ([[1.0, 2.0], [3.0]], TypeError, "one length|numpy cannot read"),
    (np.zeros((0, 4)), ValueError, "`emb` is empty"),
    (np.zeros((3, 0)), ValueError, "`emb` is empty"),
    ("not a path.txt", ValueError, r"\.npy, \.npz or \.parquet"),
    (42, TypeError, "should be an iccc.vision.Embeddings"),
])
def test_bad_vectors_name_the_argument(bad, error, match):
    with pytest.raises(error, match=match) as info:
        as_embeddings(bad, name="emb")
    assert "`emb`" in str(info.value)


def test_ids_must_match_rows():
    with pytest.raises(ValueError, match="3 vectors but 2 ids"):
        Embeddings(rand(3), ids=["a", "b"])


def test_take_and_subset_missing_id_names_the_first_missing():
    e = Embeddings(rand(3), ids=["a", "b", "c"])
    with pytest.raises(KeyError, match=r"'q'") as info:
        e.take(["a", "q", "r"])
    assert "'r'" not in str(info.value) and "'a'" in str(info.value)  # known ids are shown
    with pytest.raises(KeyError, match=r"'z'"):
        e.subset(["z"])
    with pytest.raises(KeyError, match="No vector for id 9"):
        e.row_of(9)
    with pytest.raises(TypeError, match="sequence of ids"):
        e.take("a")
    with pytest.raises(ValueError, match="empty"):
        e.subset([])
    with pytest.raises(ValueError, match="more than once"):
        e.subset(["a", "a"])


def test_normalize():
    v = np.array([[3.0, 4.0], [0.0, 2.0]], dtype=np.float32)
    e = as_embeddings(v, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(e.vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(e.vectors[0], [0.6, 0.8], atol=1e-6)
    assert e.normalized() is e  # already unit: itself
    raw = Embeddings(v)
    assert as_embeddings(raw) is raw and as_embeddings(raw, normalize=True) is not raw
    assert np.array_equal(raw.vectors, v)  # the original is unchanged
    assert Embeddings.from_array(v, normalize=True).vectors.tobytes() == e.vectors.tobytes()
    with pytest.raises(ValueError, match=r"`texts` row for id 'b' is all zeros"):
        as_embeddings(np.array([[1.0, 0.0], [0.0, 0.0]]), name="texts", ids=["a", "b"], normalize=True)
    with pytest.raises(TypeError, match="`normalize` should be True or False"):
        as_embeddings(v, normalize="yes")


def test_pickle_keeps_ids_and_read_only():
    e = Embeddings(rand(2), ids=["a", np.int64(3)])
    back = pickle.loads(pickle.dumps(e))
    assert back.ids == ("a", 3) and back.vectors.tobytes() == e.vectors.tobytes()
    assert not back.vectors.flags.writeable and back.row_of(3) == 1


# ---------------------------------------------------------------------------- as_embeddings sources
def test_from_lists_and_mappings():
    e = as_embeddings([[1, 2], [3, 4]], ids=["p", "q"])
    assert e.ids == ("p", "q") and e.vectors.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    m = as_embeddings({np.int64(10): np.array([1.0, 0.0]), 20: [0.0, 1.0]})
    assert m.ids == (10, 20) and m.take([20]).tolist() == [[0.0, 1.0]]
    cols = as_embeddings([np.ones(3), np.zeros(3)])  # a list of arrays, as a dataset column gives
    assert cols.vectors.shape == (2, 3)
    with pytest.raises(ValueError, match="empty mapping"):
        as_embeddings({}, name="images")
    with pytest.raises(ValueError, match="`ids` cannot be given"):
        as_embeddings({"a": [1.0]}, ids=["b"])
    with pytest.raises(ValueError, match="`ids` cannot be given"):
        as_embeddings(e, ids=["x", "y"])


def test_from_dataset_column():
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"embedding": rand(3).tolist(), "image_id": ["i0", "i1", "i2"]})
    e = as_embeddings(ds["embedding"], ids=ds["image_id"])
    assert e.ids == ("i0", "i1", "i2") and e.vectors.shape == (3, 4)
    e2 = as_embeddings(ds.with_format("numpy")["embedding"], ids=ds.with_format("numpy")["image_id"])
    assert e2.ids == e.ids and np.array_equal(e2.vectors, e.vectors)
    with pytest.raises(TypeError, match=r"a column of the dataset"):
        as_embeddings(ds, name="images")


def test_from_npy_npz_parquet_paths(tmp_path):
    v = rand(3)
    np.save(tmp_path / "v.npy", v)
    e = as_embeddings(tmp_path / "v.npy")
    assert e.ids == (0, 1, 2) and e.vectors.tobytes() == v.tobytes()
    assert as_embeddings(str(tmp_path / "v.npy"), ids=["a", "b", "c"]).ids == ("a", "b", "c")
    np.savez(tmp_path / "user.npz", vectors=v, ids=np.array(["a", "b", "c"]))
    u = as_embeddings(tmp_path / "user.npz")
    assert u.ids == ("a", "b", "c") and np.array_equal(u.vectors, v)
    saved = save_embeddings(full_set(), tmp_path / "set.npz")
    assert as_embeddings(saved).ids == ("a", "b", "c")  # a save_embeddings file: its images
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": [7, 8, 9], "embedding": v.tolist()}), tmp_path / "user.parquet")
    p = as_embeddings(tmp_path / "user.parquet")
    assert p.ids == (7, 8, 9) and p.vectors.tobytes() == v.tobytes()
    with pytest.raises(FileNotFoundError, match="nope.npy"):
        as_embeddings(tmp_path / "nope.npy", name="image_emb")


def test_embedding_set_as_embeddings_gives_its_images():
    s = full_set()
    assert as_embeddings(s) is s.images
    with pytest.raises(ValueError, match="without image vectors"):
        as_embeddings(EmbeddingSet(texts=rand(2)))


# ---------------------------------------------------------------------------- EmbeddingSet
def test_embedding_set_fields_and_describe():
    s = full_set()
    assert s.dim == 4 and s.captions[0] == "caption 0" and s.image_of_text == ("a", "a", None, "c")
    d = s.describe()
    assert d == {"images": 3, "texts": 4, "captions": 4, "dim": 4, "model": "tiny-clip",
                 "statuses": {"missing": 1, "unreadable": 1}}
    json.dumps(d)
    assert repr(s).startswith("EmbeddingSet(images=3, texts=4, dim=4") and len(repr(s)) < 200
    empty = EmbeddingSet()
    assert empty.dim is None and empty.statuses == {} and empty.meta == {}
    arrays = EmbeddingSet(images={"a": [1.0, 0.0]}, texts=[[0.0, 1.0]], image_of_text=[np.str_("a")])
    assert isinstance(arrays.images, Embeddings) and arrays.image_of_text == ("a",)
    assert type(arrays.image_of_text[0]) is str


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(texts=rand(3), captions=["a", "b"]), ValueError, r"`texts` 3, `captions` 2"),
    (dict(texts=rand(2), image_of_text=[1, 2, 3]), ValueError, r"`image_of_text` 3"),
    (dict(captions=["a"], image_of_text=[1, 2]), ValueError, r"`captions` 1, `image_of_text` 2"),
    (dict(images=rand(2, 4), texts=rand(2, 5)), ValueError, "4 dimensions but `texts` 5"),
    (dict(texts=rand(1), captions=[3]), TypeError, "`captions` should hold strings"),
    (dict(captions="abc"), TypeError, "`captions` should be a sequence"),
    (dict(texts=rand(1), image_of_text=[["x"]]), TypeError, "`image_of_text` should hold image ids"),
    (dict(model=3), TypeError, "`model` should be a string"),
    (dict(statuses=["missing"]), TypeError, "`statuses` should be a mapping"),
    (dict(statuses={"a": 1}), TypeError, "`statuses` should map image ids to strings"),
    (dict(meta=[1]), TypeError, "`meta` should be a mapping"),
    (dict(meta={"x": object()}), TypeError, "`meta` should be JSON-able"),
    (dict(images=np.full((1, 2), np.nan)), ValueError, "`images` row for id 0 holds NaN"),
])
def test_embedding_set_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        EmbeddingSet(**kwargs)


# ---------------------------------------------------------------------------- save / load
@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
@pytest.mark.parametrize("image_ids, image_of_text", [
    (("a", "b", "c"), ("a", "a", None, "c")),  # string ids, a caption of no image
    ((10, 20, 30), (10, None, 30, 30)),  # int ids
    ((0, 1, 2), (None, None, None, None)),  # no caption has an image
])
def test_round_trip_is_exact(tmp_path, suffix, image_ids, image_of_text):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    s = EmbeddingSet(images=Embeddings(rand(3), ids=list(image_ids)), texts=rand(4, seed=1),
                     captions=("a dog", "", "a cat on a mat", "ünïcode ✓"), image_of_text=image_of_text,
                     model="org/model", statuses={image_ids[0]: "missing", image_ids[1]: "unreadable"},
                     meta={"rows": 4, "seconds": 1.5, "columns": ["image", "caption"], "note": None,
                           "counts": {"missing": 1}})
    path = save_embeddings(s, tmp_path / f"emb{suffix}")
    assert path == tmp_path / f"emb{suffix}" and path.is_file()
    back = load_embeddings(path)
    assert_same_set(s, back)
    assert back.describe() == s.describe()


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_round_trip_partial_sets(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    only_images = Embeddings(rand(2), ids=[np.int64(4), np.int64(9)])
    back = load_embeddings(save_embeddings(only_images, tmp_path / f"a{suffix}"))  # an Embeddings: its images
    assert back.images.ids == (4, 9) and back.texts is None and back.captions is None
    assert back.images.vectors.tobytes() == only_images.vectors.tobytes()
    texts_only = EmbeddingSet(texts=rand(3), captions=["x", "y", "z"], image_of_text=[1, 1, 2],
                              statuses={1: "missing", 2: "missing"}, model=None)
    assert_same_set(texts_only, load_embeddings(save_embeddings(texts_only, tmp_path / f"b{suffix}")))
    statuses_only = EmbeddingSet(statuses={"q": "unreadable"}, meta={"rows": 1})
    assert_same_set(statuses_only, load_embeddings(save_embeddings(statuses_only, tmp_path / f"c{suffix}")))
    numpy_meta = EmbeddingSet(images=rand(1), meta={"n": np.int64(3), "x": np.float32(0.5)})
    assert load_embeddings(save_embeddings(numpy_meta, tmp_path / f"d{suffix}")).meta == {"n": 3, "x": 0.5}


def test_saved_npz_needs_no_pickle(tmp_path):
    path = save_embeddings(full_set(), tmp_path / "emb.npz")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    assert all(a.dtype != object for a in arrays.values())
    assert arrays["image_ids"].dtype.kind == "U" and arrays["images"].dtype == np.float32
    assert json.loads(str(arrays["header"]))["format"] == FILE_FORMAT
    ints = save_embeddings(Embeddings(rand(2), ids=[3, 4]), tmp_path / "ints.npz")
    with np.load(ints, allow_pickle=False) as data:
        assert data["image_ids"].dtype == np.int64


def test_saved_parquet_layout(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = save_embeddings(full_set(), tmp_path / "emb.parquet")
    table = pq.read_table(path)
    assert table.column_names == ["kind", "id", "vector", "caption", "image_id"]
    assert table.column("kind").to_pylist() == ["image"] * 3 + ["text"] * 4
    assert str(table.schema.field("vector").type.value_type) == "float"
    assert json.loads(table.schema.metadata[b"iccc"])["format"] == FILE_FORMAT


def test_save_refuses_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"should end with \.npz or \.parquet"):
        save_embeddings(full_set(), tmp_path / "emb.pkl")
    with pytest.raises(ValueError, match=r"should end with"):
        save_embeddings(full_set(), tmp_path / "emb")
    with pytest.raises(TypeError, match="`emb` should be"):
        save_embeddings(rand(2), tmp_path / "emb.npz")
    with pytest.raises(TypeError, match="`path` should be"):
        save_embeddings(full_set(), 3)
    with pytest.raises(TypeError, match="all ints or all strings"):
        save_embeddings(Embeddings(rand(2), ids=[1, "a"]), tmp_path / "mixed.npz")
    with pytest.raises(TypeError, match="`image_of_text` should be all ints or all strings"):
        save_embeddings(EmbeddingSet(texts=rand(2), image_of_text=[1, "a"]), tmp_path / "mixed.npz")
    assert not (tmp_path / "mixed.npz").exists()


def test_load_user_npz(tmp_path):
    v, t = rand(2), rand(3, seed=1)
    np.savez(tmp_path / "user.npz", images=v, image_ids=np.array([7, 8]), texts=t,
             captions=np.array(["a", "b", "c"]), image_of_text=np.array([7, 7, 8]))
    s = load_embeddings(tmp_path / "user.npz")
    assert s.images.ids == (7, 8) and all(type(i) is int for i in s.images.ids)
    assert s.captions == ("a", "b", "c") and s.image_of_text == (7, 7, 8) and s.texts.ids == (0, 1, 2)
    assert s.texts.vectors.tobytes() == t.tobytes() and s.model is None and s.statuses == {}
    np.savez(tmp_path / "strs.npz", images=v, image_ids=np.array(["x", "y"]))
    assert load_embeddings(tmp_path / "strs.npz").images.ids == ("x", "y")


def test_load_bare_npy(tmp_path):
    v = rand(3)
    np.save(tmp_path / "v.npy", v)
    s = load_embeddings(tmp_path / "v.npy")
    assert s.images.ids == (0, 1, 2) and s.images.vectors.tobytes() == v.tobytes() and s.texts is None


def test_load_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_embeddings(tmp_path / "missing.npz")
    (tmp_path / "emb.txt").write_text("1 2 3")
    with pytest.raises(ValueError, match=r"emb\.txt"):
        load_embeddings(tmp_path / "emb.txt")
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(ValueError, match=r"other\.npz.*found \['weights'\]"):
        load_embeddings(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"junk\.npz"):
        load_embeddings(tmp_path / "junk.npz")
    np.savez(tmp_path / "pickled.npz", images=np.array([[1.0]]), image_ids=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"pickled\.npz"):
        load_embeddings(tmp_path / "pickled.npz")
    np.savez(tmp_path / "nan.npz", images=np.array([[1.0], [np.nan]]), image_ids=np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"nan\.npz.*id 'b' holds NaN"):
        load_embeddings(tmp_path / "nan.npz")
    np.savez(tmp_path / "lengths.npz", texts=np.ones((2, 2)), captions=np.array(["a"]))
    with pytest.raises(ValueError, match=r"lengths\.npz.*`texts` 2, `captions` 1"):
        load_embeddings(tmp_path / "lengths.npz")
    np.savez(tmp_path / "future.npz", header=np.array(json.dumps({"format": "iccc.vision.EmbeddingSet/9"})),
             images=np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"future\.npz.*EmbeddingSet/9"):
        load_embeddings(tmp_path / "future.npz")


def test_load_parquet_errors(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": [1], "other": [[1.0]]}), tmp_path / "novec.parquet")
    with pytest.raises(ValueError, match=r"novec\.parquet.*'vector' or 'embedding'.*\['id', 'other'\]"):
        load_embeddings(tmp_path / "novec.parquet")
    pq.write_table(pa.table({"vector": [[1.0, 2.0], [3.0]]}), tmp_path / "ragged.parquet")
    with pytest.raises(ValueError, match=r"ragged\.parquet.*one length"):
        load_embeddings(tmp_path / "ragged.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match=r"junk\.parquet"):
        load_embeddings(tmp_path / "junk.parquet")


# ---------------------------------------------------------------------------- check_ids_match
def test_check_ids_match():
    e = Embeddings(rand(3), ids=[1, 2, 3])
    assert check_ids_match(e, [1, np.int64(2), 3]) == {"found": 3, "missing": 0, "first_missing": None}
    assert check_ids_match(e, [1, 9, 8, None, 2]) == {"found": 2, "missing": 2, "first_missing": 9}
    assert check_ids_match(e, ["1", "2"]) == {"found": 0, "missing": 2, "first_missing": "1"}  # str vs int ids
    assert check_ids_match(full_set(), ["a", "q"]) == {"found": 1, "missing": 1, "first_missing": "q"}
    assert check_ids_match({"a": [1.0]}, np.array(["a", "b"]))["first_missing"] == "b"
    with pytest.raises(TypeError, match="`ids` should be a sequence of image ids"):
        check_ids_match(e, "123")
    with pytest.raises(TypeError, match="`images`"):
        check_ids_match(5, [1], name="images")
