"""Pure text edits on character spans: no spaCy, no randomness.

Every function takes the original caption and half-open ``(start, end)`` character offsets and
returns new text; everything outside the edited region stays byte-identical. Grammar fixes that
an edit forces on its neighbours (the article "a"/"an" before a replaced word, a capital letter
at the start of a sentence) are made here, in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from numbers import Integral

# Words starting with a vowel letter but a consonant sound, and the reverse.
_A_BEFORE_VOWEL = re.compile(
    r"^(one|once|uni(?!n)|unanim|use|usu|uter|utens|utili|utop|eu|ewe|u-|ufo|ur(?:al|in|an\b)|uk\b|us\b)", re.I
)
_AN_BEFORE_CONSONANT = re.compile(r"^(hour|honest|honou?r|heir|herb(?!al|ert))", re.I)
_ARTICLE_BEFORE = re.compile(r"(?:(?<=\s)|^)(a|an|A|An|AN)(\s+)$")
_FIRST_WORD = re.compile(r"[^\s-]*")
_VOWEL = re.compile(r"[AEIOUY]")


def indefinite_article(word: str, *, capitals: bool = False) -> str:
    """``"a"`` or ``"an"`` for the word that follows (by sound, for common exceptions).

    A short word in capitals is read as an acronym, letter by letter ("an SUV", "a TV"), unless
    ``capitals`` says the whole caption is written in capitals ("A GIRL IS IN A CART"): there
    capitals mark nothing, and only a word without any vowel letter ("TV", "DVD") is spelled out.

    >>> [indefinite_article(w) for w in ["dog", "owl", "hour", "umbrella", "unicorn", "one", "8"]]
    ['a', 'an', 'an', 'an', 'a', 'a', 'an']
    >>> [indefinite_article(w) for w in ["SUV", "TV", "FBI agent", "X-ray", "T-shirt"]]
    ['an', 'a', 'an', 'an', 'a']
    >>> [indefinite_article(w, capitals=True) for w in ["MAN", "OWL", "HOUR", "UNICORN", "TV", "X-RAY"]]
    ['a', 'an', 'an', 'a', 'a', 'an']
    """
    if word is not None and not isinstance(word, str):
        raise TypeError(f"`word` must be a string, got {type(word).__name__}: {word!r:.60}.")
    if not isinstance(capitals, bool):
        raise TypeError(f"`capitals` must be True or False, got {capitals!r}.")
    if not word or word.isspace():
        return "a"
    w = word.strip()
    if w[:1].isdigit():
        return "an" if w[:1] == "8" or re.match(r"^(11|18)(\D|$)", w) else "a"
    if _A_BEFORE_VOWEL.match(w):
        return "a"
    if _AN_BEFORE_CONSONANT.match(w):
        return "an"
    first = _FIRST_WORD.match(w).group()  # "FBI agent", "X-ray": the first word decides
    if first.isupper() and len(first) <= 4 and first.isalpha() and not (capitals and _VOWEL.search(first)):
        return "an" if first[0] in "AEFHILMNORSX" else "a"  # acronyms: "an SUV", "a TV"
    if capitals and len(first) == 1 and first.isalpha():
        return "an" if first in "AEFHILMNORSX" else "a"  # a letter: "AN X-RAY", "A T-SHIRT"
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
    if template[0].isupper():
        return _capitalise(word)
    return word


def _capitalise(words: str) -> str:
    """Upper-case the first letter when the first word is written in lower case ("iPhone" keeps
    its case; "a TV" becomes "A TV": only the first word decides).

    >>> _capitalise("a TV"), _capitalise("iPhone case"), _capitalise("the Big Ben clock tower")
    ('A TV', 'iPhone case', 'The Big Ben clock tower')
    """
    first = words.split(" ", 1)[0]
    if first[:1].islower() and first.islower():
        return words[0].upper() + words[1:]
    return words


def shouted(text: str) -> bool:
    """Whether the caption is written in capitals ("A DOG ON A BED"), so new words must be too."""
    return text.isupper() and sum(ch.isupper() for ch in text) > 3


def _sentence_initial(text: str, start: int) -> bool:
    i = start
    while i > 0 and text[i - 1].isspace():
        i -= 1
    return i == 0 or text[i - 1] in ".!?"


def fit_case(text: str, start: int, old: str, new: str) -> str:
    """``new`` (a mid-sentence form) cased for the position of ``old`` in ``text``: its first
    letter capitalised at a sentence start when ``old``'s was; in capitals when the whole caption
    is; elsewhere left as given (proper nouns and acronyms keep their case). An acronym's capitals
    are its own: "TV" at a sentence start makes "Desk", not "DESK".

    >>> fit_case("Dogs and a cat.", 0, "Dogs", "cat"), fit_case("A cat and a dog.", 11, "dog", "Honda")
    ('Cat', 'Honda')
    >>> fit_case("TV on a desk.", 0, "TV", "radio"), fit_case("A DOG ON A BED.", 2, "DOG", "cat")
    ('Radio', 'CAT')
    """
    if shouted(text):
        return new.upper()
    if old[:1].isupper() and _sentence_initial(text, start):
        return _capitalise(new)
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


def _fix_article(text: str, start: int, following: str, capitals: bool) -> tuple[str, int]:
    """Make an "a"/"an" right before ``start`` agree with ``following``; returns (text, delta).
    ``capitals``: the caption is in capitals, so is the article.

    An article is "a"/"an"/"A"/"An"/"AN" standing alone (at the start of the text or after
    whitespace) and separated from ``start`` by whitespace only: what ``_ARTICLE_BEFORE``
    matches at the end of ``text[:start]``, found without scanning the whole prefix.
    """
    i = start
    while i > 0 and text[i - 1].isspace():
        i -= 1
    if i == start:
        return text, 0
    if i >= 2 and text[i - 2 : i] in _ARTICLES_AN and (i == 2 or text[i - 3].isspace()):
        begin = i - 2
    elif text[i - 1 : i] in _ARTICLES_A and (i == 1 or text[i - 2].isspace()):
        begin = i - 1
    else:
        return text, 0
    article = text[begin:i]
    wanted = indefinite_article(following, capitals=capitals)
    if article.lower() == wanted:
        return text, 0
    new_article = wanted.upper() if capitals else match_case(article, wanted)
    fixed = text[:begin] + new_article + text[i:]
    return fixed, len(new_article) - len(article)


_ARTICLES_A = frozenset(("a", "A"))
_ARTICLES_AN = frozenset(("an", "An", "AN"))


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
    return _replace(text, start, end, fit_case(text, start, text[start:end], new), fix_article, shouted(text))


def _replace(text: str, start: int, end: int, new: str, fix_article: bool, capitals: bool) -> Edit:
    """:func:`replace_span` for a ``new`` already cased for its position."""
    edited = text[:start] + new + text[end:]
    delta = 0
    if fix_article:
        # an article inside ``new`` itself is left as written in the concept base
        edited, delta = _fix_article(edited, start, new, capitals)
    new_start = start + delta
    return Edit(edited, new_start, new_start + len(new), len(new) - (end - start) + delta)


def insert_before(text: str, position: int, words: str, *, fix_article: bool = True) -> Edit:
    """Insert ``words`` and one space before ``text[position:]``.

    >>> insert_before("An apple on a table.", 3, "red").text
    'A red apple on a table.'
    """
    if not (_is_int(position) and 0 <= position <= len(text)):
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
        edited, delta = _fix_article(edited, position, words, shouted(text))
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
    _check_span(text, *a)
    _check_span(text, *b)
    (s1, e1), (s2, e2) = sorted([a, b])
    if e1 > s2:
        raise ValueError(f"Spans to swap must not overlap, got {a!r} and {b!r}.")
    first, second = text[s1:e1], text[s2:e2]
    new_first = fit_case(text, s1, first, mid_sentence(text, s2, second))
    new_second = fit_case(text, s2, second, mid_sentence(text, s1, first))
    # edit the later span first so earlier offsets stay valid
    capitals = shouted(text)
    later = _replace(text, s2, e2, new_second, fix_article, capitals)
    earlier = _replace(later.text, s1, e1, new_first, fix_article, capitals)
    return Edit(earlier.text, earlier.start, earlier.end, len(earlier.text) - len(text))


def _is_int(value) -> bool:
    return type(value) is int or (isinstance(value, Integral) and not isinstance(value, bool))


def _check_span(text: str, start: int, end: int) -> None:
    if type(start) is int and type(end) is int and 0 <= start <= end <= len(text):
        return
    if not (_is_int(start) and _is_int(end)):
        raise ValueError(f"Span offsets must be integers, got ({start!r}, {end!r}).")
    if 0 <= start <= end <= len(text):
        return
    if start > end:
        raise ValueError(f"Span ({start}, {end}) ends before it starts; offsets must satisfy start <= end.")
    raise ValueError(
        f"Span ({start}, {end}) is outside the text of length {len(text)}; "
        "offsets must satisfy 0 <= start <= end <= len(text)."
    )
