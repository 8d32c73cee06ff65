"""Parsing many captions fast: batching, de-duplication, several processes, bad input as data."""

from __future__ import annotations

import multiprocessing as mp
import re
from collections import deque
from dataclasses import replace
from itertools import islice
from typing import Any, Iterable, Iterator

from .._schema import STATUS_OK, Concept, ParsedCaption
from ._loader import load_parser
from ._rules import extract

#: Captions longer than this are cut at a word boundary before parsing (status "truncated").
DEFAULT_MAX_CHARS = 2000
DEFAULT_BATCH_SIZE = 256

_ASCII_LETTER = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"[a-z']+")
_MARKUP = re.compile(r"<[^<>]{0,200}>|&[a-z]{2,6};|https?://\S+")
_ENGLISH_FUNCTION_WORDS = frozenset(
    """a an the of in on at with and or is are was were be to by near next for from over under
    his her its their this that these those there some two three it he she they up down into
    onto while who which has have of off out as behind beside""".split()
)


def _prepare(text: str, max_chars: int | None) -> tuple[str, str]:
    """Status and the part of ``text`` to parse (a prefix of it, so offsets stay valid)."""
    if not text.strip():
        return "empty", ""
    letters = [ch for ch in text[:500] if ch.isalpha()]
    if letters:
        ascii_share = sum(1 for ch in letters if ch.isascii()) / len(letters)
        if ascii_share < 0.5:
            return "non_english", ""
        words = _WORD.findall(text[:500].lower())
        if len(words) >= 4 and not any(w in _ENGLISH_FUNCTION_WORDS for w in words):
            return "non_english", ""
    status = STATUS_OK
    if max_chars is not None and len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars + 1)
        text = text[: cut if cut > 0 else max_chars]
        status = "truncated"
    if "<" in text or "&" in text or "://" in text:
        # Blank out HTML tags, entities and URLs with spaces of the same length, so the parser
        # never sees them and character offsets still point into the original caption.
        text = _MARKUP.sub(lambda m: " " * len(m.group()), text)
    return status, text


def _concept_rows(doc) -> tuple:
    # Plain tuples pickle fast between processes.
    return tuple(
        (c.kind, c.text, c.start, c.end, c.lemma, c.tag, c.tags, c.dep, c.head, c.subj, c.obj, c.symmetric)
        for c in extract(doc)
    )


def _rows_to_concepts(rows: tuple) -> tuple[Concept, ...]:
    return tuple(Concept(*row) for row in rows)


def _parse_unique(nlp, texts: list[str], batch_size: int) -> list[tuple]:
    return [_concept_rows(doc) for doc in nlp.pipe(texts, batch_size=batch_size)]


# ---------------------------------------------------------------- worker processes
_WORKER_NLP = None


def _worker_init(nlp_or_name):
    global _WORKER_NLP
    _WORKER_NLP = load_parser(nlp_or_name) if not hasattr(nlp_or_name, "pipe") else nlp_or_name


def _worker_parse(args):
    texts, batch_size = args
    return _parse_unique(_WORKER_NLP, texts, batch_size)


class _ResultCache:
    """Bounded text -> concept rows memo; cleared wholesale when full (cheap and good enough:
    duplicates in caption data are mostly near each other or very frequent)."""

    def __init__(self, size: int):
        self.size = size
        self.data: dict[str, tuple] = {}

    def get(self, text):
        return self.data.get(text)

    def put(self, text, rows):
        if self.size <= 0:
            return
        if len(self.data) >= self.size:
            self.data.clear()
        self.data[text] = rows


def _check_texts(texts) -> None:
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            f"`texts` must be an iterable of strings, got a single {type(texts).__name__}: "
            f"{texts[:60]!r}. Wrap it in a list: parse([text])."
        )
    if not isinstance(texts, Iterable):
        raise TypeError(f"`texts` must be an iterable of strings, got {type(texts).__name__}: {texts!r}.")


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}.")


