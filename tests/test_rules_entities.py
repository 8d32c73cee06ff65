"""Pass 3, iccc.parsing.rules._entities: entities, their nouns and counts, on the pass itself
(``find_entities``) and in the extracted concepts."""

from __future__ import annotations

import pytest
from test_rules import concepts, kinds, one, passes, protos_of, tokens

from iccc.parsing.rules._attributes import Attributes
from iccc.parsing.rules._entities import find_entities
from iccc.parsing.rules._resolve import Entities


def entities_of(table: str, redirect=None, prep_nouns=None):
    """``(Entities, concept tuples)`` of pass 3 alone on ``table`` (no repairs before it)."""
    t = tokens(table)
    protos: list[tuple] = []
    found = find_entities(t, redirect or {}, prep_nouns or set(), Attributes(t, protos), protos)
    return found, protos


# ---------------------------------------------------------------------------- the pass itself
def test_an_entity_and_its_noun_per_head_with_counts_and_attributes():
    found, protos = entities_of("""
        two   CD   nummod  2
        red   JJ   amod    2
        cars  NNS  ROOT    2  car
    """)
    assert isinstance(found, Entities)
    assert set(found.heads) == {2} and found.noun_first == {2: 2}
    assert [(p[1], p[2], p[3], p[5]) for p in protos] == [
        ("entity", 0, 2, "two red car"), ("noun", 2, 2, "car"), ("count", 0, 0, "two"), ("attribute", 1, 1, "red"),
    ]
    assert found.heads[2] is protos[0]
    # links: the noun to its entity head, the count and the attribute to the noun head
    assert [(p[6], p[7]) for p in protos] == [(None, -1), ("entity", 2), ("noun", 2), ("noun", 2)]


def test_compound_parts_are_inside_the_noun_of_the_head():
    found, protos = entities_of("""
        a        DT  det       2
        fire     NN  compound  2
        hydrant  NN  ROOT      2
    """)
    assert set(found.heads) == {2} and found.noun_first == {2: 1}


def test_redirected_and_prepositional_nouns_are_no_entities():
    table = """
        a        DT  det   1
        picture  NN  ROOT  1
        of       IN  prep  1
        a        DT  det   4
        dog      NN  pobj  2
    """
    assert set(entities_of(table)[0].heads) == {1, 4}
    assert set(entities_of(table, redirect={1: 4})[0].heads) == {4}
    assert set(entities_of(table, prep_nouns={1})[0].heads) == {4}


@pytest.mark.parametrize("word", ["something", "x" * 41, "123"])
def test_thing_words_noise_and_words_without_letters_are_no_entities(word):
    found, protos = entities_of(f"""
        a       DT  det   1
        {word}  NN  ROOT  1
    """)
    assert found.heads == {} and protos == []


def test_a_place_adverbial_is_no_entity():
    found, _ = entities_of("""
        mountains  NNS  ROOT  0  mountain
        in         IN   prep  0
        the        DT   det   3
        distance   NN   pobj  1
    """)
    assert set(found.heads) == {0}


def test_an_apostrophe_plural_takes_the_s_and_becomes_plural():
    table = """
        holding  VBG  ROOT  0  hold
        ski+     NN   dobj  0
        's       POS  case  1
    """
    s = passes(table, "entities")
    assert protos_of(s, "noun") == [(1, 2, "ski")]
    assert s.tokens.tag[1] == "NNS"


# ---------------------------------------------------------------------------- in the concepts
def test_entity_takes_determiner_and_adjectives_noun_is_the_head():
    cs = concepts("""
        a      DT  det   2
        black  JJ  amod  2
        dog    NN  ROOT  2
    """)
    assert [(c.kind, c.text, c.start, c.end) for c in cs] == [
        ("entity", "a black dog", 0, 11),
        ("attribute", "black", 2, 7),
        ("noun", "dog", 8, 11),
    ]
    ent, attr, noun = cs
    assert noun.head == 0 and attr.head == 2  # noun -> entity, attribute -> noun
    assert (noun.tag, noun.tags, noun.dep, noun.lemma) == ("NN", "NN", "ROOT", "dog")
    assert ent.lemma == "a black dog" and ent.tags == "DT JJ NN"


