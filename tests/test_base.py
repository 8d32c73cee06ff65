"""The concept base: counts, forms, contexts, the frequency filter, groups, persistence."""

from __future__ import annotations

import gzip
import json
import pickle

import numpy as np
import pytest

import iccc
from iccc import ConceptBase
from iccc.base import content_words, form_of, surface_of
from iccc.contexts import context_keys
from iccc.operators import CandidateIndex


def dog_on_bed(make_caption, text="A dog on a bed.", dog="dog", bed="bed", *, lemma=None, tag="NN"):
    """A hand-made parse of "A <dog> on a <bed>." (entities, nouns, one relation)."""
    d, b = text.index(dog), text.index(bed)
    lemma = lemma or dog.lower()
    entity = text[: d + len(dog)]
    return make_caption(
        text,
        ("entity", entity, entity.lower(), tag, {"tags": "DT " * (entity != dog) + tag, "dep": "ROOT"}),
        ("noun", dog, lemma, tag, {"dep": "ROOT", "head": 0}),
        ("relation", "on", "on", "IN", {"subj": 0, "obj": 3, "dep": "prep"}),
        ("entity", text[b - 2 : b + len(bed)], f"a {bed.lower()}", "NN", {"tags": "DT NN", "dep": "pobj"}),
        ("noun", bed, bed.lower(), "NN", {"dep": "pobj", "head": 3}),
    )


@pytest.fixture
def three_captions(make_caption):
    return [
        dog_on_bed(make_caption),
        dog_on_bed(make_caption, "Dogs on a couch.", "Dogs", "couch", lemma="dog", tag="NNS"),
        dog_on_bed(make_caption, "A cat on a bed.", "cat", "bed"),
    ]


# ------------------------------------------------------------------------------ counting


def test_counts_forms_and_surfaces(make_caption):
    dogs = make_caption(
        "Dogs on a bed.",
        ("noun", "Dogs", "dog", "NNS"),
        ("noun", "bed", "bed", "NN"),
    )
    base = ConceptBase.from_parsed([dog_on_bed(make_caption), dogs])
    assert base.n_captions == 2
    assert base.count("noun", "dog") == 2 and base.count("noun", "bed") == 2
    assert base.count("noun", "owl") == 0
    # a sentence-initial capital is not part of the surface form
    assert dict(base.forms["noun"]["dog"]["NNS"]) == {"dogs": 1}
    assert dict(base.forms["noun"]["dog"]["NN"]) == {"dog": 1}
    assert base.count("relation", "on") == 1
    assert base.kinds() == ["entity", "noun", "relation"]


def test_contexts_are_counted_per_kind_and_lemma(make_caption):
    parsed = dog_on_bed(make_caption)
    base = ConceptBase.from_parsed([parsed, parsed])
    for i, c in enumerate(parsed.concepts):
        for key in context_keys(parsed, i):
            assert base.contexts[c.kind][key][c.lemma] == 2
    assert base.contexts["noun"]["subj-of:on"] == {"dog": 2}
    assert base.contexts["noun"]["obj-of:on"] == {"bed": 2}


def test_surface_of_lowers_shouted_captions_but_keeps_proper_nouns(make_caption):
    shouted = make_caption("A DOG ON A BED.", ("noun", "DOG", "dog", "NN"), ("noun", "BED", "bed", "NN"))
    assert [surface_of(shouted, c) for c in shouted.concepts] == ["dog", "bed"]
    named = make_caption("Paris at night.", ("noun", "Paris", "paris", "NNP"))
    assert surface_of(named, named.concepts[0]) == "paris"  # sentence-initial capital lowered
    mid = make_caption("A view of Paris.", ("noun", "Paris", "paris", "NNP"))
    assert surface_of(mid, mid.concepts[0]) == "Paris"