def iter_parse(
    texts: Iterable[Any],
    *,
    nlp: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    n_process: int = 1,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    cache_size: int = 100_000,
    on_invalid: str = "raise",
) -> Iterator[ParsedCaption]:
    """Parse captions lazily, one :class:`ParsedCaption` per input, in input order.

    Memory stays flat on streaming input: at most a few batches are held at a time.

    Args:
        texts: iterable of caption strings (a generator or a dataset column is fine).
        nlp: pipeline name, path or ``spacy.Language``; ``None`` for :func:`load_parser`'s default.
        batch_size: captions per ``nlp.pipe`` batch.
        n_process: worker processes; 1 parses in this process.
        max_chars: longer captions are cut at a word boundary first (status ``"truncated"``);
            ``None`` for no limit below spaCy's own ``max_length``.
        cache_size: how many distinct captions to remember, so repeated captions are parsed once.
        on_invalid: ``"raise"`` (a non-string raises ``TypeError``) or ``"status"`` (it becomes a
            caption with no concepts and status ``"missing"``/``"not_string"``).

    >>> [p.status for p in iter_parse(["A dog on a bed.", "", "猫がいる"])]
    ['ok', 'empty', 'non_english']
    """
    _check_texts(texts)
    _check_int("batch_size", batch_size, 1)
    _check_int("n_process", n_process, 1)
    _check_int("cache_size", cache_size, 0)
    if max_chars is not None:
        _check_int("max_chars", max_chars, 1)
    if on_invalid not in ("raise", "status"):
        raise ValueError(f"Unknown on_invalid {on_invalid!r}. Available: 'raise', 'status'.")
    nlp = load_parser(nlp)
    limit = nlp.max_length if max_chars is None else min(max_chars, nlp.max_length)
    cache = _ResultCache(cache_size)
    chunk = batch_size * 4

    def chunks():
        it = iter(texts)
        position = 0
        while True:
            block = list(islice(it, chunk))
            if not block:
                return
            yield position, block
            position += len(block)

    def plan(position, block):
        """Statuses, parse inputs, and the distinct texts of a block that need parsing."""
        prepared = []
        todo: dict[str, None] = {}
        known: dict[str, tuple] = {}
        for offset, text in enumerate(block):
            if not isinstance(text, str):
                if on_invalid == "raise":
                    raise TypeError(
                        f"`texts[{position + offset}]` must be a string, got "
                        f"{type(text).__name__}: {text!r}."
                    )
                prepared.append(("missing" if text is None else "not_string", None, ""))
                continue
            status, to_parse = _prepare(text, limit)
            prepared.append((status, text, to_parse))
            if to_parse and to_parse not in known and to_parse not in todo:
                rows = cache.get(to_parse)
                if rows is None:
                    todo[to_parse] = None
                else:
                    known[to_parse] = rows
        return prepared, list(todo), known

    def assemble(prepared, todo, known, results):
        for text, rows in zip(todo, results):
            cache.put(text, rows)
        local = dict(zip(todo, results))
        local.update(known)
        for status, text, to_parse in prepared:
            if text is None:
                yield ParsedCaption("", (), status)
                continue
            if not to_parse:
                yield ParsedCaption(text, (), status)
                continue
            concepts = _rows_to_concepts(local[to_parse])
            if concepts and not text.startswith(to_parse):  # markup was blanked: restore text
                concepts = tuple(replace(c, text=text[c.start : c.end]) for c in concepts)
            if not concepts:
                status = "no_concepts"
            yield ParsedCaption(text, concepts, status)

    if n_process == 1:
        for position, block in chunks():
            prepared, todo, known = plan(position, block)
            results = _parse_unique(nlp, todo, batch_size) if todo else []
            yield from assemble(prepared, todo, known, results)
        return

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    init_arg = nlp if ctx.get_start_method() == "fork" else str(nlp.path or nlp.meta["lang"] + "_" + nlp.meta["name"])
    with ctx.Pool(n_process, initializer=_worker_init, initargs=(init_arg,)) as pool:
        pending: deque = deque()
        for position, block in chunks():
            prepared, todo, known = plan(position, block)
            pending.append((prepared, todo, known, pool.apply_async(_worker_parse, ((todo, batch_size),))))
            while len(pending) > 2 * n_process:
                yield from assemble(*_finished(pending.popleft()))
        while pending:
            yield from assemble(*_finished(pending.popleft()))


def _finished(entry):
    prepared, todo, known, result = entry
    return prepared, todo, known, result.get()


def parse(
    texts: Iterable[Any],
    *,
    nlp: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    n_process: int = 1,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    on_invalid: str = "raise",
) -> list[ParsedCaption]:
    """Parse captions into :class:`ParsedCaption` objects (see :func:`iter_parse`).

    >>> [(c.kind, c.text) for c in parse(["Two dogs on a red couch."])[0].of_kind("attribute")]
    [('attribute', 'red')]
    """
    return list(
        iter_parse(
            texts, nlp=nlp, batch_size=batch_size, n_process=n_process,
            max_chars=max_chars, on_invalid=on_invalid,
        )
    )