def test_compound_stays_in_the_noun_and_modifiers_of_the_compound_are_attributes():
    # the small model hangs "red" on "fire"; it still describes the hydrant
    cs = concepts("""
        a        DT  det       3
        red      JJ  amod      2
        fire     NN  compound  3
        hydrant  NN  ROOT      3
    """)
    noun = one(cs, "noun")
    assert (noun.text, noun.lemma) == ("fire hydrant", "fire hydrant")
    assert kinds(cs, "entity") == ["a red fire hydrant"]
    assert cs[one(cs, "attribute", "red").head] is noun
    assert kinds(cs, "noun") == ["fire hydrant"]  # "fire" is no noun of its own


def test_noun_tagged_as_adjectival_modifier_joins_the_compound():
    cs = concepts("""
        a       DT  det   2
        living  NN  amod  2
        room    NN  ROOT  2
    """)
    assert kinds(cs, "noun") == ["living room"]
    assert kinds(cs, "entity") == ["a living room"]
    assert kinds(cs, "attribute") == []


@pytest.mark.parametrize(
    "word, tag, expected",
    [("front", "JJ", "front tire"), ("cutting", "VBG", "cutting tire"), ("hot", "JJ", "tire")],
)
def test_position_words_and_purpose_gerunds_belong_to_the_noun(word, tag, expected):
    cs = concepts(f"""
        the     DT   det   2
        {word}  {tag}  amod  2
        tire    NN   ROOT  2
    """)
    assert kinds(cs, "noun") == [expected]


def test_participle_that_is_no_purpose_gerund_stays_an_attribute():
    cs = concepts("""
        a         DT   det   2
        sleeping  VBG  amod  2  sleep
        cat       NN   ROOT  2
    """)
    assert kinds(cs, "noun") == ["cat"]
    assert [(a.text, a.lemma) for a in cs if a.kind == "attribute"] == [("sleeping", "sleeping")]


def test_fixed_adjective_noun_pairs_are_one_noun():
    cs = concepts("""
        a    DT  det   2
        hot  JJ  amod  2
        dog  NN  ROOT  2
    """)
    assert kinds(cs, "noun") == ["hot dog"] and kinds(cs, "attribute") == []


def test_colour_and_material_nouns_leading_a_compound_are_attributes():
    cs = concepts("""
        a      DT  det       2
        metal  NN  compound  2
        pole   NN  ROOT      2
    """)
    assert kinds(cs, "noun") == ["pole"]
    assert cs[one(cs, "attribute", "metal").head].text == "pole"
    assert kinds(cs, "entity") == ["a metal pole"]


def test_hyphenated_noun_and_adjective_stay_whole():
    cs = concepts("""
        a        DT    det       6
        short+   RB    advmod    3
        -+       HYPH  punct     3
        sleeved  VBN   amod      6  sleeve
        t+       NN    compound  6
        -+       HYPH  punct     6
        shirt    NN    ROOT      6
    """)
    assert one(cs, "noun").lemma == "t-shirt" and one(cs, "noun").text == "t-shirt"
    attr = one(cs, "attribute")
    assert (attr.text, attr.lemma) == ("short-sleeved", "short-sleeved")
    assert kinds(cs, "entity") == ["a short-sleeved t-shirt"]


def test_pronouns_and_thing_words_are_not_entities():
    cs = concepts("""
        he       PRP  nsubj  2
        is       VBZ/AUX  aux    2  be
        holding  VBG  ROOT   2  hold
        something  NN  dobj   2
    """)
    assert kinds(cs, "entity") == []
    assert kinds(cs, "relation") == []
    assert kinds(cs, "verb") == ["holding"]


@pytest.mark.parametrize("number", ["two", "3"])
def test_numerals_are_counts_of_their_noun(number):
    cs = concepts(f"""
        {number}  CD   nummod  1
        dogs      NNS  ROOT    1  dog
    """)
    count = one(cs, "count")
    assert (count.text, count.lemma, count.tag) == (number, number, "CD")
    assert cs[count.head].text == "dogs" and cs[count.head].plural
    assert kinds(cs, "entity") == [f"{number} dogs"]


