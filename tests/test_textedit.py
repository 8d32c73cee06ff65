"""Pure text edits: exact edits, a/an agreement, capitals, and clear errors for bad spans."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iccc import textedit
from iccc.textedit import (
    fit_case,
    indefinite_article,
    insert_before,
    match_case,
    mid_sentence,
    replace_span,
    swap_spans,
)

_ARTICLE_AT_END = re.compile(r"(?:(?<=\s)|^)(a|an)(\s+)$", re.I)


def _without_final_article(prefix: str) -> str:
    """``prefix`` with an "a"/"an" right at its end normalised (the one thing an edit may change)."""
    return _ARTICLE_AT_END.sub(lambda m: "a" + m.group(2), prefix)


# ------------------------------------------------------------------------------ replace_span


def test_replace_keeps_everything_outside_the_span_byte_identical():
    text = "Two dogs  on a bed,\tnext to the window!"
    e = replace_span(text, 4, 8, "cats")
    assert e.text == "Two cats  on a bed,\tnext to the window!"
    assert e.text[: e.start] == text[:4] and e.text[e.end :] == text[8:]
    assert e.text[e.start : e.end] == "cats"
    assert len(e.text) == len(text) + e.shift


@pytest.mark.parametrize(
    "text, span, new, expected",
    [
        ("A dog on a bed.", (2, 5), "owl", "An owl on a bed."),
        ("An owl on a bed.", (3, 6), "dog", "A dog on a bed."),
        ("There is an apple here.", (12, 17), "pear", "There is a pear here."),
        ("a dog.", (2, 5), "owl", "an owl."),
        ("Cats near a dog.", (12, 15), "elephant", "Cats near an elephant."),
        ("A  dog.", (3, 6), "owl", "An  owl."),  # the spacing is kept
        ("A\tdog.", (2, 5), "owl", "An\towl."),
    ],
)
def test_replace_makes_the_article_agree_both_ways(text, span, new, expected):
    e = replace_span(text, *span, new)
    assert e.text == expected
    assert e.text[e.start : e.end] == new
    assert len(e.text) == len(text) + e.shift


@pytest.mark.parametrize(
    "word, article",
    [
        ("hour", "an"),
        ("hourglass", "an"),
        ("honest man", "an"),
        ("umbrella", "an"),
        ("unicorn", "a"),
        ("urinal", "a"),
        ("urine sample", "a"),
        ("urban street", "an"),
        ("university", "a"),
        ("one-way sign", "a"),
        ("one", "a"),
        ("European car", "a"),
        ("owl", "an"),
        ("dog", "a"),
        ("SUV", "an"),
        ("MRI", "an"),
        ("TV", "a"),
        ("FBI agent", "an"),  # an acronym opening a phrase
        ("X-ray", "an"),
        ("T-shirt", "a"),
        ("8-ball", "an"),
        ("11 cats", "an"),
        ("2 cats", "a"),
    ],
)
def test_indefinite_article_exceptions(word, article):
    assert indefinite_article(word) == article
    # and replace_span applies it
    assert replace_span("A cat.", 2, 5, word).text.split(" ", 1)[0] == article.capitalize()


def test_article_case_follows_the_old_article():
    assert replace_span("An owl.", 3, 6, "dog").text == "A dog."
    assert replace_span("Look, an owl.", 9, 12, "dog").text == "Look, a dog."


def test_only_an_article_right_before_the_span_changes():
    # "a" is separated from the replaced word by another word: left alone
    assert replace_span("A big dog.", 6, 9, "owl").text == "A big owl."
    assert replace_span("The dog.", 4, 7, "owl").text == "The owl."
    # "a" glued to a previous word is not an article
    assert replace_span("Ka dog.", 3, 6, "owl").text == "Ka owl."
    # switched off
    assert replace_span("A dog.", 2, 5, "owl", fix_article=False).text == "A owl."


def test_sentence_initial_capital_is_carried_over():
    assert replace_span("Dogs on a bed.", 0, 4, "cats").text == "Cats on a bed."
    assert replace_span("A man. Dogs run.", 7, 11, "cats").text == "A man. Cats run."
    assert replace_span("Dogs on a bed.", 0, 4, "black cats").text == "Black cats on a bed."
    # a caption written in lower case stays so
    assert replace_span("dogs on a bed.", 0, 4, "cats").text == "cats on a bed."
    # mid-sentence the new word is used as given
    assert replace_span("A dog and a cat.", 12, 15, "owl").text == "A dog and an owl."
    # only the first word decides: an entity with a proper noun or acronym later in it still
    # starts the sentence with a capital (COCO: "A toilet sits ..." -> "A TV sits ...")
    assert replace_span("A toilet sits in a bathroom.", 0, 8, "a TV").text == "A TV sits in a bathroom."
    text = "A photo of two giraffes."
    assert replace_span(text, 0, 7, "the Big Ben clock tower").text == "The Big Ben clock tower of two giraffes."


def test_proper_nouns_and_acronyms_keep_their_case():
    assert replace_span("A dog and a cat.", 12, 15, "Honda").text == "A dog and a Honda."
    assert replace_span("Dogs on a bed.", 0, 4, "TVs").text == "TVs on a bed."
    assert replace_span("Dogs on a bed.", 0, 4, "iPhones").text == "iPhones on a bed."
    # an acronym's capitals are its own: they do not spread to the replacement
    assert replace_span("TV on a desk.", 0, 2, "radio").text == "Radio on a desk."


def test_captions_in_capitals_stay_in_capitals():
    assert replace_span("A DOG ON A BED.", 2, 5, "owl").text == "AN OWL ON A BED."
    assert replace_span("AN OWL.", 3, 6, "dog").text == "A DOG."
    assert swap_spans("DOGS CHASE CATS.", (0, 4), (11, 15)).text == "CATS CHASE DOGS."


@pytest.mark.parametrize(
    "text, span, new, expected",
    [
        # issue 17: "MAN" in a caption in capitals is the word "man", not an acronym "M-A-N"
        ("A GIRL IS IN A CART", (2, 6), "man", "A MAN IS IN A CART"),
        ("AN OWL IS IN A CART", (3, 6), "man", "A MAN IS IN A CART"),
        ("A GIRL IS IN A CART", (2, 6), "owl", "AN OWL IS IN A CART"),
        ("AN OWL IS IN A CART", (3, 6), "girl", "A GIRL IS IN A CART"),
        ("A GIRL IS IN A CART", (2, 6), "umbrella", "AN UMBRELLA IS IN A CART"),
        ("A GIRL IS IN A CART", (2, 6), "unicorn", "A UNICORN IS IN A CART"),
        ("A GIRL IS IN A CART", (2, 6), "hour", "AN HOUR IS IN A CART"),
        ("A GIRL IS IN A CART", (2, 6), "European", "A EUROPEAN IS IN A CART"),
        ("A GIRL IS IN A CART", (2, 6), "NFL fan", "AN NFL FAN IS IN A CART"),  # no vowel: spelled out
        ("A GIRL IS IN A CART", (2, 6), "x-ray", "AN X-RAY IS IN A CART"),
        ("A GIRL IS IN A CART", (2, 6), "t-shirt", "A T-SHIRT IS IN A CART"),
        ("A GIRL IS IN A CART", (2, 6), "elephant", "AN ELEPHANT IS IN A CART"),
        ("A GIRL IS IN A CART", (15, 19), "oven", "A GIRL IS IN AN OVEN"),
    ],
)
def test_articles_in_capitals_follow_the_sound_of_the_word(text, span, new, expected):
    assert replace_span(text, *span, new).text == expected


def test_articles_in_capitals_for_swaps_and_insertions():
    assert swap_spans("A MAN ON AN ELEPHANT", (2, 5), (12, 20)).text == "AN ELEPHANT ON A MAN"
    assert swap_spans("AN OWL NEXT TO A GIRL", (3, 6), (17, 21)).text == "A GIRL NEXT TO AN OWL"
    assert insert_before("A MAN ON A BED", 2, "old").text == "AN OLD MAN ON A BED"
    assert insert_before("AN OWL ON A BED", 3, "small").text == "A SMALL OWL ON A BED"


def test_indefinite_article_in_capitals_reads_words_not_acronyms():
    assert [indefinite_article(w) for w in ("MAN", "SUV", "TV")] == ["an", "an", "a"]  # acronyms
    assert [indefinite_article(w, capitals=True) for w in ("MAN", "SUV", "TV", "DVD", "OWL")] == [
        "a", "a", "a", "a", "an"]
    with pytest.raises(TypeError, match="`word` must be a string, got int"):
        indefinite_article(3)
    with pytest.raises(TypeError, match="`capitals` must be True or False, got 'yes'"):
        indefinite_article("dog", capitals="yes")


def test_case_helpers():
    assert match_case("Dog", "black cat") == "Black cat"
    assert match_case("dog", "Cat") == "Cat"
    assert match_case("Dog", "iPhone") == "iPhone"
    assert fit_case("Dogs and a cat.", 0, "Dogs", "cat") == "Cat"
    assert fit_case("A cat and a dog.", 11, "dog", "Honda") == "Honda"
    assert mid_sentence("Dogs chase cats.", 0, "Dogs") == "dogs"
    assert mid_sentence("TV on a desk.", 0, "TV") == "TV"
    assert mid_sentence("A dog. Cats run.", 7, "Cats") == "cats"
    assert mid_sentence("A dog and Paris.", 10, "Paris") == "Paris"


# ------------------------------------------------------------------------------ insert_before


def test_insert_before_is_exact_and_fixes_the_article():
    e = insert_before("An apple on a table.", 3, "red")
    assert e.text == "A red apple on a table."
    assert e.text[e.start : e.end] == "red"
    assert e.text[e.end :] == " apple on a table."
    assert len(e.text) == len("An apple on a table.") + e.shift
    assert insert_before("A dog on a bed.", 2, "old").text == "An old dog on a bed."
    assert insert_before("A dog on a bed.", 11, "big").text == "A dog on a big bed."


def test_insert_at_sentence_start_moves_the_capital():
    assert insert_before("Dogs on a bed.", 0, "black").text == "Black dogs on a bed."
    assert insert_before("A man. Dogs run.", 7, "black").text == "A man. Black dogs run."
    # acronyms keep their capitals when they stop being sentence-initial
    assert insert_before("TV on a bed.", 0, "old").text == "Old TV on a bed."
    assert insert_before("SUVs parked.", 0, "red").text == "Red SUVs parked."


# ------------------------------------------------------------------------------ swap_spans


def test_swap_moves_capitals_with_the_position_and_fixes_articles():
    e = swap_spans("A cat on an apple.", (2, 5), (12, 17))
    assert e.text == "An apple on a cat."
    assert e.text[e.start : e.end] == "apple"
    assert swap_spans("Dogs chase cats.", (0, 4), (11, 15)).text == "Cats chase dogs."
    # the spans may come in either order
    assert swap_spans("Dogs chase cats.", (11, 15), (0, 4)).text == "Cats chase dogs."
    assert swap_spans("A red car and a blue bus.", (2, 5), (16, 20)).text == "A blue car and a red bus."


def test_swap_keeps_proper_nouns_and_acronyms():
    assert swap_spans("A man near Paris.", (2, 5), (11, 16)).text == "A Paris near man."
    assert swap_spans("TV on a desk.", (0, 2), (8, 12)).text == "Desk on a TV."


def test_swap_of_different_lengths_keeps_the_rest():
    text = "A tall giraffe next to a cow, eating."
    e = swap_spans(text, (7, 14), (25, 28))
    assert e.text == "A tall cow next to a giraffe, eating."
    assert e.text.endswith(", eating.") and e.text.startswith("A tall ")
    assert len(e.text) == len(text) + e.shift


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "span, message",
    [
        ((5, 2), "ends before it starts"),
        ((0, 30), "outside the text of length 15"),
        ((-1, 3), "outside the text of length 15"),
        ((1.0, 3), "must be integers"),
        (("1", 3), "must be integers"),
        ((True, 3), "must be integers"),
    ],
)
def test_bad_spans_raise_value_error_naming_the_problem(span, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        replace_span("A dog on a bed.", *span, "owl")
    with pytest.raises(ValueError, match=re.escape(message)):
        swap_spans("A dog on a bed.", span, (11, 14)) if span[0] != -1 else swap_spans(
            "A dog on a bed.", (11, 14), span
        )


def test_overlapping_swap_spans_raise():
    with pytest.raises(ValueError, match=r"must not overlap, got \(2, 6\) and \(4, 8\)"):
        swap_spans("A dog on a bed.", (2, 6), (4, 8))
    # touching spans are fine
    assert swap_spans("ab", (0, 1), (1, 2)).text == "ba"


@pytest.mark.parametrize("position", [-1, 16, 2.5, None])
def test_bad_insert_position_raises(position):
    with pytest.raises(ValueError, match=r"`position` must be within 0\.\.15, got"):
        insert_before("A dog on a bed.", position, "red")


def test_numpy_integer_offsets_are_accepted():
    np = pytest.importorskip("numpy")
    assert replace_span("A dog.", np.int64(2), np.int32(5), "owl").text == "An owl."


# ------------------------------------------------------------------------------ properties

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
_TEXT = st.lists(
    st.one_of(_WORD, st.sampled_from(["a", "an", "A", "An", "the", "Dogs", "TV", ".", ",", "!", "  ", "\t"])),
    min_size=1,
    max_size=14,
).map(" ".join)


@st.composite
def _text_and_span(draw):
    text = draw(_TEXT)
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    return text, start, end


@settings(max_examples=300, deadline=None, database=None)
@given(_text_and_span(), _WORD)
def test_random_replacements_keep_prefix_and_suffix(text_span, new):
    text, start, end = text_span
    e = replace_span(text, start, end, new)
    assert e.text[e.end :] == text[end:]
    assert _without_final_article(e.text[: e.start]) == _without_final_article(text[:start])
    assert e.text[e.start : e.end].lower() == new.lower()
    assert len(e.text) == len(text) + e.shift
    # without article fixing the prefix is untouched byte for byte
    plain = replace_span(text, start, end, new, fix_article=False)
    assert plain.text[: plain.start] == text[:start] and plain.text[plain.end :] == text[end:]


@st.composite
def _text_and_two_spans(draw):
    text = draw(_TEXT)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=4, max_size=4)))
    return text, (cuts[0], cuts[1]), (cuts[2], cuts[3])


@settings(max_examples=300, deadline=None, database=None)
@given(_text_and_two_spans(), st.booleans())
def test_random_swaps_only_touch_the_two_spans(text_spans, reverse):
    text, (s1, e1), (s2, e2) = text_spans
    spans = [(s2, e2), (s1, e1)] if reverse else [(s1, e1), (s2, e2)]
    e = swap_spans(text, *spans, fix_article=False)
    first, second = text[s1:e1], text[s2:e2]
    # text = P first M second S  ->  P second' M first' S, where ' may only change letter case
    assert e.start == s1 and e.end == s1 + len(second)
    assert e.text[:s1] == text[:s1]
    assert e.text[e.start : e.end].lower() == second.lower()
    assert e.text[e.end : e.end + (s2 - e1)] == text[e1:s2]
    tail = len(text) - e2
    assert e.text[e.end + (s2 - e1) : len(e.text) - tail].lower() == first.lower()
    assert e.text[len(e.text) - tail :] == text[e2:]
    assert len(e.text) == len(text) + e.shift


def _fix_article_by_regex(text: str, start: int, following: str, shouted: bool):
    """The specification of ``_fix_article``: a regex search over the whole prefix."""
    m = textedit._ARTICLE_BEFORE.search(text, 0, start)
    if m is None or m.end() != start:
        return text, 0
    article, wanted = m.group(1), indefinite_article(following, capitals=shouted)
    if article.lower() == wanted:
        return text, 0
    new = wanted.upper() if shouted else match_case(article, wanted)
    return text[: m.start(1)] + new + text[m.end(1) :], len(new) - len(article)


@settings(max_examples=500, deadline=None, database=None)
@given(
    st.lists(st.sampled_from(["a", "an", "A", "An", "AN", "aN", "ban", "ta", "dog", " ", "  ", "\t", "\n", ".", "\u00a0"]),
             max_size=8).map("".join),
    st.sampled_from(["owl", "dog", "hour", "SUV"]),
    st.booleans(),
)
def test_article_fix_matches_its_regex_specification(prefix, following, shouted):
    text = prefix + following + " rest"
    start = len(prefix)
    assert textedit._fix_article(text, start, following, shouted) == _fix_article_by_regex(
        text, start, following, shouted
    )
