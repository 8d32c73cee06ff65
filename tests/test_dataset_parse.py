"""iccc.add_concepts / ConceptParser on HuggingFace datasets."""

from __future__ import annotations

import pickle

import pytest

import iccc
from iccc import columns
from iccc._schema import concept_features
from iccc.parsing import _dataset

datasets = pytest.importorskip("datasets", reason="the `datasets` extra is not installed")
pytestmark = pytest.mark.model

CAPTIONS = [
    "A black dog sitting next to a red fire hydrant.",
    None,
    "",
    "   ",
    "猫がソファの上で寝ている。",
    "Un chat noir dort sur le canapé du salon.",
    "Two cats sleeping on a wooden bench.",
    "A black dog sitting next to a red fire hydrant.",
    "Hello there.",
    "A man riding a horse on the beach.",
]
STATUSES = ["ok", "missing", "empty", "empty", "non_english", "non_english", "ok", "ok", "no_concepts", "ok"]


@pytest.fixture
def ds():
    return datasets.Dataset.from_dict({"image_id": list(range(len(CAPTIONS))), "caption": CAPTIONS})


def rows_to_parsed(out):
    return [
        iccc.ParsedCaption.from_dict({"text": r["caption"] or "", "concepts": r["concepts"], "status": r["parse_status"]})
        for r in out
    ]


def test_every_row_is_kept_with_a_status(ds):
    out = iccc.add_concepts(ds)
    assert out.num_rows == len(CAPTIONS)
    assert out.column_names == ["image_id", "caption", "concepts", "parse_status"]
    assert out["image_id"] == list(range(len(CAPTIONS)))
    assert out["parse_status"] == STATUSES
    assert out[1]["concepts"] == [] and out[1]["caption"] is None
    assert out.features["concepts"] == datasets.Features({"c": concept_features()})["c"]


def test_concepts_round_trip_to_parsed_captions(ds):
    out = iccc.add_concepts(ds)
    expected = iccc.parse(CAPTIONS, on_invalid="status")
    assert rows_to_parsed(out) == expected
    assert rows_to_parsed(out)[0].of_kind("relation")[0].text == "sitting next to"


def test_custom_caption_column_and_missing_column():
    ds = datasets.Dataset.from_dict({"text": ["A red bus on a street."]})
    out = iccc.add_concepts(ds, column="text")
    assert out["parse_status"] == ["ok"]
    with pytest.raises(KeyError, match=r"Caption column 'caption' not found. Available: \['text'\]"):
        iccc.add_concepts(ds)


def test_not_a_dataset_raises():
    with pytest.raises(TypeError, match="`dataset` must be a datasets.Dataset"):
        iccc.add_concepts([{"caption": "A dog."}])


def test_iterable_dataset(ds):
    out = iccc.add_concepts(ds.to_iterable_dataset(), batch_size=4)
    assert isinstance(out, datasets.IterableDataset)
    rows = list(out)
    assert [r["parse_status"] for r in rows] == STATUSES
    assert rows_to_parsed(rows) == rows_to_parsed(iccc.add_concepts(ds))


def test_iterable_dataset_without_known_features():
    def gen():
        yield from ({"caption": c} for c in ["A dog on a bed.", None])

    out = iccc.add_concepts(datasets.IterableDataset.from_generator(gen).map(lambda r: r))
    assert [r["parse_status"] for r in out] == ["ok", "missing"]


def test_dataset_dict(ds):
    dd = datasets.DatasetDict({"train": ds, "test": ds.select(range(3))})
    out = iccc.add_concepts(dd)
    assert isinstance(out, datasets.DatasetDict) and set(out) == {"train", "test"}
    assert out["train"]["parse_status"] == STATUSES
    assert out["test"]["parse_status"] == STATUSES[:3]


def image_dataset(images: list[dict], captions: list) -> datasets.Dataset:
    # Cast from the storage struct, which needs no image library (Pillow is not a dependency).
    ds = datasets.Dataset.from_dict({"image": images, "caption": captions})
    return ds.cast_column("image", datasets.Image())