def test_form_of_separates_grammatical_slots(make_caption):
    p = make_caption(
        "Two dogs holding a bat.",
        ("entity", "Two dogs", "two dog", "NNS", {"tags": "CD NNS"}),
        ("count", "Two", "two", "CD"),
        ("noun", "dogs", "dog", "NNS"),
        ("verb", "holding", "hold", "VBG"),
        ("relation", "holding", "hold", "VBG", {"subj": 0, "obj": 5}),
        ("entity", "a bat", "a bat", "NN", {"tags": "DT NN"}),
    )
    c = p.concepts
    assert form_of(c[2]) == "NNS"
    assert form_of(c[1]) == "CD-word"
    assert form_of(c[3], p) == "VBG+obj"  # a relation spans the verb: it takes an object
    assert form_of(c[3]) == "VBG"
    assert form_of(c[4]) == "VBG"
    assert form_of(c[0]).startswith("NNS") and form_of(c[5]).startswith("NN")
    assert form_of(c[0]) != form_of(c[5])


def test_content_words_drop_stop_words_and_strip_plurals():
    assert content_words("Two dogs on the red couch") == {"two", "dog", "dogs", "red", "couch"}
    assert content_words("The glass") == {"glass"}  # no "glas"
    assert content_words("a and the of") == frozenset()


# ------------------------------------------------------------------------------ the frequency filter


def _counts_base(**config) -> ConceptBase:
    """A base whose noun counts are dog 6, cat 3, owl 1, bee 1, ant 1 (mean 2.4)."""
    base = ConceptBase(**config)
    for lemma, n in {"dog": 6, "cat": 3, "owl": 1, "bee": 1, "ant": 1}.items():
        base.counts["noun"][lemma] += n
    base.n_captions = 12
    return base


def test_above_mean_keeps_lemmas_more_frequent_than_the_mean_of_their_kind():
    assert _counts_base().kept("noun") == ["dog", "cat"]
    assert _counts_base(above_mean=False).kept("noun") == ["dog", "cat", "ant", "bee", "owl"]
    assert _counts_base().kept("verb") == []


def test_order_of_lemmas_does_not_depend_on_the_order_captions_were_added(three_captions):
    forward = ConceptBase.from_parsed(three_captions, above_mean=False)
    backward = ConceptBase.from_parsed(three_captions[::-1], above_mean=False)
    for kind in forward.kinds():
        assert forward.kept(kind) == backward.kept(kind)
    assert CandidateIndex.of(forward).pool("noun", "NN").lemmas == CandidateIndex.of(backward).pool("noun", "NN").lemmas


def test_min_count_and_top_k():
    assert _counts_base(above_mean=False, min_count=3).kept("noun") == ["dog", "cat"]
    assert _counts_base(above_mean=False, top_k=1).kept("noun") == ["dog"]
    assert _counts_base(min_count=4).kept("noun") == ["dog"]
    assert _counts_base(above_mean=False, min_count=7).kept("noun") == []


def test_tiny_bases_where_nothing_beats_the_mean_keep_everything(make_caption):
    base = ConceptBase.from_parsed([dog_on_bed(make_caption, "A dog on a mat.", bed="mat")])
    assert base.kept("noun") == ["dog", "mat"]


def test_filtered_copies_settings_and_shares_counts():
    base = _counts_base()
    loose = base.filtered(above_mean=False, min_count=2)
    assert loose.kept("noun") == ["dog", "cat"] and loose.min_count == 2 and not loose.above_mean
    assert loose.counts is base.counts
    assert base.kept("noun") == ["dog", "cat"] and base.min_count == 1  # unchanged
    assert base.filtered(top_k=1).kept("noun") == ["dog"]


