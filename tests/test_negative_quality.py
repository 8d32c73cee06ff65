"""Negatives that read as nonsense or give themselves away (issue 12): names put in place of
common nouns, capitals mid-sentence, attribute replacements across categories, parser slips."""

from __future__ import annotations

import numpy as np
import pytest

import iccc
from iccc.operators import CandidateIndex, Replace, WeightRequest, candidate_weights
from iccc.operators._weights import is_name, name_positions
from iccc.semantics import category


@pytest.mark.parametrize(
    "surface, expected",
    [("Big Ben", True), ("London", True), ("the Wii", True), ("a Christmas tree", True), ("an iPhone", True),
     ("Asian", True), ("TV", False), ("a flat screen TV", False), ("T-shirt", False), ("X-ray", False),
     ("a dog", False), ("dogs", False)],
)
def test_names_are_words_with_capitals_that_are_not_acronyms(surface, expected):
    assert is_name(surface) is expected


NAMED = [
    "A man laying in bed.", "A woman laying in bed.", "A dog sleeping in bed.",
    "A boy laying in a bed.", "A cat laying in a bed.",
    "A tower in London.", "A clock tower in London.", "A bus in London.", "A bus in Paris.",
    "A man laying in Paris.", "The clock of Big Ben.", "The clock of Big Ben.",
    "A man laying in a chair.", "A man laying in a hammock.", "A girl laying in a hammock.",
]


def _candidates(captions, caption, kind, text):
    parsed = iccc.parse(captions)
    base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    target = iccc.parse([caption])[0]
    op = Replace(kinds=[kind])
    i = next(k for k, c in enumerate(target.concepts) if c.kind == kind and c.text == text)
    return {label[1] for slot, label, w in op.candidates(target, base) if slot.i == i and w > 0}, base


def test_a_name_never_replaces_a_common_noun():
    found, base = _candidates(NAMED, "A man laying in bed.", "noun", "bed")
    assert found, "some common noun should be left"
    assert not any(is_name(s) for s in found), found
    pool = CandidateIndex.of(base).pool("noun", "NN")
    assert {pool.surfaces[j] for j in name_positions(CandidateIndex.of(base), "noun", "NN", pool)} >= {"London", "Paris"}


def test_a_name_may_replace_a_name():
    found, _ = _candidates(NAMED, "A bus in London.", "noun", "London")
    assert "Paris" in found


def test_replacements_never_put_a_capital_mid_sentence():
    captions = ["A cat on a bed.", "A dog on a bed.", "A cat on a chair.", "A dog on a sofa.",
                "A bird on a sofa.", "A cat in London."]
    parsed = iccc.parse(captions)
    base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    engine = iccc.Corruptor(base)
    for n, p in enumerate(parsed):
        for seed in range(20):
            record = engine.one(p, rng=np.random.default_rng([seed, n]))
            if record is None:
                continue
            words = record.corrupted_caption.rstrip(".").split()[1:]
            new = [w for w in words if w[:1].isupper() and w not in record.caption.rstrip(".").split()]
            assert not new, (record.caption, record.corrupted_caption)


def test_attribute_replacements_stay_in_category_end_to_end():
    if category("small", "attribute") != "size" or category("red", "attribute") != "colour":
        pytest.skip("needs the built-in attribute groups")
    colours = ["A red dog on a bed.", "A brown dog on a bed.", "A black dog on a bed."] * 4
    captions = ["A small dog on a bed."] + ["A big dog on a bed."] * 3 + colours
    found, _ = _candidates(captions, "A small dog on a bed.", "attribute", "small")
    assert found == {"big"}
    # no other size in the base (or one that holds almost none of the weight): "small" is not
    # replaced; another concept is edited instead
    for sizes in ([], ["A big dog on a bed."]):
        found, _ = _candidates(captions[:1] + sizes + colours * 3, "A small dog on a bed.", "attribute", "small")
        assert found == set(), sizes
    parsed = iccc.parse(["A small dog on a bed."])[0]
    base = iccc.ConceptBase.from_parsed(iccc.parse(colours + ["A cat on a sofa."]), above_mean=False)
    record = Replace()(parsed, base, rng=np.random.default_rng(0))
    assert record is not None and record.concept_kind != "attribute"


def test_weights_are_none_when_the_category_has_nothing_left():
    if category("small", "attribute") != "size":
        pytest.skip("needs the built-in attribute groups")
    base = iccc.ConceptBase.from_parsed(iccc.parse(["A small dog.", "A red dog.", "A blue dog."]),
                                        above_mean=False)
    index = CandidateIndex.of(base)
    assert candidate_weights(index, WeightRequest("attribute", "ATTR", "small", (), True, False)) is None
    # without the restriction the colours are there
    assert candidate_weights(index, WeightRequest("attribute", "ATTR", "small", (), False, False)) is not None


@pytest.mark.parametrize(
    "caption, absent",
    [
        ("An airplane with one wing stands motionless on the tarmac.", ("noun", "motionless")),
        ("The inside of a room with a large collection of CD's.", ("noun", "inside")),
        ("An odd looking toilet is against a wall.", ("attribute", "looking")),
    ],
)
def test_parser_slips_from_coco_make_no_concept(caption, absent):
    parsed = iccc.parse([caption])[0]
    assert absent not in {(c.kind, c.text) for c in parsed.concepts}, parsed.concepts
