"""Parsing: the only part of iccc that imports spaCy (lazily, inside functions).

Layout: :mod:`._loader` finds and loads a pipeline, :mod:`._fastrules` runs its trailing rule
components from memo tables, :mod:`.rules` turns each parsed ``Doc`` into concepts (one module
per pass), :mod:`._pipeline` parses many captions (batches, de-duplication, processes) and
:mod:`._dataset` does it as a ``datasets`` map function. :mod:`.lexicon` holds the word lists,
public for code outside parsing; what else other packages use is exported here.
"""

from . import _dataset, _fastrules, rules
from ._dataset import ConceptParser, add_concepts
from ._loader import DEFAULT_PIPELINES, ParserNotFoundError, load_parser
from ._pipeline import DEFAULT_BATCH_SIZE, iter_parse, parse
from .rules import extract


def clear_caches() -> None:
    """Empty every memo the parsing code keeps between calls: the rules' string tables
    (:func:`iccc.parsing.rules.clear_caches`), the memo tables of the fast rule components
    (:func:`iccc.parsing._fastrules.clear_caches`) and the digest of the parsing code. They fill
    again as captions are parsed, with the same results. Loaded pipelines stay loaded, and the
    per-call memo of :func:`parse` is the call's own.

    >>> _ = parse(["A dog on a red couch."])
    >>> clear_caches()
    >>> len(rules._tokens._STRINGS), len(_fastrules._CACHE)
    (0, 0)
    """
    rules.clear_caches()
    _fastrules.clear_caches()
    _dataset.code_digest.cache_clear()


__all__ = [
    "ConceptParser",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_PIPELINES",
    "ParserNotFoundError",
    "add_concepts",
    "clear_caches",
    "extract",
    "iter_parse",
    "load_parser",
    "parse",
]
