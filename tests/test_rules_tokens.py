"""iccc.parsing.rules._tokens: a ``Doc``'s annotation as the lists every pass reads, the tree
queries over them, the one tree edit (``reattach``), and the string caches this module owns."""

from __future__ import annotations

from spacy.tokens import Doc
from spacy.vocab import Vocab
from test_rules import parse, tokens

from iccc.parsing.rules import _tokens
from iccc.parsing.rules._tokens import Tokens

DOG = """
    A      DT   det    1
    Dog    NN   nsubj  2
    is     VBZ/AUX  ROOT  2  be
    on     IN   prep   2
    the    DT   det    5
    bed    NN   pobj   3
"""

SHIRT = """
    a        DT    det       6
    short+   RB    advmod    3
    -+       HYPH  punct     3
    sleeved  VBN   amod      6  sleeve
    t+       NN    compound  6
    -+       HYPH  punct     6
    shirt    NN    ROOT      6
"""


# ---------------------------------------------------------------------------- reading a doc
def test_the_annotation_becomes_one_list_per_attribute():
    t = tokens(DOG)
    assert t.n == 6
    assert t.text == ["A", "Dog", "is", "on", "the", "bed"]
    assert t.lower == ["a", "dog", "is", "on", "the", "bed"]
    assert t.dep == ["det", "nsubj", "ROOT", "prep", "det", "pobj"]
    assert t.pos == ["DET", "NOUN", "AUX", "ADP", "DET", "NOUN"]
    assert t.tag == ["DT", "NN", "VBZ", "IN", "DT", "NN"]
    assert t.head == [1, 2, 2, 2, 5, 3]
    assert t.idx == [0, 2, 6, 9, 12, 16]
    assert [bool(s) for s in t.space] == [True, True, True, True, True, False]
    assert t.nominal == [False, True, False, False, False, True]
    assert t.verbal == [False] * 6  # "is" is an auxiliary


def test_children_are_sorted_and_leaves_share_one_empty_tuple():
    t = tokens(DOG)
    assert t.children[2] == [1, 3] and t.children[1] == [0] and t.children[5] == [4]
    assert t.children[0] == () and t.children[0] is t.children[4]


def test_lemmas_are_lower_case_with_the_lexicon_fixes():
    t = tokens("""
        Dogs    NNS  nsubj  1  Dog
        riding  VBG  ROOT   1  rid
        it      PRP  dobj   1  -PRON-
    """)
    assert t.lemma == ["dog", "ride", "it"]  # lower-cased; LEMMA_FIXES "riding"; "-PRON-" -> the word


def test_an_empty_doc_has_empty_lists():
    t = Tokens(Doc(Vocab(), words=[]))
    assert t.n == 0 and t.text == [] and t.head == [] and t.children == []


# ---------------------------------------------------------------------------- tree queries
def test_subtree_queries():
    t = tokens(DOG)
    assert t.inside(4, 3) and t.inside(5, 2) and not t.inside(1, 3) and t.inside(2, 2)
    assert t.left_edge(2) == 0 and t.left_edge(3) == 3 and t.left_edge(5) == 4
    assert t.has_child(2, ("prep",)) and not t.has_child(2, ("dobj",))
    assert t.has_prep_object(2) and not t.has_prep_object(1)


def test_of_object_is_a_nominal_pronoun_or_number_after_of():
    t = tokens("""
        a      DT  det   1
        herd   NN  ROOT  1
        of     IN  prep  1
        them   PRP pobj  2
    """)
    assert t.of_object(1) == 3
    t = tokens("""
        a      DT  det   1
        herd   NN  ROOT  1
        of     IN  prep  1
        red    JJ  pobj  2
    """)
    assert t.of_object(1) is None
    t = tokens("""
        a      DT  det   1
        herd   NN  ROOT  1
        in     IN  prep  1
        cows   NNS pobj  2
    """)
    assert t.of_object(1) is None  # only "of"


def test_resumes_finds_a_resumptive_pronoun_object():
    t = tokens("""
        a        DT   det   1
        table    NN   ROOT  1
        with     IN   prep  1
        laptops  NNS  pobj  2  laptop
        on       IN   prep  3
        it       PRP  pobj  4
    """)
    assert t.resumes(3) and not t.resumes(1)


def test_words_join_as_in_the_text_with_the_last_word_given():
    t = tokens(SHIRT)
    assert t.words(4, 6, "shirt") == "t-shirt"
    assert t.words(1, 3, "sleeved") == "short-sleeved"
    assert t.words(6, 6, "shirts") == "shirts"
    t = tokens(DOG)
    assert t.words(0, 1, "hound") == "a hound"


def test_hyphen_joined_needs_no_space_on_either_side():
    t = tokens(SHIRT)
    assert t.hyphen_joined(2) and t.hyphen_joined(5)
    t = tokens("""
        black  JJ    amod   2
        -      HYPH  punct  2
        white  JJ    ROOT   2
    """)
    assert not t.hyphen_joined(1)


# ---------------------------------------------------------------------------- reattach
def test_reattach_moves_a_token_and_keeps_children_sorted():
    t = tokens(DOG)
    t.reattach(4, 2, "dep")  # "the" from "bed" to "is"
    assert t.head[4] == 2 and t.dep[4] == "dep"
    assert t.children[2] == [1, 3, 4] and t.children[5] == []
    t.reattach(0, 2, "det")  # a child left of the others goes first
    assert t.children[2] == [0, 1, 3, 4] and t.children[1] == []
    t.reattach(0, 1, "det")
    t.reattach(0, 4, "det")  # onto a leaf: its shared empty tuple is replaced, not changed
    assert t.children[4] == [0] and t.children[1] == []
    assert t.children[0] == () and _tokens._LEAF == ()


def test_reattach_to_itself_makes_a_root():
    t = tokens(DOG)
    t.reattach(5, 5, "ROOT")
    assert t.head[5] == 5 and t.dep[5] == "ROOT" and t.children[3] == [] and 5 not in t.children[5]


# ---------------------------------------------------------------------------- string caches
def test_clear_caches_empties_the_string_caches_and_they_fill_again_the_same():
    doc = parse(DOG)
    before = tokens(DOG)
    assert _tokens._STRINGS and _tokens._LOWER and _tokens._LEMMAS
    _tokens.clear_caches()
    assert (len(_tokens._STRINGS), len(_tokens._LOWER), len(_tokens._LEMMAS)) == (0, 0, 0)
    after = Tokens(doc)  # recomputed from the doc's vocabulary
    assert [getattr(after, a) for a in Tokens.__slots__] == [getattr(before, a) for a in Tokens.__slots__]
    assert "Dog" in _tokens._STRINGS.values()


def test_the_caches_are_bounded(monkeypatch):
    _tokens.clear_caches()
    tokens(DOG)
    monkeypatch.setattr(_tokens, "CACHE_MAX", 3)
    assert len(_tokens._STRINGS) > 3
    t = Tokens(Doc(Vocab(), words=["zebra"], heads=[0], deps=["ROOT"], pos=["NOUN"], tags=["NN"], lemmas=["zebra"]))
    assert t.lower == ["zebra"]
    # full caches were emptied before this doc's strings were learnt
    assert "bed" not in _tokens._STRINGS.values() and "zebra" in _tokens._STRINGS.values()
