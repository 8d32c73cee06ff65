"""Corruption operators: contract tests over every operator and kind, and the rules of each.

Contract (every operator, every kind it supports): the same seed gives the same corruption;
``candidates()`` is deterministic and every candidate, applied, is an exact edit that changes the
caption; replacements keep the grammatical form and are never the same lemma, a synonym, hypernym
or hyponym, nor a word of the caption or of a sibling caption. Rule tests use hand-made parses
(no model); the contract runs on the built-in sample parsed with the real model.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from iccc import Add, ConceptBase, Corruption, Replace, Swap, semantics
from iccc.base import content_words, form_of
from iccc.operators import OPERATORS
from iccc.operators.replace import count_value

OPERATOR_KINDS = [(cls, kind) for cls in (Replace, Swap, Add) for kind in cls.supported_kinds]
IDS = [f"{cls.name}-{kind}" for cls, kind in OPERATOR_KINDS]
#: At most this many candidates per caption are applied in the contract tests (spread evenly).
MAX_APPLIED = 40

_FINAL_ARTICLE = re.compile(r"(?:(?<=\s)|^)(a|an)(\s+)$", re.I)
_DETERMINERS = frozenset("a an the his her its their this that these those some my your our another".split())


def _article_free(prefix: str) -> str:
    """``prefix`` with an "a"/"an" right at its end normalised: the one change an edit may make
    outside the edited span."""
    return _FINAL_ARTICLE.sub(lambda m: "a" + m.group(2), prefix)


def _probe(lemma: str) -> str:
    """An entity lemma without its determiners, at most its last two words."""
    words = lemma.split()
    while len(words) > 1 and words[0] in _DETERMINERS:
        words = words[1:]
    return " ".join(words[-2:])


def _related(old: str, new: str, kind: str) -> bool:
    if kind == "entity":
        return semantics.related(_probe(old), _probe(new), "noun")
    return semantics.related(old, new, kind)


def _sample(candidates: list) -> list:
    step = max(1, len(candidates) // MAX_APPLIED)
    return candidates[::step]


@pytest.fixture(scope="module")
def rows_parsed(engine_rows, engine_parsed):
    return list(zip(engine_rows, engine_parsed))


def _assert_exact(record: Corruption):
    """Everything outside the changed region is byte-identical (an article before it may switch
    between "a" and "an"); the offsets locate the original and the replacement."""
    c, x = record.caption, record.corrupted_caption
    assert c[record.start : record.end] == record.original
    assert x[record.new_start : record.new_end] == record.replacement
    if record.operation != "swap":
        assert x[record.new_end :] == c[record.end :]
        assert _article_free(x[: record.new_start]) == _article_free(c[: record.start])
        return
    # caption = P A M B S  ->  corrupted = P B' M A' S  (' : case of the first letter, article before)
    a_start, a_end, b_start, b_end = record.start, record.end, record.other_start, record.other_end
    assert a_end <= b_start
    tail = len(c) - b_end
    assert x[len(x) - tail :] == c[b_end:]
    a_new = x[len(x) - tail - (a_end - a_start) : len(x) - tail]
    assert a_new.lower() == record.original.lower()
    assert x[record.new_start : record.new_end].lower() == c[b_start:b_end].lower()
    assert _article_free(x[: record.new_start]) == _article_free(c[:a_start])
    assert _article_free(x[record.new_end : len(x) - tail - len(a_new)]) == _article_free(c[a_end:b_start])


# ------------------------------------------------------------------------------ the contract


def _operator(cls, kind):
    """``cls([kind])``; swaps with every pair the base has data on (the sample base is too small
    for the default plausibility threshold to leave an attribute swap)."""
    return cls([kind], min_plausibility=0.0) if cls is Swap else cls([kind])


@pytest.mark.model
@pytest.mark.parametrize("cls, kind", OPERATOR_KINDS, ids=IDS)
def test_same_seed_gives_the_same_corruption(cls, kind, rows_parsed, engine_base):
    made = 0
    for row, parsed in rows_parsed:
        first = _operator(cls, kind)(parsed, engine_base, rng=np.random.default_rng(7), group=row["image_id"])
        again = _operator(cls, kind)(parsed, engine_base, rng=np.random.default_rng(7), group=row["image_id"])
        assert first == again
        if first is not None:
            made += 1
            assert first.operation == cls.name and first.concept_kind == kind
    assert made > 0, f"no {cls.name} of {kind} in the sample: the test would be vacuous"


@pytest.mark.model
@pytest.mark.parametrize("cls, kind", OPERATOR_KINDS, ids=IDS)
def test_candidates_are_deterministic(cls, kind, rows_parsed, engine_rows, engine_parsed, engine_base):
    # a base built again, in reverse order, with empty caches lists the same candidates
    fresh = ConceptBase.from_parsed(
        engine_parsed[::-1], groups=[r["image_id"] for r in engine_rows][::-1], above_mean=False
    )
    for row, parsed in rows_parsed[::3]:
        listed = cls([kind]).candidates(parsed, engine_base, group=row["image_id"])
        assert listed == cls([kind]).candidates(parsed, engine_base, group=row["image_id"])
        assert listed == cls([kind]).candidates(parsed, fresh, group=row["image_id"])
        assert all(w > 0 for _, _, w in listed)


@pytest.mark.model
@pytest.mark.parametrize("cls, kind", OPERATOR_KINDS, ids=IDS)
def test_every_candidate_is_an_exact_edit_that_changes_the_caption(cls, kind, rows_parsed, engine_base):
    op = cls([kind])
    applied = 0
    for row, parsed in rows_parsed:
        for slot, label, _ in _sample(op.candidates(parsed, engine_base, group=row["image_id"])):
            record = op.apply(parsed, slot, label)
            assert record is not None
            assert record.caption == parsed.text and record.corrected_caption == parsed.text
            assert record.corrupted_caption != parsed.text
            assert record.operation == cls.name and record.concept_kind == kind
            _assert_exact(record)
            applied += 1
    assert applied > 0


@pytest.mark.model
@pytest.mark.parametrize("cls, kind", [(c, k) for c, k in OPERATOR_KINDS if c is not Swap],
                         ids=[i for i in IDS if not i.startswith("swap")])
def test_new_concepts_are_grammatical_new_and_unused_by_the_image(cls, kind, rows_parsed, engine_base):
    op = cls([kind])
    for row, parsed in rows_parsed:
        taken = content_words(parsed.text) | engine_base.group_words(row["image_id"])
        for slot, (lemma, surface), _ in op.candidates(parsed, engine_base, group=row["image_id"]):
            # never a word of the caption or of a sibling caption of the same image
            assert not (content_words(lemma) | content_words(surface)) & taken, (parsed.text, surface)
            if cls is Add:
                continue
            c = parsed.concepts[slot.i]
            assert lemma != c.lemma
            # the same grammatical slot: a surface the base has seen in this form
            assert surface in engine_base.forms[kind][lemma][form_of(c, parsed)], (c.text, surface)
            if kind == "count":
                value = count_value(surface)
                assert value is not None and value > 1 and value != count_value(c.text)
                assert parsed.concepts[c.head].plural  # a count > 1 goes with a plural noun


@pytest.mark.model
@pytest.mark.parametrize("kind", Replace.supported_kinds)
def test_replacements_are_never_synonyms_hypernyms_or_hyponyms(kind, wordnet, rows_parsed, engine_base):
    op = Replace([kind])
    checked = 0
    for row, parsed in rows_parsed:
        for slot, (lemma, _), _ in op.candidates(parsed, engine_base, group=row["image_id"]):
            old = parsed.concepts[slot.i].lemma
            assert not _related(old, lemma, kind), f"{old!r} -> {lemma!r} ({kind})"
            checked += 1
    assert checked > 0


@pytest.mark.model
@pytest.mark.parametrize("kind", Swap.supported_kinds)
def test_swaps_exchange_different_unrelated_concepts(kind, rows_parsed, engine_base):
    op = Swap([kind])
    found = 0
    for row, parsed in rows_parsed:
        for slot, _, _ in op.candidates(parsed, engine_base, group=row["image_id"]):
            a, b = parsed.concepts[slot.i], parsed.concepts[slot.j]
            assert a.lemma != b.lemma and not semantics.related(a.lemma, b.lemma, a.kind)
            assert a.end <= b.start
            found += 1
    assert found > 0


# ------------------------------------------------------------------------------ records


def test_record_targets_follow_the_paper(make_caption):
    replaced = Corruption("A dog.", "A cat.", "replace", "noun", "dog", "cat", 2, 5, 2, 5)
    assert replaced.target == '"cat" should be "dog".'
    swapped = Corruption("A cat on a dog.", "A dog on a cat.", "swap", "noun", "cat", "dog", 2, 5, 2, 5, 11, 14)
    assert swapped.target == '"dog" and "cat" are swapped.'
    assert set(replaced.to_dict()) == {
        "caption", "corrupted_caption", "operation", "concept_kind", "original", "replacement", "start",
        "end", "new_start", "new_end", "other_start", "other_end", "target",
    }
    assert replaced.to_dict()["other_start"] == -1 and replaced.corrected_caption == "A dog."


@pytest.mark.model
def test_records_of_each_operation(engine_base, engine_parsed):
    by_text = {p.text: p for p in engine_parsed}
    rng = np.random.default_rng(0)
    chase = by_text["A dog chasing a cat in a yard."]
    dog_cat = next(s for s in Swap(["noun"]).slots(chase, engine_base)
                   if (chase.concepts[s.i].text, chase.concepts[s.j].text) == ("dog", "cat"))
    swap = Swap(["noun"]).apply(chase, dog_cat, None)
    assert swap.corrupted_caption == "A cat chasing a dog in a yard."
    assert (swap.original, swap.replacement, swap.target) == ("dog", "cat", '"cat" and "dog" are swapped.')
    assert (swap.start, swap.end, swap.other_start, swap.other_end) == (2, 5, 16, 19)

    replace = Replace(["noun"])(by_text["A dog chasing a cat in a yard."], engine_base, rng=rng)
    assert replace.target == f'"{replace.replacement}" should be "{replace.original}".'
    assert replace.original in ("dog", "cat", "yard") and replace.other_start == -1

    add = Add(["attribute"])(by_text["A girl feeding a horse in a field."], engine_base, rng=rng)
    noun = add.original
    assert add.replacement.endswith(" " + noun) and add.target == f'"{add.replacement}" should be "{noun}".'
    add = Add(["entity"])(by_text["A girl feeding a horse in a field."], engine_base, rng=rng)
    assert add.replacement.startswith(add.original + " and ")
    assert add.corrupted_caption.replace(add.replacement, add.original, 1) == add.caption


# ------------------------------------------------------------------------------ rules on hand-made parses


def _two_animals(make_caption, text, relation, symmetric, *, coordination=False):
    """ "A cat <relation> a dog." with the relation marked symmetric or not."""
    dog = text.index("dog")
    spec = ("relation", relation, relation, "CC" if coordination else "IN", {"subj": 0, "obj": 3, "symmetric": symmetric})
    return make_caption(
        text,
        ("entity", "A cat", "a cat", "NN", {"tags": "DT NN"}),
        ("noun", "cat", "cat", "NN", {"head": 0}),
        spec,
        ("entity", text[dog - 2 : dog + 3], "a dog", "NN", {"tags": "DT NN"}),
        ("noun", "dog", "dog", "NN", {"head": 3}),
    )


@pytest.mark.parametrize(
    "text, relation, coordination",
    [("A cat and a dog.", "and", True), ("A cat next to a dog.", "next to", False), ("A cat near a dog.", "near", False)],
)
def test_no_swap_across_a_symmetric_relation_decided_from_the_parse(make_caption, text, relation, coordination):
    base = ConceptBase()
    symmetric = _two_animals(make_caption, text, relation, True, coordination=coordination)
    assert Swap().slots(symmetric, base) == []
    assert Swap()(symmetric, base, rng=np.random.default_rng(0)) is None
    # the same words parsed as an asymmetric relation: the swap is allowed
    asymmetric = _two_animals(make_caption, text, relation, False)
    assert [(s.i, s.j) for s in Swap(["noun"]).slots(asymmetric, base)] == [(1, 4)]


@pytest.mark.parametrize("word", ["sand", "hand", "stand", "island", "candle"])
def test_words_containing_and_do_not_block_swaps(make_caption, word):
    # The reference implementation looked for the substring "and" in the caption; here only a
    # coordination in the parse blocks a swap.
    text = f"A dog near the {word} chasing a cat."
    caption = make_caption(
        text,
        ("entity", "A dog", "a dog", "NN", {"tags": "DT NN"}),
        ("noun", "dog", "dog", "NN", {"head": 0}),
        ("relation", "near", "near", "IN", {"subj": 0, "obj": 3, "symmetric": True}),
        ("entity", f"the {word}", f"the {word}", "NN", {"tags": "DT NN"}),
        ("noun", word, word, "NN", {"head": 3, "after": text.index("the ")}),
        ("relation", "chasing", "chase", "VBG", {"subj": 0, "obj": 6}),
        ("entity", "a cat", "a cat", "NN", {"tags": "DT NN"}),
        ("noun", "cat", "cat", "NN", {"head": 6}),
    )
    slots = {(caption.concepts[s.i].lemma, caption.concepts[s.j].lemma) for s in Swap(["noun"]).slots(caption, ConceptBase())}
    assert ("dog", "cat") in slots
    record = Swap(["noun"])(caption, ConceptBase(), rng=np.random.default_rng(0))
    assert record is not None and word in record.corrupted_caption


@pytest.mark.model
def test_real_parses_block_coordination_but_not_and_inside_words(engine_parsed, engine_base):
    by_text = {p.text: p for p in engine_parsed}

    def pairs(text):
        p = by_text[text]
        return {(p.concepts[s.i].lemma, p.concepts[s.j].lemma) for s in Swap(["noun", "relation"]).slots(p, engine_base)}

    assert ("boy", "girl") not in pairs("A boy and a girl flying a kite.")
    assert ("cat", "dog") not in pairs("A cat next to a dog on a bed.")
    assert ("dog", "cat") in pairs("A dog in the sand chasing a cat.")
    assert ("man", "woman") in pairs("A man with a hand stand next to a woman.")


def _animals_base(make_caption, **config):
    """A base of "A <animal> on a mat." captions, one image per animal, cat and dog sharing image 1."""
    captions, groups = [], []
    for animal, group in (("dog", 1), ("cat", 1), ("cow", 2), ("owl", 3), ("pig", 4)):
        text = f"A {animal} on a mat."
        captions.append(make_caption(
            text,
            ("entity", f"A {animal}", f"a {animal}", "NN", {"tags": "DT NN"}),
            ("noun", animal, animal, "NN", {"head": 0}),
            ("relation", "on", "on", "IN", {"subj": 0, "obj": 3}),
            ("entity", "a mat", "a mat", "NN", {"tags": "DT NN"}),
            ("noun", "mat", "mat", "NN", {"head": 3}),
        ))
        groups.append(group)
    return captions, ConceptBase.from_parsed(captions, groups=groups, above_mean=False, **config)


def test_sibling_captions_of_the_same_image_block_their_words(make_caption):
    captions, base = _animals_base(make_caption)
    dog = captions[0]

    def replacements(group):
        return {label[0] for _, label, _ in Replace(["noun"]).candidates(dog, base, group=group)}

    assert "cat" in replacements(None)  # the guard is what removes it below
    assert replacements(1) == replacements(None) - {"cat"}
    # draws respect it too
    for seed in range(30):
        record = Replace(["noun"])(dog, base, rng=np.random.default_rng(seed), group=1)
        assert record.replacement != "cat"


def test_replacement_never_uses_a_word_already_in_the_caption(make_caption):
    captions, base = _animals_base(make_caption)
    text = "A dog on a mat near a cow."
    caption = make_caption(text, ("noun", "dog", "dog", "NN"), ("noun", "cow", "cow", "NN"))
    assert "cow" not in {label[0] for _, label, _ in Replace(["noun"]).candidates(caption, base)}


def test_one_dog_never_gets_a_count_replacement(make_caption):
    counted = []
    for word, n in (("Two", 2), ("Three", 3), ("Four", 4), ("One", 1)):
        noun = "dogs" if n > 1 else "dog"
        counted.append(make_caption(
            f"{word} {noun} on a mat.",
            ("entity", f"{word} {noun}", f"{word.lower()} dog", "NNS" if n > 1 else "NN", {"tags": "CD NNS"}),
            ("count", word, word.lower(), "CD", {"head": 2}),
            ("noun", noun, "dog", "NNS" if n > 1 else "NN", {"head": 0}),
        ))
    base = ConceptBase.from_parsed(counted * 3, above_mean=False)
    one = counted[3]
    assert Replace(["count"]).slots(one, base) == []
    assert Replace(["count"])(one, base, rng=np.random.default_rng(0)) is None
    two = counted[0]
    new = {label[1] for _, label, _ in Replace(["count"]).candidates(two, base)}
    assert new == {"three", "four"}  # never "one" (the noun is plural) nor "two" itself


def test_light_verbs_and_coordination_are_never_replaced(make_caption):
    caption = make_caption(
        "A cat has a hat and a dog.",
        ("noun", "cat", "cat", "NN"),
        ("verb", "has", "have", "VBZ"),
        ("relation", "and", "and", "CC", {"symmetric": True}),
    )
    assert Replace(["verb", "relation"]).slots(caption, ConceptBase()) == []


def test_replacement_keeps_the_number_of_the_noun(make_caption):
    captions = [
        make_caption("Dogs on a mat.", ("noun", "Dogs", "dog", "NNS")),
        make_caption("Cats on a mat.", ("noun", "Cats", "cat", "NNS")),
        make_caption("A cow on a mat.", ("noun", "cow", "cow", "NN")),
        make_caption("A pig on a mat.", ("noun", "pig", "pig", "NN")),
    ]
    base = ConceptBase.from_parsed(captions, above_mean=False)
    plural = {label for _, label, _ in Replace(["noun"]).candidates(captions[0], base)}
    assert plural == {("cat", "cats")}
    singular = {label for _, label, _ in Replace(["noun"]).candidates(captions[2], base)}
    assert singular == {("pig", "pig")}
    record = Replace(["noun"])(captions[0], base, rng=np.random.default_rng(0))
    assert record.corrupted_caption == "Cats on a mat."


def test_add_inserts_attributes_only_before_unmodified_common_nouns(make_caption):
    base = ConceptBase.from_parsed(
        [make_caption(f"A {c} car.", ("attribute", c, c, "JJ", {"head": 1}), ("noun", "car", "car", "NN")) for c in
         ("red", "blue", "green")],
        above_mean=False,
    )
    caption = make_caption(
        "A red car near a bus in Paris.",
        ("attribute", "red", "red", "JJ", {"head": 1}),
        ("noun", "car", "car", "NN"),
        ("noun", "bus", "bus", "NN"),
        ("noun", "Paris", "paris", "NNP"),
    )
    slots = Add(["attribute"]).slots(caption, base)
    assert [caption.concepts[s.i].text for s in slots] == ["bus"]
    labels = {label[0] for _, label, _ in Add(["attribute"]).candidates(caption, base)}
    assert labels == {"blue", "green"}  # "red" is in the caption already
    record = Add(["attribute"])(caption, base, rng=np.random.default_rng(0))
    assert record.corrupted_caption in ("A red car near a blue bus in Paris.", "A red car near a green bus in Paris.")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Replace(["object"]), r"Unknown kind\(s\) \['object'\] for Replace\. Available: 'entity', 'noun'"),
        (lambda: Swap(["count"]), r"Unknown kind\(s\) \['count'\] for Swap\. Available: 'noun', 'attribute', 'relation'"),
        (lambda: Add("verb"), r"Unknown kind\(s\) \['verb'\] for Add\. Available: 'attribute', 'entity'"),
        (lambda: Add([]), r"Unknown kind\(s\) \[\] for Add"),
        (lambda: Swap(min_plausibility=1.5), r"`min_plausibility` should be in \[0, 1\], got 1\.5"),
    ],
)
def test_bad_configuration_raises_a_clear_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_operators_registry_and_repr():
    assert list(OPERATORS) == ["replace", "swap", "add", "number", "existence"]
    assert repr(Swap("noun")) == "Swap(kinds=('noun',))"
    assert Replace(["noun", "noun"]).kinds == ("noun",)


def test_no_candidate_is_data_not_an_exception(make_caption):
    lonely = make_caption("A dog.", ("noun", "dog", "dog", "NN"))
    assert Swap()(lonely, ConceptBase(), rng=np.random.default_rng(0)) is None
    assert Replace()(lonely, ConceptBase(), rng=np.random.default_rng(0)) is None
    assert Replace().candidates(lonely, ConceptBase()) == []


@pytest.mark.model
def test_lazy_blocked_set_is_the_blocked_indices(rows_parsed, engine_base):
    from iccc.base import content_words
    from iccc.operators import CandidateIndex
    from iccc.operators._base import BlockedByWords
    from iccc.operators._weights import blocked_words

    index = CandidateIndex.of(engine_base)
    for kind, form in (("noun", "NN"), ("attribute", "ATTR"), ("relation", "PREP")):
        pool = index.pool(kind, form)
        for row, parsed in rows_parsed[::5]:
            words = blocked_words(parsed.text, index, row["image_id"])
            # every candidate that has one of the words, found the slow way
            eager = frozenset(k for k, (lemma, surface) in enumerate(zip(pool.lemmas, pool.surfaces))
                              if not (content_words(lemma) | content_words(surface)).isdisjoint(words))
            lazy = BlockedByWords(pool, words)
            assert set(lazy) == eager and bool(lazy) == bool(eager) and len(lazy) == len(eager)
            assert [k in lazy for k in range(len(pool.lemmas))] == [k in eager for k in range(len(pool.lemmas))]