@pytest.mark.parametrize(
    "config, message",
    [
        ({"min_count": 0}, "`min_count` should be a positive integer, got 0."),
        ({"min_count": -2}, "`min_count` should be a positive integer, got -2."),
        ({"min_count": 1.5}, "`min_count` should be a positive integer, got 1.5."),
        ({"min_count": True}, "`min_count` should be a positive integer, got True."),
        ({"top_k": 0}, "`top_k` should be a positive integer or None, got 0."),
        ({"top_k": "10"}, "`top_k` should be a positive integer or None, got '10'."),
        ({"above_mean": "yes"}, "`above_mean` should be True or False, got 'yes'."),
    ],
)
def test_bad_filter_settings_name_the_argument_and_show_the_value(config, message):
    with pytest.raises(ValueError) as err:
        ConceptBase(**config)
    assert str(err.value) == message
    with pytest.raises(ValueError):
        ConceptBase().filtered(**config)


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match=r"Unknown concept kind 'object'\. Available: 'entity', 'noun'"):
        ConceptBase().count("object", "dog")
    with pytest.raises(ValueError, match="Unknown concept kind"):
        ConceptBase().kept("nouns")


def test_from_parsed_rejects_what_is_not_parsed_captions(make_caption):
    with pytest.raises(TypeError, match="`parsed` must be an iterable of parsed captions, got str"):
        ConceptBase.from_parsed("A dog.")
    with pytest.raises(TypeError, match="Expected a ParsedCaption or a dict with 'concepts'"):
        ConceptBase.from_parsed(["A dog."])
    with pytest.raises(ValueError):  # groups must be as long as the captions
        ConceptBase.from_parsed([dog_on_bed(make_caption)], groups=[1, 2])


# ------------------------------------------------------------------------------ pools


def test_pool_offers_each_lemma_in_its_most_common_surface_for_the_form(three_captions, make_caption):
    base = ConceptBase.from_parsed(three_captions, above_mean=False)
    pool = CandidateIndex.of(base).pool("noun", "NN")
    assert pool.lemmas[0] in ("bed", "dog")  # the most frequent first
    assert set(pool.lemmas) == {"dog", "bed", "cat", "couch"}
    assert pool.surfaces[pool.index["dog"]] == "dog"
    assert pool.prob.sum() == pytest.approx(1.0)
    plural = CandidateIndex.of(base).pool("noun", "NNS")
    assert plural.lemmas == ["dog"] and plural.surfaces == ["dogs"]
    assert CandidateIndex.of(base).pool("verb", "VBG") is None


def test_pool_drops_rare_forms_of_a_lemma(make_caption):
    # "dog" as NNS in 1 of 30 mentions (< MIN_FORM_SHARE): a parse error more likely than a form
    many = [dog_on_bed(make_caption) for _ in range(29)]
    odd = make_caption("Dog on a bed.", ("noun", "Dog", "dog", "NNS"))
    base = ConceptBase.from_parsed(many + [odd], above_mean=False, min_count=1)
    assert CandidateIndex.of(base).pool("noun", "NNS") is None
    assert "dog" in CandidateIndex.of(base).pool("noun", "NN").index


def test_unrelated_mask_excludes_the_lemma_and_its_synonyms(no_wordnet, make_caption):
    texts = ["A couch on a rug.", "A sofa on a rug.", "A dog on a rug.", "A bed on a rug."]
    base = ConceptBase.from_parsed(
        [dog_on_bed(make_caption, t, t.split()[1], "rug") for t in texts], above_mean=False
    )
    pool = CandidateIndex.of(base).pool("noun", "NN")
    mask = CandidateIndex.of(base).unrelated_mask("noun", "NN", "couch")
    blocked = {lemma for lemma, ok in zip(pool.lemmas, mask) if not ok}
    assert blocked == {"couch", "sofa"}


