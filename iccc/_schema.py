"""Plain data passed between pipeline stages: :class:`Concept` and :class:`ParsedCaption`.

Nothing here imports spaCy. A parsed caption is the untouched original text plus typed concepts
with half-open character offsets, so it pickles, stores in Arrow and round-trips through
``to_dict()`` / ``from_dict()``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

#: Concept kinds, in the order used when sorting concepts that share a start offset.
KINDS: tuple[str, ...] = ("entity", "noun", "count", "attribute", "verb", "relation")

#: Parse statuses. Everything except ``"ok"`` means the caption has no concepts.
STATUS_OK = "ok"
STATUSES: tuple[str, ...] = (
    "ok",  # parsed; has at least one concept
    "no_concepts",  # parsed, but nothing usable (e.g. "Hello there.")
    "empty",  # empty or whitespace-only string
    "missing",  # None
    "not_string",  # any other non-string value
    "non_english",  # mostly non-Latin script, or no English function words at all
    "truncated",  # longer than ``max_chars``: only the first part was parsed (has concepts)
)

NO_LINK = -1


@dataclass(frozen=True)
class Concept:
    """One concept found in a caption.

    Attributes:
        kind: one of :data:`KINDS`.
        text: the exact substring ``caption[start:end]``.
        start: offset of the first character (inclusive).
        end: offset after the last character (exclusive).
        lemma: lower-cased lemma of the span, words joined by one space ("fire hydrant", "sit on").
        tag: Penn Treebank tag of the span's head token (``NN``/``NNS`` for nouns, ``VBG``/``VBN``/...
            for verbs, ``JJ`` for adjectives, ``CD`` for counts, ``IN`` for a bare preposition).
        tags: the tags of every token in the span, space separated (``"VBG IN"`` for "sitting on").
        dep: dependency label of the head token.
        head: index (in the caption's concept list) of the concept this one belongs to: the entity of
            a noun, the noun of an attribute or a count; ``-1`` otherwise.
        subj: for a relation, index of its subject entity; ``-1`` otherwise.
        obj: for a relation, index of its object entity; ``-1`` otherwise.
        symmetric: for a relation, whether swapping its arguments keeps the meaning ("next to",
            "near", coordination "X and Y").

    >>> c = Concept("noun", "dog", 2, 5, "dog", "NN", "NN", "ROOT")
    >>> Concept.from_dict(c.to_dict()) == c
    True
    """

    kind: str
    text: str
    start: int
    end: int
    lemma: str
    tag: str
    tags: str
    dep: str
    head: int = NO_LINK
    subj: int = NO_LINK
    obj: int = NO_LINK
    symmetric: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Concept:
        if type(data) is dict and tuple(data) == _CONCEPT_FIELDS:  # a row of a concepts column
            return filled(cls, dict(data))
        return cls(**{name: data[name] for name in _CONCEPT_FIELDS if name in data})

    @property
    def plural(self) -> bool:
        """Whether the head is a plural noun (``NNS``/``NNPS``)."""
        return self.tag in ("NNS", "NNPS")


_CONCEPT_FIELDS = tuple(Concept.__dataclass_fields__)


def filled(cls, fields: Mapping[str, Any]):
    """An instance of the frozen dataclass ``cls`` whose instance dict is ``fields`` (every field
    of ``cls``, in declaration order; a ``dict`` is taken as it is, not copied: pass a fresh
    one): what the generated ``__init__`` makes, without its
    per-field ``object.__setattr__``, several times slower (concepts and records are made in hot
    loops). The one place iccc builds frozen instances this way; ``cls`` must keep its fields in
    its instance dict (no ``__slots__``), and ``__post_init__`` does not run: ``fields`` must hold
    what it would compute.

    >>> c = filled(Concept, dict(kind="noun", text="dog", start=2, end=5, lemma="dog", tag="NN",
    ...                          tags="NN", dep="ROOT", head=-1, subj=-1, obj=-1, symmetric=False))
    >>> c == Concept("noun", "dog", 2, 5, "dog", "NN", "NN", "ROOT")
    True
    """
    instance = object.__new__(cls)
    object.__setattr__(instance, "__dict__", fields if type(fields) is dict else dict(fields))
    return instance


@dataclass(frozen=True)
class ParsedCaption:
    """A caption and its concepts.

    Attributes:
        text: the original caption, untouched (``""`` when the input was not a string).
        concepts: concepts sorted by start offset, then kind.
        status: one of :data:`STATUSES`; ``"ok"`` or ``"truncated"`` when concepts were found.

    >>> p = ParsedCaption("A dog.", (Concept("noun", "dog", 2, 5, "dog", "NN", "NN", "ROOT"),))
    >>> [c.text for c in p.of_kind("noun")]
    ['dog']
    >>> ParsedCaption.from_dict(p.to_dict()) == p
    True
    """

    text: str
    concepts: tuple[Concept, ...] = field(default_factory=tuple)
    status: str = STATUS_OK

    def of_kind(self, kind: str) -> list[Concept]:
        """Concepts of one kind, in caption order."""
        return [c for c in self.concepts if c.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "concepts": [c.to_dict() for c in self.concepts],
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParsedCaption:
        from_dict = Concept.from_dict
        return filled(cls, {
            "text": data["text"],
            "concepts": tuple([from_dict(c) for c in data.get("concepts") or ()]),
            "status": data.get("status", STATUS_OK),
        })

    def __len__(self) -> int:
        return len(self.concepts)


def concept_features():
    """The HF ``datasets`` feature type of a ``concepts`` column (a list of concept structs)."""
    from datasets import Value

    # A python list (not ``Sequence``) so rows come back as a list of dicts, not a dict of lists.
    return [
        {
            "kind": Value("string"),
            "text": Value("string"),
            "start": Value("int32"),
            "end": Value("int32"),
            "lemma": Value("string"),
            "tag": Value("string"),
            "tags": Value("string"),
            "dep": Value("string"),
            "head": Value("int32"),
            "subj": Value("int32"),
            "obj": Value("int32"),
            "symmetric": Value("bool"),
        }
    ]
