"""The token annotation of a parsed ``Doc`` as plain lists: what every rule pass reads.

A :class:`Tokens` is made once per caption, with one ``Doc.to_array`` call, and the passes work on
its lists (the ``Doc`` is never changed). Only the tag-repair pass (:mod:`._tags`) writes to them,
through :meth:`Tokens.reattach` and item assignment; the lists themselves are never replaced, so
any pass may keep a reference to one.

This module owns the string caches that turn the array's hashes into strings; they are shared by
all docs (a string's hash does not depend on the vocabulary), bounded by :data:`CACHE_MAX`, and
emptied by :func:`clear_caches`.
"""

from __future__ import annotations

from operator import add

from .. import lexicon as lex

NOMINAL_POS = frozenset(("NOUN", "PROPN"))
MAX_WORD_CHARS = 40  # longer "words" are noise (URLs, runs of characters), never concepts

_LEAF = ()  # the children of a token without any (never changed: reattach replaces it)
_ATTRS: list = []  # spaCy attribute ids read per token; filled on first use (spaCy loads lazily)

# hash (or part-of-speech id) -> string; ORTH hash -> lower-cased text; (ORTH hash, LEMMA hash) ->
# the lemma the rules use
_STRINGS: dict[int, str] = {}
_LOWER: dict[int, str] = {}
_LEMMAS: dict[tuple[int, int], str] = {}
_STRING_OF = _STRINGS.__getitem__
_LOWER_OF = _LOWER.__getitem__
_LEMMA_OF = _LEMMAS.__getitem__
#: Entries a string cache may hold; past it, all three are emptied on the next unknown string.
CACHE_MAX = 200_000


def clear_caches() -> None:
    """Empty the string caches (they fill again from the next doc's vocabulary).

    >>> _STRINGS[1] = "x"
    >>> clear_caches()
    >>> len(_STRINGS), len(_LOWER), len(_LEMMAS)
    (0, 0, 0)
    """
    _STRINGS.clear()
    _LOWER.clear()
    _LEMMAS.clear()


def _learn(cols: list, store) -> None:
    """Fill the caches for the hashes of one doc (the slow path of :class:`Tokens`)."""
    if len(_STRINGS) > CACHE_MAX or len(_LEMMAS) > CACHE_MAX:
        clear_caches()
    for column in cols[:5]:
        for h in column:
            if h not in _STRINGS:
                _STRINGS[h] = store[h]
    fixes = lex.LEMMA_FIXES
    for o, m in zip(cols[0], cols[4]):
        low = _LOWER.get(o)
        if low is None:
            low = _LOWER[o] = _STRINGS[o].lower()  # spaCy's LOWER is exactly this
        if (o, m) not in _LEMMAS:
            lem = _STRINGS[m]
            _LEMMAS[o, m] = fixes.get(low) or (lem.lower() if lem and lem != "-PRON-" else low)


