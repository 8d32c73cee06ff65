"""The shipped WordNet lexicon: the part of WordNet 3.0 that :mod:`iccc.semantics` uses, without NLTK.

``wordnet_lexicon.json.gz`` (built by ``scripts/build_lexicon.py`` from WordNet 3.0, Princeton
University; license in ``WORDNET_LICENSE.txt``) holds, for nouns, verbs and adjectives, every index
lemma with its synsets in sense order, and per synset its lemmas, hypernyms, instance hypernyms,
similar-to adjectives and lexicographer file, plus NLTK's morphological exception lists and
detachment rules. :class:`Lexicon` answers the lookups :mod:`iccc.semantics` makes exactly as NLTK's
WordNet reader does (``tests/test_lexicon.py`` compares the two).

Synsets are plain integers here. Words are lower case with spaces (``"ice cream"``); lookups accept
``_`` for spaces too, as NLTK does.
"""

from __future__ import annotations

import gzip
import json
from collections import deque
from importlib import resources
from pathlib import Path
from typing import Iterator, Mapping

FORMAT = "iccc.wordnet-lexicon"
VERSION = 1
#: The lexicon's file name in this package.
FILE = "wordnet_lexicon.json.gz"
#: The name :func:`iccc.semantics.wordnet_backend` reports for a lexicon.
BACKEND = "lexicon"
#: Parts of speech a lexicon answers for (``s``: adjective satellites, looked up with the ``a`` index).
POS = ("n", "v", "a", "s")


def default_path() -> Path:
    """Where the shipped lexicon lies (the file may be missing in a broken install)."""
    return Path(str(resources.files("iccc.data").joinpath(FILE)))


