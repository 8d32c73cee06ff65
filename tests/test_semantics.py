"""Semantic knowledge: built-in synonym sets and attribute groups, WordNet relatedness and categories."""

from __future__ import annotations

import pytest

from iccc import semantics
from iccc.semantics import (
    ATTRIBUTE_GROUPS,
    SYNONYM_SETS,
    attribute_group,
    category,
    hypernym_names,
    related,
    synonym_names,
)

# ------------------------------------------------------------------------------ built-in knowledge


@pytest.mark.parametrize(
    "a, b, kind",
    [
        ("couch", "sofa", "noun"),
        ("bike", "bicycle", "noun"),
        ("tv", "television", "noun"),
        ("man", "guy", "noun"),
        ("gray", "grey", "attribute"),
        ("big", "large", "attribute"),
        ("wood", "wooden", "attribute"),
        ("next to", "near", "relation"),
        ("on", "on top of", "relation"),
        ("hold", "carry", "verb"),
    ],
)
def test_built_in_synonyms_are_related_in_both_directions(a, b, kind):
    assert related(a, b, kind) and related(b, a, kind)
    assert b in synonym_names(a, kind)


@pytest.mark.parametrize("kind", ["noun", "entity"])
def test_nouns_are_related_to_their_compounds_by_head_word(kind):
    assert related("tennis racket", "racket", kind)
    assert related("racket", "tennis racket", kind)
    assert not related("tennis racket", "tennis ball", kind)


def test_every_built_in_synonym_set_is_related_pairwise(no_wordnet):
    for group in SYNONYM_SETS:
        words = sorted(group)
        for a in words:
            for b in words:
                assert related(a, b, "noun") or related(a, b, "attribute") or related(a, b, "relation")


def test_attribute_groups():
    assert attribute_group("red") == "colour"
    assert attribute_group("wooden") == "material"
    assert attribute_group("striped") == "pattern"
    assert attribute_group("tiny") == "size"
    assert attribute_group("happy") == "emotion"
    assert attribute_group("delicious") is None
    # each word in one group only, so the answer does not depend on the order of the groups
    seen: dict[str, str] = {}
    for name, words in ATTRIBUTE_GROUPS.items():
        for w in words:
            assert w not in seen, f"{w!r} is in both {seen[w]!r} and {name!r}"
            seen[w] = name


def test_categories_that_need_no_wordnet(no_wordnet):
    assert category("red", "attribute") == "colour"
    assert category("metal", "attribute") == "material"
    assert category("two", "count") == "number"
    assert category("on", "relation") == "spatial"
    assert category("next to", "relation") == "spatial"
    assert category("sitting on", "relation") == "action"
    assert category("holding", "relation") == "action"


def test_without_wordnet_only_built_in_knowledge_applies(no_wordnet):
    assert not semantics.wordnet_available()
    assert related("couch", "sofa", "noun")
    assert not related("dog", "animal", "noun")
    assert hypernym_names("dog", "noun") == frozenset()
    assert category("dog", "noun") is None
    assert category("run", "verb") is None
    assert synonym_names("dog", "noun") == frozenset({"dog", "puppy"})


# ------------------------------------------------------------------------------ with WordNet


@pytest.mark.parametrize(
    "a, b, kind",
    [
        ("car", "automobile", "noun"),  # synonyms (one synset)
        ("dog", "animal", "noun"),  # hypernym
        ("animal", "dog", "noun"),  # hyponym
        ("pizza", "food", "noun"),
        ("vehicle", "truck", "noun"),
        ("pigeon", "bird", "noun"),
        ("dog", "canine", "entity"),
        ("walk", "move", "verb"),  # verb hypernym
        ("shiny", "glossy", "attribute"),  # one adjective synset
    ],
)
def test_wordnet_synonyms_hypernyms_and_hyponyms_are_related(wordnet, a, b, kind):
    assert related(a, b, kind) and related(b, a, kind)


@pytest.mark.parametrize(
    "a, b, kind",
    [
        ("dog", "cat", "noun"),  # co-hyponyms of carnivore
        ("apple", "orange", "noun"),
        ("man", "woman", "noun"),
        ("boy", "girl", "noun"),
        ("car", "truck", "noun"),
        ("red", "blue", "attribute"),
        ("wooden", "metal", "attribute"),
        ("small", "large", "attribute"),
        ("sit", "stand", "verb"),
        ("on", "under", "relation"),
    ],
)
def test_wordnet_co_hyponyms_are_not_related(wordnet, a, b, kind):
    assert not related(a, b, kind) and not related(b, a, kind)


def test_hypernym_names_walk_the_whole_chain(wordnet):
    names = hypernym_names("dog", "noun")
    assert {"canine", "carnivore", "mammal", "animal"} <= names
    assert "cat" not in names
    assert hypernym_names("red", "attribute") == frozenset()  # adjectives have no hypernyms


@pytest.mark.parametrize(
    "lemma, kind, expected",
    [
        ("dog", "noun", "animal"),
        ("horse", "noun", "animal"),
        ("pizza", "noun", "food"),
        ("man", "noun", "person"),
        ("woman", "noun", "person"),
        ("child", "noun", "person"),
        ("runner", "noun", "person-role"),
        ("skateboarder", "noun", "person-role"),
        ("car", "noun", "vehicle"),
        ("chair", "noun", "furniture"),
        ("table", "noun", "furniture"),
        ("a black dog", "entity", "animal"),  # entities by their head word
        ("red", "attribute", "colour"),
        ("two", "count", "number"),
    ],
)
def test_wordnet_categories(wordnet, lemma, kind, expected):
    assert category(lemma, kind) == expected


def test_verb_categories_are_wordnet_lexicographer_files(wordnet):
    assert category("run", "verb") == "verb.motion"
    assert category("eat", "verb") == "verb.consumption"


@pytest.mark.parametrize("lemma", ["snow", "sand", "rock", "burger", "wood", "crane"])
def test_common_nouns_are_not_people_because_of_a_name_sense(wordnet, lemma):
    # WordNet also lists C. P. Snow, George Sand, Warren Burger...: instance senses do not count
    assert category(lemma, "noun") not in ("person", "person-role")


def test_set_wordnet_path_reports_availability(wordnet, tmp_path):
    # a folder without WordNet does not switch it off while the real one is still on the path
    assert semantics.set_wordnet_path(tmp_path) is True
    assert related("dog", "animal", "noun")