def test_unrelated_mask_for_entities_uses_the_compound_not_only_the_head(wordnet, make_caption):
    # "drinking water" is a kind of beverage though "water" alone is not; "orange juice" is a
    # drink though "juice" alone is not
    def entity(text, lemma, tags):
        return make_caption(text, ("entity", text[:-1], lemma, "NN", {"tags": tags}))

    captions = [
        entity("Drinking water.", "drinking water", "NN NN"),
        entity("Orange juice.", "orange juice", "NN NN"),
        entity("Beverage.", "beverage", "NN"),
        entity("Soup.", "soup", "NN"),
        entity("Bread.", "bread", "NN"),
    ]
    base = ConceptBase.from_parsed(captions, above_mean=False)
    form = form_of(captions[0].concepts[0])
    pool = CandidateIndex.of(base).pool("entity", form)

    def blocked(lemma):
        mask = CandidateIndex.of(base).unrelated_mask("entity", form, lemma)
        return {candidate for candidate, ok in zip(pool.lemmas, mask) if not ok}

    assert {"beverage", "drinking water"} <= blocked("drinking water")
    assert {"orange juice", "beverage"} <= blocked("drink")
    assert "bread" not in blocked("drinking water") and "soup" not in blocked("drink")


# ------------------------------------------------------------------------------ groups


def test_group_words_remember_what_each_image_mentions(three_captions):
    base = ConceptBase.from_parsed(three_captions, groups=[7, 7, "8"])
    assert base.group_words(7) == {"dog", "dogs", "bed", "couch"}
    assert base.group_words("7") == base.group_words(7)  # group ids are compared as strings
    assert base.group_words(8) == {"cat", "bed"}
    assert base.group_words(None) == set() and base.group_words("unknown") == set()
    assert ConceptBase.from_parsed(three_captions, groups=[7, 7, 8], keep_groups=False).groups == {}


# ------------------------------------------------------------------------------ persistence


@pytest.mark.parametrize("name", ["base.json", "base.json.gz"])
def test_save_and_load_round_trip(three_captions, tmp_path, name):
    base = ConceptBase.from_parsed(three_captions, groups=[1, 1, 2], min_count=2, top_k=50)
    path = tmp_path / name
    base.save(path)
    if name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            assert json.load(f)["format"] == "iccc.ConceptBase"
    else:
        assert json.loads(path.read_text(encoding="utf-8"))["n_captions"] == 3
    loaded = ConceptBase.load(path)
    assert loaded == base
    assert (loaded.min_count, loaded.top_k, loaded.above_mean) == (2, 50, True)
    assert loaded.group_words(1) == base.group_words(1)
    assert loaded.kept("noun") == base.kept("noun")
    # a loaded base is fully usable: pools and contexts work
    assert CandidateIndex.of(loaded).pool("noun", "NN").lemmas == CandidateIndex.of(base).pool("noun", "NN").lemmas


def test_equality_sees_every_difference(three_captions):
    a = ConceptBase.from_parsed(three_captions)
    assert a == ConceptBase.from_parsed(three_captions)
    assert a != ConceptBase.from_parsed(three_captions[:2])
    assert a != ConceptBase.from_parsed(three_captions, min_count=2)
    assert a != ConceptBase.from_parsed(three_captions, groups=[1, 2, 3])
    assert a != "not a base"


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a file"):
        ConceptBase.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match="Not a saved iccc ConceptBase"):
        ConceptBase.load(bad)
    data = ConceptBase().to_json()
    data["version"] = 99
    with pytest.raises(ValueError, match="Unsupported ConceptBase version 99"):
        ConceptBase.from_json(data)


def test_pickle_round_trip_keeps_a_working_base(three_captions):
    base = ConceptBase.from_parsed(three_captions, groups=[1, 1, 2])
    CandidateIndex.of(base).pool("noun", "NN")  # the engine's caches are not part of the base
    clone = pickle.loads(pickle.dumps(base))
    assert clone == base and clone.fingerprint() == base.fingerprint()
    assert CandidateIndex.of(clone).content == {}
    assert CandidateIndex.of(clone).pool("noun", "NN").lemmas == CandidateIndex.of(base).pool("noun", "NN").lemmas
    clone.add(three_captions[0])  # counting still works (defaultdicts restored)
    assert clone.count("noun", "dog") == base.count("noun", "dog") + 1