class Lexicon:
    """WordNet lookups from a lexicon dict (see :meth:`load`): the interface
    :mod:`iccc.semantics` reads WordNet through (its NLTK backend offers the same methods).

    >>> lex = Lexicon.load()
    >>> dog = lex.synsets("dogs", "n")[0]
    >>> lex.name(dog), lex.lexname(dog), "canine" in {w for s in lex.ancestors(dog) for w in lex.words(s)}
    ('dog.n.01', 'noun.animal', True)
    """

    backend = BACKEND

    def __init__(self, data: Mapping):
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f"Not an iccc WordNet lexicon (missing \"format\": {FORMAT!r}).")
        if data.get("version") != VERSION:
            raise ValueError(f"Unsupported lexicon version {data.get('version')!r}; this iccc reads {VERSION}.")
        synsets = data["synsets"]
        self._pos: str = synsets["pos"]
        self._lexnames: list[str] = [data["lexnames"][i] for i in synsets["lexname"]]
        self._words = [tuple(names.split("|")) for names in synsets["words"]]
        self._hypernyms: list[list[int]] = synsets["hypernyms"]
        self._instance: list[list[int]] = synsets["instance_hypernyms"]
        self._similar: list[list[int]] = synsets["similar_tos"]
        tables = (self._lexnames, self._words, synsets["senses"], self._hypernyms, self._instance, self._similar)
        if any(len(table) != len(self._pos) for table in tables):
            raise ValueError("Corrupt lexicon: the synset tables differ in length.")
        # the index (lemma -> synsets in sense order) from each synset's lemmas and sense ranks
        ranked: dict[str, dict[str, dict[int, int]]] = {"n": {}, "v": {}, "a": {}}
        for i, (names, ranks) in enumerate(zip(self._words, synsets["senses"])):
            table = ranked[_table_pos(self._pos[i])]
            for name, rank in zip(names, ranks):
                table.setdefault(name, {})[rank] = i
        self._index = {pos: {w: tuple(by_rank[r] for r in sorted(by_rank)) for w, by_rank in table.items()}
                       for pos, table in ranked.items()}
        self._exceptions = {pos: {form: tuple(bases) for form, bases in table.items()}
                            for pos, table in data["exceptions"].items()}
        self._rules = {pos: tuple((old, new) for old, new in rules) for pos, rules in data["rules"].items()}
        #: Where the lexicon comes from (WordNet's version).
        self.source: str = data.get("source", "")

    @classmethod
    def load(cls, path: str | Path | None = None) -> Lexicon:
        """Read a lexicon file (default: the one shipped in this package, :func:`default_path`)."""
        path = default_path() if path is None else Path(path)
        with gzip.open(path, "rt", encoding="ascii") as f:
            return cls(json.load(f))

    # ------------------------------------------------------------------ lookups
    def lemmas(self, pos: str) -> list[str]:
        """Every index lemma of ``pos`` (``"n"``, ``"v"``, ``"a"``; ``"s"`` gives those of ``"a"``), sorted."""
        return sorted(self._index[_table_pos(pos)])

    def morphy(self, word: str, pos: str) -> list[str]:
        """Index lemmas ``word`` may be a form of, as NLTK's ``wn._morphy``: the word itself, else
        its exception-list bases or the results of the detachment rules, those in the index."""
        table_pos = _table_pos(pos)
        exceptions = self._exceptions[table_pos]
        if word in exceptions:
            forms = list(exceptions[word])
        else:
            forms = [word[: -len(old)] + new for old, new in self._rules[table_pos] if word.endswith(old)]
        index = self._index[table_pos]
        found: list[str] = []
        for form in [word, *forms]:
            if form in index and form not in found:
                found.append(form)
        return found

    def synsets(self, word: str, pos: str) -> tuple[int, ...]:
        """The synsets of ``word`` (or of the lemmas it is an inflection of) for ``pos``, in NLTK's
        order (``wn.synsets(word, pos)``). ``pos="a"`` gives head and satellite adjectives,
        ``pos="s"`` satellites only."""
        word = word.lower().replace("_", " ")
        index = self._index[_table_pos(pos)]
        found: list[int] = []
        for form in self.morphy(word, pos):
            ids = index[form]
            found.extend(ids if pos != "s" else (i for i in ids if self._pos[i] == "s"))
        return tuple(found)

    def words(self, synset: int) -> tuple[str, ...]:
        """The synset's lemmas, lower case with spaces, in WordNet's order."""
        return self._words[synset]

    def similar_tos(self, synset: int) -> tuple[int, ...]:
        """Adjective synsets clustered with ``synset`` (head <-> satellites)."""
        return tuple(self._similar[synset])

    def hypernyms(self, synset: int) -> tuple[int, ...]:
        """Hypernyms and instance hypernyms of ``synset``."""
        return tuple(self._hypernyms[synset] + self._instance[synset])

    def ancestors(self, synset: int) -> Iterator[int]:
        """Every synset above ``synset`` (hypernyms and instance hypernyms, transitively,
        breadth-first, each once, ``synset`` itself not), as NLTK's ``closure``."""
        seen, queue = {synset}, deque(self.hypernyms(synset))
        while queue:
            node = queue.popleft()
            if node in seen:
                continue
            seen.add(node)
            yield node
            queue.extend(self.hypernyms(node))

    def is_instance(self, synset: int) -> bool:
        """Whether ``synset`` is an instance (a named person, place...) rather than a kind."""
        return bool(self._instance[synset])

    def lexname(self, synset: int) -> str:
        """The synset's lexicographer file (``"noun.animal"``)."""
        return self._lexnames[synset]

    def name(self, synset: int) -> str:
        """NLTK's name of ``synset`` (``"dog.n.01"``): its first lemma, part of speech and sense number."""
        pos = self._pos[synset]
        first = self._words[synset][0]
        senses = self._index[_table_pos(pos)][first]
        if pos == "s":
            senses = tuple(i for i in senses if self._pos[i] == "s")
        return f"{first.replace(' ', '_')}.{pos}.{senses.index(synset) + 1:02d}"

    def __repr__(self):
        sizes = ", ".join(f"{pos}={len(table)}" for pos, table in self._index.items())
        return f"Lexicon({len(self._pos)} synsets; lemmas {sizes})"


def _table_pos(pos: str) -> str:
    if pos not in POS:
        raise ValueError(f"`pos` should be one of {', '.join(map(repr, POS))}, got {pos!r}.")
    return "a" if pos == "s" else pos
