"""Concept extraction as a HuggingFace ``datasets`` map function."""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import is_dataclass, replace
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from .. import columns
from .._schema import Concept, concept_features
from .._version import __version__
from ._loader import UNNEEDED, load_parser, pipeline_name
from ._pipeline import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CACHE_SIZE,
    DEFAULT_MAX_CHARS,
    _check_int,
    _iter_parsed,
    _Planner,
)

_FIELDS = tuple(Concept.__dataclass_fields__)
_FIELD_VALUES = attrgetter(*_FIELDS)

#: Pipelines given as ``Language`` objects, by source key: a forked worker process finds its
#: parent's pipeline here instead of loading it again (or failing to, for an in-memory one).
_LIVE: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the parsing code (rules, word lists, text checks), part of the map function's
    cache fingerprint, so that a cached ``concepts`` column is recomputed when the code changes."""
    digest = hashlib.sha1()
    root = Path(__file__).resolve().parent
    try:
        for path in sorted(root.rglob("*.py")):  # the rule passes live in a subpackage
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    except OSError:  # e.g. a zipped install: fall back to the package version
        digest.update(__version__.encode())
    return digest.hexdigest()[:16]


def _source_of(nlp: Any, loaded) -> str | None:
    """What another process loads to get the same pipeline."""
    if nlp is None or isinstance(nlp, str):
        return nlp
    if isinstance(nlp, Path):
        return str(nlp)
    if loaded.path is not None:
        return str(loaded.path)
    return f"<in-memory {pipeline_name(loaded)}>"


class ConceptParser:
    """A picklable, batched ``Dataset.map`` function that adds ``concepts`` and ``parse_status``.

    The spaCy pipeline is loaded lazily in each process and is not part of the pickled state, so
    ``datasets`` can hash the function for caching and ship it to ``num_proc`` workers. The state
    that is hashed names the pipeline (and its version), the settings and a digest of the parsing
    code (rules, word lists), so a cached result is reused only when all of them are unchanged.
    A caption that cannot be parsed (``None``, not a string, empty, non-English) gets an empty
    concept list and a status; no row is dropped. Repeated captions are parsed once per process.

    Args:
        nlp: pipeline name, path or ``spacy.Language`` (``None`` for the default).
        column: the caption column.
        batch_size: ``nlp.pipe`` batch size inside one map batch.
        max_chars: see :func:`iccc.iter_parse`.

    >>> fn = ConceptParser()
    >>> out = fn({"caption": ["A cat on a mat.", None]})
    >>> [len(c) > 0 for c in out["concepts"]], out["parse_status"]
    ([True, False], ['ok', 'missing'])
    """

    def __init__(
        self,
        nlp: Any = None,
        *,
        column: str = columns.CAPTION,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_chars: int | None = DEFAULT_MAX_CHARS,
    ):
        if not isinstance(column, str):
            raise TypeError(f"`column` must be a string, got {type(column).__name__}: {column!r}.")
        _check_int("batch_size", batch_size, 1)
        if max_chars is not None:
            _check_int("max_chars", max_chars, 1)
        self._nlp = load_parser(nlp)
        self._planner = None
        self.pipeline = pipeline_name(self._nlp)
        self.code = code_digest()
        self._source = _source_of(nlp, self._nlp)
        if self._source is not None and not isinstance(nlp, (str, Path)):
            _LIVE[self._source] = self._nlp
        self.column = column
        self.batch_size = batch_size
        self.max_chars = max_chars

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_nlp"] = None
        state["_planner"] = None
        return state

    def _load(self):
        nlp = _LIVE.get(self._source) if self._source is not None else None
        if nlp is not None:
            return nlp
        if self._source is not None and self._source.startswith("<in-memory"):
            raise ValueError(
                f"The pipeline {self._source} exists only in the process that created it, and this "
                "process was not forked from it. Save it with `nlp.to_disk(path)` and pass the path."
            )
        return load_parser(self._source)

    def __call__(self, batch: dict[str, list] | list) -> dict[str, list]:
        """Take a batch dict, or the caption list itself (``map(..., input_columns=[column])``)."""
        if isinstance(batch, dict):
            if self.column not in batch:
                raise KeyError(
                    f"Caption column {self.column!r} not found. Available: {sorted(batch)}. "
                    "Pass `column=` to name it."
                )
            captions = batch[self.column]
        else:
            captions = batch
        if self._nlp is None:
            self._nlp = self._load()
        nlp = self._nlp
        if self._planner is None:
            limit = nlp.max_length if self.max_chars is None else min(self.max_chars, nlp.max_length)
            self._planner = _Planner(limit, DEFAULT_CACHE_SIZE, "status")
        disable = [name for name in nlp.pipe_names if name in UNNEEDED]
        concepts, statuses = [], []
        for p in _iter_parsed(self._planner, captions, nlp, self.batch_size, disable, True, 1):
            concepts.append([dict(zip(_FIELDS, _FIELD_VALUES(c))) for c in p.concepts])
            statuses.append(p.status)
        return {columns.CONCEPTS: concepts, columns.PARSE_STATUS: statuses}


def add_concepts(
    dataset,
    *,
    caption_column: str | None = None,
    nlp: Any = None,
    batch_size: int = 1000,
    num_proc: int | None = None,
    column: str | None = None,
    **map_kwargs,
):
    """Add ``concepts`` and ``parse_status`` columns to a ``datasets.Dataset``, ``IterableDataset``,
    ``DatasetDict`` or ``IterableDatasetDict``.

    Every row is kept. Only the caption column is read, so images (and any other heavy column) are
    never decoded. Results are cached by the ``datasets`` fingerprint, which covers the pipeline
    and its version, the settings and the parsing code.

    Args:
        dataset: the dataset (or dict of splits).
        caption_column: the caption column (default ``"caption"``), as everywhere else in iccc.
        nlp: pipeline name, path or ``spacy.Language`` (``None`` for the default).
        batch_size: rows per ``map`` batch.
        num_proc: processes for ``Dataset.map`` (ignored for iterable datasets, which are mapped
            lazily while iterating).
        column: the old name of ``caption_column`` (deprecated: still works, with a
            ``DeprecationWarning``).
        **map_kwargs: passed on to ``map`` (e.g. ``load_from_cache_file``, ``desc``).

    An empty ``Dataset`` gets the two columns, empty.

    >>> from datasets import Dataset
    >>> ds = add_concepts(Dataset.from_dict({"caption": ["A red bus.", ""]}))
    >>> ds[0]["parse_status"], ds[1]["parse_status"], ds[0]["concepts"][1]["text"]
    ('ok', 'empty', 'red')
    """
    from datasets import Dataset, DatasetDict, IterableDataset, IterableDatasetDict

    if not isinstance(dataset, (Dataset, IterableDataset, DatasetDict, IterableDatasetDict)):
        raise TypeError(
            "`dataset` must be a datasets.Dataset, IterableDataset, DatasetDict or IterableDatasetDict, "
            f"got {type(dataset).__name__}."
        )
    if column is not None:
        import warnings

        if caption_column is not None and caption_column != column:
            raise TypeError(f"Pass the caption column once: `caption_column`={caption_column!r} and the deprecated "
                            f"`column`={column!r} disagree.")
        warnings.warn("add_concepts(column=...) is deprecated; pass caption_column=... (the name used everywhere "
                      "else in iccc).", DeprecationWarning, stacklevel=2)
        caption_column = column
    if caption_column is None:
        caption_column = columns.CAPTION
    if not isinstance(caption_column, str) or not caption_column:
        raise TypeError(f"`caption_column` should be a non-empty string (a column name), got {caption_column!r}.")
    fn = ConceptParser(nlp, column=caption_column)
    if isinstance(dataset, (DatasetDict, IterableDatasetDict)):
        return type(dataset)(
            {split: _map(d, fn, batch_size, num_proc, map_kwargs) for split, d in dataset.items()}
        )
    return _map(dataset, fn, batch_size, num_proc, map_kwargs)


def _map(dataset, fn: ConceptParser, batch_size: int, num_proc, map_kwargs: dict):
    from datasets import Dataset, Features, Value

    column = fn.column
    features = dataset.features
    kwargs = dict(batched=True, batch_size=batch_size, input_columns=[column], **map_kwargs)
    if isinstance(dataset, Dataset):
        kwargs["num_proc"] = num_proc
        kwargs.setdefault("desc", "Parsing captions")
    if features is None:  # an iterable dataset of unknown features: nothing is decoded anyway
        return dataset.map(fn, **kwargs)
    if column not in features:
        raise KeyError(f"Caption column {column!r} not found. Available: {sorted(features)}.")
    added = {columns.CONCEPTS: concept_features(), columns.PARSE_STATUS: Value("string")}
    if isinstance(dataset, Dataset) and len(dataset) == 0:  # Dataset.map returns an empty dataset unchanged
        features = Features({**features, **added})
        return Dataset.from_dict({name: [] for name in features}, features=features)
    if isinstance(dataset, Dataset):
        # ``input_columns`` makes Dataset.map format (and so decode) the caption column only.
        return dataset.map(fn, features=Features({**features, **added}), **kwargs)
    # IterableDataset.map decodes whole examples before calling the function: switch decoding
    # of media columns (Image, Audio, ...) off while mapping, and back on lazily afterwards.
    undecoded = {
        name: replace(feature, decode=False)
        for name, feature in features.items()
        if is_dataclass(feature) and getattr(feature, "decode", None) is True
    }
    if not undecoded:
        return dataset.map(fn, features=Features({**features, **added}), **kwargs)
    mapped = dataset.cast(Features({**features, **undecoded})).map(
        fn, features=Features({**features, **undecoded, **added}), **kwargs
    )
    return mapped.cast(Features({**features, **added}))