def test_pickled_state_follows_changes_to_the_base(three_captions):
    """The pickled state is kept between pickles (``datasets`` asks for it on every map) but
    never outlives a change: new captions, new balance factors, other filter settings."""
    base = ConceptBase.from_parsed(three_captions[:2], groups=[1, 1])
    first = pickle.dumps(base)
    assert pickle.dumps(base) == first
    base.add(three_captions[2], group=2)
    assert pickle.loads(pickle.dumps(base)) == base != pickle.loads(first)
    before = pickle.dumps(base)
    base.balance = {"noun": {"dog": 2.0}}
    assert pickle.loads(pickle.dumps(base)).balance == {"noun": {"dog": 2.0}}
    assert pickle.loads(pickle.dumps(base.filtered(min_count=2))).min_count == 2
    base.balance = {}
    assert pickle.dumps(base) == before


def test_merge_adds_counts_contexts_and_groups(three_captions):
    a = ConceptBase.from_parsed(three_captions[:2], groups=[1, 1], min_count=2)
    b = ConceptBase.from_parsed(three_captions[2:], groups=[2])
    merged = a.merge(b)
    whole = ConceptBase.from_parsed(three_captions, groups=[1, 1, 2], min_count=2)
    assert merged == whole
    assert merged.min_count == 2  # settings of the left operand
    assert a.n_captions == 2 and b.n_captions == 1  # inputs untouched
    with pytest.raises(TypeError, match="`other` must be a ConceptBase, got dict"):
        a.merge({})


def test_summary_and_repr(three_captions):
    base = ConceptBase.from_parsed(three_captions, groups=[1, 1, 2])
    text = base.summary(top=2)
    lines = text.splitlines()
    assert lines[0] == "ConceptBase: 3 captions, 2 groups, filter: min_count=1 top_k=None above_mean=True"
    noun = next(line for line in lines if line.strip().startswith("noun"))
    assert "6 mentions" in noun and "4 lemmas" in noun and "bed (2)" in noun and "dog (2)" in noun
    assert not any(line.strip().startswith("verb") for line in lines)  # kinds without concepts
    assert repr(base) == "ConceptBase(n_captions=3, entity=5, noun=4, relation=1)"


# ------------------------------------------------------------------------------ datasets


@pytest.mark.model
def test_from_dataset_matches_from_parsed(nlp):
    datasets = pytest.importorskip("datasets")
    rows = iccc.sample_captions()[:24]
    ds = datasets.Dataset.from_dict(
        {"caption": [r["caption"] for r in rows] + [None], "image_id": [r["image_id"] for r in rows] + [999]}
    )
    ds = iccc.add_concepts(ds, nlp=nlp)
    base = ConceptBase.from_dataset(ds, group_column="image_id")
    parsed = iccc.parse([r["caption"] for r in rows], nlp=nlp)
    expected = ConceptBase.from_parsed(parsed, groups=[r["image_id"] for r in rows])
    # the None caption counts as a caption without concepts (and adds no group)
    assert base.n_captions == expected.n_captions + 1
    assert "999" not in base.groups
    base.n_captions -= 1
    assert base == expected
    assert base.group_words(rows[0]["image_id"]) >= {"dog"}
    without_groups = ConceptBase.from_dataset(ds)
    assert without_groups.groups == {} and without_groups.counts == expected.counts
    with pytest.raises(KeyError, match=r"Column 'img' not found\. Available: \["):
        ConceptBase.from_dataset(ds, group_column="img")


def test_category_falls_back_to_the_most_frequent_context(no_wordnet, make_caption):
    base = ConceptBase.from_parsed([dog_on_bed(make_caption), dog_on_bed(make_caption)])
    # no WordNet: "dog" has no category of its own; its most frequent context stands in
    assert base.category("noun", "dog") is not None and base.category("noun", "dog").startswith("ctx:")
    assert base.category("attribute", "red") == "colour"
    assert np.all(CandidateIndex.of(base).category_mask("noun", "NN", base.category("noun", "dog")) == [
        base.category("noun", lemma) == base.category("noun", "dog") for lemma in CandidateIndex.of(base).pool("noun", "NN").lemmas
    ])