class Tokens:
    """The annotation of one doc: per token its text, ``dep``, ``pos``, ``tag``, rule lemma, lower
    case, head index, character offset, trailing space (1/0) and sorted children; ``nominal`` and
    ``verbal`` say whether the rules treat it as a noun or a verb (the repairs change both).

    >>> from spacy.tokens import Doc
    >>> from spacy.vocab import Vocab
    >>> t = Tokens(Doc(Vocab(), words=["a", "dog"], heads=[1, 1], deps=["det", "ROOT"],
    ...                pos=["DET", "NOUN"], tags=["DT", "NN"], lemmas=["a", "dog"]))
    >>> t.n, t.head, t.children[1], t.nominal
    (2, [1, 1], [0], [False, True])
    """

    # Slots: an instance is made per caption; fixed slots make it and its attribute reads cheaper.
    __slots__ = ("n", "text", "dep", "pos", "tag", "lemma", "lower", "head", "idx", "space", "children", "nominal",
                 "verbal")

    def __init__(self, doc):
        # All annotation in one ``to_array`` call, mapped to strings through shared caches (C-level
        # ``map`` over dict look-ups): far cheaper than reading it token by token (``t.dep_``,
        # ``t.head.i``, ...), where every attribute is a string-store lookup and every ``head`` a
        # new Token object.
        self.n = n = len(doc)
        if not _ATTRS:
            from spacy.attrs import DEP, HEAD, IDX, LEMMA, ORTH, POS, SPACY, TAG

            _ATTRS.extend((ORTH, DEP, POS, TAG, LEMMA, HEAD, IDX, SPACY))
        if n:
            array = doc.to_array(_ATTRS)
            cols = array.T.tolist()
            offsets = array.view("i8")[:, 5].tolist()  # HEAD: the signed offset to the head
        else:
            cols = [[] for _ in _ATTRS]
            offsets = []
        orth = cols[0]
        try:
            self.text = list(map(_STRING_OF, orth))
            self.dep = list(map(_STRING_OF, cols[1]))
            self.pos = pos = list(map(_STRING_OF, cols[2]))
            self.tag = list(map(_STRING_OF, cols[3]))
            self.lemma = list(map(_LEMMA_OF, zip(orth, cols[4])))
        except KeyError:
            _learn(cols, doc.vocab.strings)
            self.text = list(map(_STRING_OF, orth))
            self.dep = list(map(_STRING_OF, cols[1]))
            self.pos = pos = list(map(_STRING_OF, cols[2]))
            self.tag = list(map(_STRING_OF, cols[3]))
            self.lemma = list(map(_LEMMA_OF, zip(orth, cols[4])))
        self.lower = list(map(_LOWER_OF, orth))
        self.head = list(map(add, range(n), offsets))
        self.idx = cols[6]
        self.space = cols[7]  # 1 where a space follows the token (used as a truth value)
        # children in order: every token but a root (offset 0) goes to its head's list; the
        # leaves (about half the tokens) share one empty tuple, fewer objects to make and collect
        self.children = children = [_LEAF] * n
        for i, off in enumerate(offsets):
            if off:
                kids = children[i + off]
                if kids:
                    kids.append(i)
                else:
                    children[i + off] = [i]
        self.nominal = list(map(NOMINAL_POS.__contains__, pos))
        self.verbal = list(map("VERB".__eq__, pos))

    # ------------------------------------------------------------------ tree queries
    def inside(self, i: int, h: int) -> bool:
        """Whether token ``i`` is in the subtree of token ``h``."""
        head = self.head
        for _ in range(64):
            if i == h:
                return True
            if head[i] == i:
                return False
            i = head[i]
        return False

    def left_edge(self, i: int) -> int:
        """Leftmost token of the subtree of ``i``."""
        children = self.children
        edge = i
        stack = [i]
        while stack:
            for c in children[stack.pop()]:
                if c < edge:
                    edge = c
                if children[c]:
                    stack.append(c)
        return edge

    def has_child(self, i: int, deps) -> bool:
        """Whether token ``i`` has a child with one of the labels ``deps``."""
        dep = self.dep
        for c in self.children[i]:
            if dep[c] in deps:
                return True
        return False

    def of_object(self, i: int):
        """The nominal object of token ``i``'s "of" complement, if any."""
        for c in self.children[i]:
            if c > i and self.dep[c] == "prep" and self.lower[c] == "of":
                for g in self.children[c]:
                    if self.dep[g] == "pobj" and (self.nominal[g] or self.pos[g] in ("PRON", "NUM")):
                        return g
        return None

    def has_prep_object(self, v: int) -> bool:
        """Whether verb ``v`` has a prepositional phrase with an object ("creeping behind the
        buildings")."""
        dep = self.dep
        for c in self.children[v]:
            if dep[c] == "prep" and any(dep[o] == "pobj" for o in self.children[c]):
                return True
        return False

    def resumes(self, g: int) -> bool:
        """Whether ``g`` has a preposition whose object is a resumptive pronoun ("on it")."""
        for p in self.children[g]:
            if self.dep[p] == "prep":
                for o in self.children[p]:
                    if self.dep[o] == "pobj" and self.lower[o] in lex.RESUMPTIVE_PRONOUNS:
                        return True
        return False

    def hyphen_joined(self, j: int) -> bool:
        """Whether the hyphen ``j`` is written without spaces around it ("t-shirt")."""
        return not self.space[j - 1] and not self.space[j]

    def words(self, first: int, last: int, last_word: str) -> str:
        """Lower-cased words of tokens ``first`` to ``last`` joined as in the text (one space where
        there is any whitespace), the last one replaced by ``last_word`` (a lemma)."""
        if first == last:
            return last_word
        lower, space = self.lower, self.space
        if all(space[first:last]):
            return " ".join(lower[first:last]) + " " + last_word
        return "".join([lower[i] + " " if space[i] else lower[i] for i in range(first, last)]) + last_word

    # ------------------------------------------------------------------ the one change of the tree
    def reattach(self, i: int, new_head: int, label: str) -> None:
        """Hang token ``i`` on ``new_head`` (itself: a root) with dependency label ``label``."""
        old = self.head[i]
        if old != i:
            self.children[old].remove(i)
        self.head[i] = new_head
        self.dep[i] = label
        if new_head != i:
            kids = self.children[new_head]
            if kids:
                kids.append(i)
                kids.sort()
            else:  # a leaf (the shared empty tuple) or a list emptied by earlier moves
                self.children[new_head] = [i]
