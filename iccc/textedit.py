"""Pure text edits on character spans: no spaCy, no randomness.

Every function takes the original caption and half-open ``(start, end)`` character offsets and
returns new text; everything outside the edited region stays byte-identical. Grammar fixes that
an edit forces on its neighbours (the article "a"/"an" before a replaced word, a capital letter
at the start of a sentence) are made here, in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words starting with a vowel letter but a consonant sound, and the reverse.
_A_BEFORE_VOWEL = re.compile(
    r"^(one|once|uni(?!n)|unanim|use|usu|uter|utens|utili|utop|eu|ewe|u-|ufo|ur(?:al|ine|an\b)|uk\b|us\b)", re.I
)
_AN_BEFORE_CONSONANT = re.compile(r"^(hour|honest|honou?r|heir|herb(?!al|ert))", re.I)
_ARTICLE_BEFORE = re.compile(r"(?:(?<=\s)|^)(a|an|A|An|AN)(\s+)$")


def indefinite_article(word: str) -> str:
    """``"a"`` or ``"an"`` for the word that follows (by sound, for common exceptions).

    >>> [indefinite_article(w) for w in ["dog", "owl", "hour", "umbrella", "unicorn", "one", "8"]]
    ['a', 'an', 'an', 'an', 'a', 'a', 'an']
    """
    if not word:
        return "a"
    w = word.strip()
    if w[:1].isdigit():
        return "an" if w[:1] == "8" or re.match(r"^(11|18)(\D|$)", w) else "a"
    if _A_BEFORE_VOWEL.match(w):
        return "a"
    if _AN_BEFORE_CONSONANT.match(w):
        return "an"
    if w.isupper() and len(w) <= 4 and w.isalpha():  # acronyms: "an SUV", "a TV"
        return "an" if w[0] in "AEFHILMNORSX" else "a"
    return "an" if w[0].lower() in "aeiou" else "a"


def match_case(template: str, word: str) -> str:
    """Give ``word`` the capitalisation pattern of ``template`` (capitalised or upper case).

    >>> match_case("Dog", "black cat"), match_case("DOG", "cat"), match_case("dog", "Cat")
    ('Black cat', 'CAT', 'Cat')
    """
    if not template or not word:
        return word
    if _acronym(template) and template.isupper():
        return word.upper()
    if template[0].isupper() and word[0].islower():
        return word[0].upper() + word[1:]
    return word


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?"


def fit_case(text: str, start: int, old: str, new: str) -> str:
    """``new`` cased for the position of ``old``: capitalised at a sentence start when ``old``
    was; elsewhere left as given (mid-sentence forms keep proper-noun capitals).

    >>> fit_case("Dogs and a cat.", 0, "Dogs", "cat"), fit_case("A cat and a dog.", 11, "dog", "Honda")
    ('Cat', 'Honda')
    """
    if _sentence_initial(text, start):
        return match_case(old, new)
    return new


def _acronym(word: str) -> bool:
    """Whether ``word`` starts with two capital letters ("TV", "USA"), so its case is its own."""
    return len(word) > 1 and word[0].isupper() and word[1].isalpha() and word[1].isupper()


def mid_sentence(text: str, start: int, span: str) -> str:
    """``span`` as it would be written mid-sentence: a capital that only marks the start of a
    sentence is lowered (acronyms and words in capitals are kept).

    >>> mid_sentence("Dogs chase cats.", 0, "Dogs"), mid_sentence("TV on a desk.", 0, "TV")
    ('dogs', 'TV')
    >>> mid_sentence("A cat.", 0, "A cat")
    'a cat'

    """
    if _sentence_initial(text, start) and span[:1].isupper() and not _acronym(span):
        return span[0].lower() + span[1:]
    return span


@dataclass(frozen=True)
class Edit:
    """Result of an edit: the new text and where the replacement sits in it.

    Attributes:
        text: the edited caption.
        start, end: offsets of the inserted span in ``text``.
        shift: how far text after the edit moved (``len(new) - len(old)`` plus article changes).
    """

    text: str
    start: int
    end: int
    shift: int


def _fix_article(text: str, start: int, following: str) -> tuple[str, int]:
    """Make an "a"/"an" right before ``start`` agree with ``following``; returns (text, delta)."""
    m = _ARTICLE_BEFORE.search(text, 0, start)
    if m is None or m.end() != start:
        return text, 0
    article = m.group(1)
    wanted = indefinite_article(following)
    if article.lower() == wanted:
        return text, 0
    new_article = match_case(article, wanted)
    fixed = text[: m.start(1)] + new_article + text[m.end(1) :]
    return fixed, len(new_article) - len(article)


def replace_span(text: str, start: int, end: int, new: str, *, fix_article: bool = True) -> Edit:
    """Replace ``text[start:end]`` by ``new``, carrying sentence-initial capitals over and making a
    preceding "a"/"an" (and an article at the start of ``new`` itself stays as given) agree.

    >>> replace_span("A dog on a bed.", 2, 5, "owl").text
    'An owl on a bed.'
    >>> replace_span("Dogs on a bed.", 0, 4, "cats").text
    'Cats on a bed.'
    >>> e = replace_span("There is an apple here.", 12, 17, "pear"); e.text, e.text[e.start:e.end]
    ('There is a pear here.', 'pear')
    """
    _check_span(text, start, end)
    new = fit_case(text, start, text[start:end], new)
    edited = text[:start] + new + text[end:]
    delta = 0
    if fix_article:
        edited, delta = _fix_article(edited, start, new)
        # the inserted phrase may itself end in a word that an article inside it must agree with;
        # we leave phrase-internal articles as written in the concept base.
    new_start = start + delta
    return Edit(edited, new_start, new_start + len(new), len(new) - (end - start) + delta)


def insert_before(text: str, position: int, words: str, *, fix_article: bool = True) -> Edit:
    """Insert ``words`` and one space before ``text[position:]``.

    >>> insert_before("An apple on a table.", 3, "red").text
    'A red apple on a table.'
    """
    if not 0 <= position <= len(text):
        raise ValueError(f"`position` must be within 0..{len(text)}, got {position!r}.")
    following = text[position:]
    words = fit_case(text, position, following.split(" ", 1)[0] if following else "", words)
    if position == 0 or _sentence_initial(text, position):
        # the old first word is no longer sentence-initial
        rest = following
        if rest[:1].isupper() and not _acronym(rest):
            rest = rest[0].lower() + rest[1:]
        edited = text[:position] + words + " " + rest
    else:
        edited = text[:position] + words + " " + following
    delta = 0
    if fix_article:
        edited, delta = _fix_article(edited, position, words)
    new_start = position + delta
    return Edit(edited, new_start, new_start + len(words), len(words) + 1 + delta)


def swap_spans(text: str, a: tuple[int, int], b: tuple[int, int], *, fix_article: bool = True) -> Edit:
    """Exchange two non-overlapping spans; capitals stay with their position, articles agree.

    ``start``/``end`` of the result locate the span now at the first position.

    >>> swap_spans("A cat on an apple.", (2, 5), (12, 17)).text
    'An apple on a cat.'
    >>> swap_spans("Dogs chase cats.", (0, 4), (11, 15)).text
    'Cats chase dogs.'
    """
    (s1, e1), (s2, e2) = sorted([a, b])
    _check_span(text, s1, e1)
    _check_span(text, s2, e2)
    if e1 > s2:
        raise ValueError(f"Spans to swap must not overlap, got {a!r} and {b!r}.")
    first, second = text[s1:e1], text[s2:e2]
    new_first = fit_case(text, s1, first, mid_sentence(text, s2, second))
    new_second = fit_case(text, s2, second, mid_sentence(text, s1, first))
    # edit the later span first so earlier offsets stay valid
    later = replace_span(text, s2, e2, new_second, fix_article=fix_article)
    earlier = replace_span(later.text, s1, e1, new_first, fix_article=fix_article)
    return Edit(earlier.text, earlier.start, earlier.end, len(earlier.text) - len(text))


def _check_span(text: str, start: int, end: int) -> None:
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(text)):
        raise ValueError(
            f"Span ({start!r}, {end!r}) is not within the text of length {len(text)}; "
            "offsets must satisfy 0 <= start <= end <= len(text)."
        )