def test_images_are_never_decoded(tmp_path):
    missing = [{"path": str(tmp_path / f"nope_{i}.jpg"), "bytes": None} for i in range(3)]
    ds = image_dataset(missing, CAPTIONS[:3])
    assert ds.features["image"] == datasets.Image()
    with pytest.raises((FileNotFoundError, ImportError)):  # decoding really would fail
        ds[0]["image"]
    out = iccc.add_concepts(ds)
    assert out["parse_status"] == STATUSES[:3]
    assert out.features["image"] == datasets.Image()
    assert out.cast_column("image", datasets.Image(decode=False))["image"] == missing

    garbage = image_dataset([{"bytes": b"not an image", "path": None}], ["A dog on a bed."])
    assert iccc.add_concepts(garbage, num_proc=1)["parse_status"] == ["ok"]
    lazy = iccc.add_concepts(garbage.to_iterable_dataset())
    assert lazy.features["image"] == datasets.Image()  # decoding is back on for the user
    assert list(lazy.select_columns(["parse_status"])) == [{"parse_status": "ok"}]


def test_two_processes_give_the_same_result(ds):
    big = datasets.concatenate_datasets([ds] * 4)
    one = iccc.add_concepts(big, num_proc=1, batch_size=8)
    two = iccc.add_concepts(big, num_proc=2, batch_size=8)
    assert two["concepts"] == one["concepts"]
    assert two["parse_status"] == one["parse_status"]


def test_parser_pickles_without_the_model(nlp):
    fn = iccc.ConceptParser()
    data = pickle.dumps(fn)
    assert len(data) < 2_000
    assert b"tok2vec" not in data
    clone = pickle.loads(data)
    assert clone._nlp is None and clone.pipeline == fn.pipeline
    out = clone({"caption": ["A cat on a mat.", None]})
    assert out == fn({"caption": ["A cat on a mat.", None]})
    assert clone._nlp is nlp  # loaded again on first use (from the loader's cache here)


def test_parser_accepts_the_caption_list_and_checks_the_column():
    fn = iccc.ConceptParser(column="text")
    assert fn(["A cat on a mat."])[columns.PARSE_STATUS] == ["ok"]
    with pytest.raises(KeyError, match=r"Caption column 'text' not found. Available: \['caption'\]"):
        fn({"caption": ["A cat."]})
    with pytest.raises(TypeError, match="`column` must be a string"):
        iccc.ConceptParser(column=1)


def test_fingerprint_is_stable_and_follows_settings(ds):
    from datasets.fingerprint import Hasher

    assert Hasher.hash(iccc.ConceptParser()) == Hasher.hash(iccc.ConceptParser())
    assert Hasher.hash(iccc.ConceptParser()) != Hasher.hash(iccc.ConceptParser(max_chars=50))
    assert iccc.add_concepts(ds)._fingerprint == iccc.add_concepts(ds)._fingerprint


def test_fingerprint_follows_the_parsing_code(monkeypatch):
    from datasets.fingerprint import Hasher

    before = Hasher.hash(iccc.ConceptParser())
    assert len(_dataset.code_digest()) == 16
    monkeypatch.setattr(_dataset, "code_digest", lambda: "changed-rules")
    assert Hasher.hash(iccc.ConceptParser()) != before


def test_mapping_twice_reuses_the_cache(ds, tmp_path):
    ds.save_to_disk(str(tmp_path / "ds"))
    on_disk = datasets.load_from_disk(str(tmp_path / "ds"))
    first = iccc.add_concepts(on_disk)
    second = iccc.add_concepts(on_disk)
    assert first._fingerprint == second._fingerprint
    assert first.cache_files and first.cache_files == second.cache_files
    assert second["parse_status"] == STATUSES


def test_in_memory_pipeline_is_found_by_forked_workers(nlp, ds):
    import spacy

    from iccc.parsing._loader import UNNEEDED

    fresh = spacy.load(nlp.path, exclude=list(UNNEEDED))
    fresh._path = None  # as if built in memory: no path to load it from
    fn = iccc.ConceptParser(fresh)
    assert fn._source.startswith("<in-memory")
    assert pickle.loads(pickle.dumps(fn))({"caption": ["A dog."]})["parse_status"] == ["ok"]
    big = datasets.concatenate_datasets([ds] * 2)
    assert iccc.add_concepts(big, nlp=fresh, num_proc=2, batch_size=5)["parse_status"] == STATUSES * 2
