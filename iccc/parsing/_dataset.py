"""Concept extraction as a HuggingFace ``datasets`` map function."""

from __future__ import annotations

from typing import Any

from .. import columns
from .._schema import concept_features
from ._loader import load_parser, pipeline_name
from ._pipeline import DEFAULT_BATCH_SIZE, DEFAULT_MAX_CHARS, iter_parse


class ConceptParser:
    """A picklable, batched ``Dataset.map`` function that adds ``concepts`` and ``parse_status``.

    The spaCy pipeline is loaded lazily in each process and is not part of the pickled state, so
    ``datasets`` can hash the function for caching and ship it to ``num_proc`` workers. A caption
    that cannot be parsed (``None``, not a string, empty, non-English) gets an empty concept list
    and a status; no row is dropped.

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
        self._nlp = load_parser(nlp)
        self.pipeline = pipeline_name(self._nlp)
        # What a fresh process loads: the given name/path, else the installed package name.
        self._source = nlp if isinstance(nlp, str) else (
            None if nlp is None else f"{self._nlp.meta['lang']}_{self._nlp.meta['name']}"
        )
        self.column = column
        self.batch_size = batch_size
        self.max_chars = max_chars

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_nlp"] = None
        return state

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
            self._nlp = load_parser(self._source)
        parsed = iter_parse(
            captions, nlp=self._nlp, batch_size=self.batch_size,
            max_chars=self.max_chars, on_invalid="status",
        )
        concepts, statuses = [], []
        for p in parsed:
            concepts.append([c.to_dict() for c in p.concepts])
            statuses.append(p.status)
        return {columns.CONCEPTS: concepts, columns.PARSE_STATUS: statuses}


def add_concepts(
    dataset,
    *,
    column: str = columns.CAPTION,
    nlp: Any = None,
    batch_size: int = 1000,
    num_proc: int | None = None,
    **map_kwargs,
):
    """Add ``concepts`` and ``parse_status`` columns to a ``datasets.Dataset``/``IterableDataset``/
    ``DatasetDict`` (cached by the datasets fingerprint; images are never decoded).

    >>> from datasets import Dataset
    >>> ds = add_concepts(Dataset.from_dict({"caption": ["A red bus.", ""]}))
    >>> ds[0]["parse_status"], ds[1]["parse_status"], ds[0]["concepts"][1]["text"]
    ('ok', 'empty', 'red')
    """
    from datasets import Dataset, DatasetDict, Features, IterableDataset, IterableDatasetDict, Value

    fn = ConceptParser(nlp, column=column)
    if isinstance(dataset, (DatasetDict, IterableDatasetDict)):
        return type(dataset)(
            {
                split: add_concepts(d, column=column, nlp=fn._nlp, batch_size=batch_size,
                                    num_proc=num_proc, **map_kwargs)
                for split, d in dataset.items()
            }
        )
    if not isinstance(dataset, (Dataset, IterableDataset)):
        raise TypeError(
            f"`dataset` must be a datasets.Dataset, IterableDataset or DatasetDict, got {type(dataset).__name__}."
        )
    features = dataset.features
    if features is not None:
        if column not in features:
            raise KeyError(f"Caption column {column!r} not found. Available: {sorted(features)}.")
        features = Features(
            {**features, columns.CONCEPTS: concept_features(), columns.PARSE_STATUS: Value("string")}
        )
    # Only the caption column is read, so images (and any heavy column) are never decoded.
    kwargs = dict(batched=True, batch_size=batch_size, features=features, input_columns=[column], **map_kwargs)
    if isinstance(dataset, Dataset):
        kwargs["num_proc"] = num_proc
        kwargs.setdefault("desc", "Parsing captions")
    return dataset.map(fn, **kwargs)