@pytest.mark.parametrize(
    "words, number, value",
    [
        ("3", "3", 3),
        ("12", "12", 12),
        ("exactly 12", "12", 12),  # "exactly" stays in the entity, the count is the number
        ("one", "one", 1),
        ("sixteen", "sixteen", 16),
    ],
)
def test_digits_and_every_number_word_are_counts(words, number, value):
    from iccc.parsing.lexicon import NUMBER_WORDS

    *adverb, numeral = words.split()
    table = "".join(f"        {w}  RB  advmod  {len(adverb)}\n" for w in adverb)
    noun_tag, noun = ("NN", "dog") if value == 1 else ("NNS", "dogs")
    table += f"        {numeral}  CD  nummod  {len(adverb) + 1}\n        {noun}  {noun_tag}  ROOT  {len(adverb) + 1}  dog\n"
    cs = concepts(table)
    count = one(cs, "count")
    assert (count.text, count.lemma) == (number, number)
    assert cs[count.head].kind == "noun" and cs[count.head].text == noun
    assert (int(number) if number.isdigit() else NUMBER_WORDS[number]) == value
    assert kinds(cs, "entity") == [f"{words} {noun}"]


@pytest.mark.parametrize("article", ["a", "A", "an"])
def test_a_single_is_one_count_like_one(article):
    from iccc.parsing.lexicon import NUMBER_WORDS

    cs = concepts(f"""
        {article}  DT   det   2
        single     JJ   amod  2
        giraffe    NN   ROOT  2
    """)
    count = one(cs, "count")
    assert (count.text, count.lemma, count.tags) == (f"{article} single", f"{article.lower()} single", "DT JJ")
    assert NUMBER_WORDS[count.lemma] == 1
    assert cs[count.head].text == "giraffe"
    assert kinds(cs, "attribute") == []  # "single" is the count, not a quality
    assert kinds(cs, "entity") == [f"{article} single giraffe"]


def test_single_without_an_article_is_an_attribute():
    # "two single beds", "single bed": a kind of bed, no count of one
    cs = concepts("""
        two     CD   nummod  2
        single  JJ   amod    2
        beds    NNS  ROOT    2  bed
    """)
    assert [(c.kind, c.text) for c in cs if c.kind in ("count", "attribute")] == [("count", "two"), ("attribute", "single")]


def test_compound_parts_are_never_nouns_of_their_own():
    cs = concepts("""
        car     NN  compound  1
        rear    JJ  amod      2
        view    NN  compound  3
        mirror  NN  ROOT      3
    """)
    assert kinds(cs, "noun") == ["car rear view mirror"]
    assert kinds(cs, "entity") == ["car rear view mirror"]


def test_apostrophe_plural_is_one_plural_noun():
    cs = concepts("""
        a           DT   det    1
        collection  NN   ROOT   1
        of          IN   prep   1
        CD+         NNP  pobj   2  cd
        's          POS  case   3
    """)
    noun = one(cs, "noun")
    assert (noun.text, noun.lemma, noun.tag) == ("CD's", "cd", "NNS")
    assert kinds(cs, "entity") == ["CD's"]
    # a real possessive keeps its nested entities
    cs = concepts("""
        the   DT   det   1
        man+  NN   poss  3
        's    POS  case  1
        hat   NN   ROOT  3
    """)
    assert kinds(cs, "noun") == ["man", "hat"]
    assert kinds(cs, "entity") == ["the man's hat", "the man"]


def test_adjectives_of_a_quantifier_noun_describe_what_it_quantifies():
    cs = concepts("""
        small    JJ   amod  1
        patches  NNS  ROOT  1  patch
        of       IN   prep  1
        grass    NN   pobj  2
    """)
    assert kinds(cs, "noun") == ["grass"]
    assert [(a.text, cs[a.head].text) for a in cs if a.kind == "attribute"] == [("small", "grass")]


def test_adjective_hung_on_a_leading_material_is_an_attribute_of_the_noun():
    # "black/amod->metal metal/compound pole"
    cs = concepts("""
        black  JJ  amod      1
        metal  NN  compound  2
        pole   NN  ROOT      2
    """)
    assert kinds(cs, "noun") == ["pole"]
    assert [(a.text, cs[a.head].text) for a in cs if a.kind == "attribute"] == [("black", "pole"), ("metal", "pole")]
