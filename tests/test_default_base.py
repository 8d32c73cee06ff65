"""The concept base shipped with iccc (COCO 2017 val captions): ConceptBase.default() and
iccc.corrupt without a base."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import COCO_DIR

import iccc
from iccc import ConceptBase, Corruption
from iccc.base import DEFAULT_BASE_FILE
from iccc.corrupt import _default_concepts

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "iccc" / "data"
#: The most the shipped base may weigh (bytes).
MAX_BASE_BYTES = 4_000_000


def test_the_default_base_is_shipped_small_and_attributed():
    path = DATA / DEFAULT_BASE_FILE
    assert path.is_file() and path.stat().st_size <= MAX_BASE_BYTES
    notice = (DATA / "DEFAULT_BASE_NOTICE.txt").read_text(encoding="utf-8")
    assert "COCO" in notice and "CC BY 4.0" in notice


def test_the_default_base_holds_balanced_coco_val2017_without_image_groups():
    base = ConceptBase.default()
    assert base.n_captions == 25_014
    assert set(base.kinds()) == set(iccc.KINDS)
    assert not base.groups  # COCO image ids would be mistaken for the caller's
    assert base.balance and "noun" in base.balance
    assert base.count("noun", "dog") > 100 and "dog" in base.kept("noun")


def test_every_call_returns_an_independent_base(make_caption):
    first, second = ConceptBase.default(), ConceptBase.default()
    assert first is not second and first == second
    first.add(make_caption("A unicorn.", ("noun", "unicorn", "unicorn", "NN")), group="mine")
    first.balance = {}
    assert second.count("noun", "unicorn") == ConceptBase.default().count("noun", "unicorn") == 0
    assert second.balance and not second.groups
    assert _default_concepts().n_captions == 25_014 and _default_concepts().count("noun", "unicorn") == 0


def test_merge_mixes_a_users_base_with_the_default(make_caption):
    mine = ConceptBase.from_parsed([make_caption("A red tram.", ("noun", "tram", "tram", "NN"),
                                                 ("attribute", "red", "red", "JJ"))], groups=[1], above_mean=False)
    default = ConceptBase.default()
    mixed = mine.merge(default)
    assert mixed.n_captions == 1 + default.n_captions
    assert mixed.count("noun", "tram") == default.count("noun", "tram") + 1
    assert mixed.count("noun", "dog") == default.count("noun", "dog")
    assert mixed.above_mean is False and mixed.group_words(1) == {"red", "tram"}
    assert default == ConceptBase.default() and mine.n_captions == 1  # neither input changes


@pytest.mark.model
def test_corrupt_without_a_base_uses_the_default_one(nlp):
    record = iccc.corrupt("A dog on a couch.", seed=0)
    assert isinstance(record, Corruption) and record.corrupted_caption != record.caption
    assert record == iccc.corrupt("A dog on a couch.", seed=0)  # deterministic
    assert record == iccc.corrupt("A dog on a couch.", seed=0, concepts=ConceptBase.default())
    assert iccc.corrupt(iccc.parse(["A dog on a couch."], nlp=nlp)[0], seed=0) == record


@pytest.mark.model
def test_a_map_batch_without_a_base_uses_the_default_one():
    batch = {"caption": ["A dog on a couch.", "Two men riding horses on a beach."]}
    out = iccc.corrupt(batch, [0, 1], seed=0)
    assert out["corrupt_status"] == ["ok", "ok"]
    assert all(c and c not in batch["caption"] for c in out["corrupted_caption"])


@pytest.mark.model
@pytest.mark.slow
def test_the_build_script_rebuilds_the_shipped_base(tmp_path):
    captions = COCO_DIR / "captions_val2017.json.gz"
    if not captions.is_file():
        pytest.skip(f"real COCO captions not found: {captions} (the shared data directory is absent)")
    out = tmp_path / DEFAULT_BASE_FILE
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_default_base.py"), "--captions", str(captions),
                    "--out", str(out), "-q"], check=True, capture_output=True, timeout=1200)
    assert ConceptBase.load(out) == ConceptBase.default(), (
        "the shipped default base is stale: the parser or the corruption code changed; rerun "
        "scripts/build_default_base.py --captions " + str(captions))
