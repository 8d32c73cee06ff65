"""Parsing many captions fast: batching, de-duplication, several processes, bad input as data.

How the work is split: the input is read lazily in *blocks* of a few ``nlp.pipe`` batches. Each
block is first *planned* in the calling process (type check, status, truncation, markup blanking,
look-up of captions already parsed), then only its distinct, not yet parsed texts go through
spaCy -- here, or in a pool of worker processes that send back plain tuples. Blocks are assembled
strictly in input order, so the output order never depends on ``n_process``.

A text seen before is looked up in a bounded least-recently-used memo that keeps concepts packed
(``marshal`` bytes of plain tuples, about 0.8 kB a caption instead of about 4 kB of objects); a
text whose first occurrence is still being parsed (in an earlier block in flight) waits for that
result through a shared slot instead of being parsed twice.
"""

from __future__ import annotations

import marshal
import multiprocessing as mp
import re
from collections import OrderedDict, deque
from dataclasses import replace
from itertools import chain
from operator import attrgetter
from typing import Any, Iterable, Iterator

from .._schema import STATUS_OK, Concept, ParsedCaption, filled
from ._fastrules import run_pipeline
from ._loader import UNNEEDED, load_parser
from .rules import extract
from .rules._assemble import PLAIN_CONCEPT

#: Captions longer than this are cut at a word boundary before parsing (status "truncated").
DEFAULT_MAX_CHARS = 2000
DEFAULT_BATCH_SIZE = 256
#: Distinct captions remembered (packed, about 0.8 kB each), so repeated captions are parsed once.
DEFAULT_CACHE_SIZE = 50_000
#: ``nlp.pipe`` batches per block: enough to amortise a call (or a task sent to a worker), few
#: enough that workers get work early, finish together at the end, and memory stays small.
_BATCHES_PER_BLOCK = 2
#: A block also ends after this many inputs, so input made only of repeats or empty strings
#: (nothing to parse) is still streamed in bounded pieces.
_MAX_INPUTS_PER_BLOCK = 16
#: Blocks in flight per worker process.
_BLOCKS_PER_WORKER = 2

_WORD = re.compile(r"[a-z']+")
_MARKUP = re.compile(r"<[^<>]{0,200}>|&[a-z]{2,6};|https?://\S+")
_ENGLISH_FUNCTION_WORDS = frozenset(
    """a an the of in on at with and or is are was were be to by near next for from over under
    his her its their this that these those there some two three it he she they up down into
    onto while who which has have of off out as behind beside""".split()
)
_SNIFF_CHARS = 500  # the language check looks at the start of a caption only


#: Function words of other languages written in Latin script (French, Spanish, Italian,
#: German, Portuguese, Dutch); none is also an English word.
_OTHER_FUNCTION_WORDS = frozenset(
    """le la les un une des du sur dans avec et est el los las una del con por para y es il
    lo gli di che della sono der die das und ein eine mit auf ist den dem het een van op en
    com uma nas nos sobre""".split()
)


def _prepare(text: str, limit: int) -> tuple[str, str]:
    """Status and the text to parse: ``text`` itself, a prefix of it, or (markup blanked) a
    string of the same length, so character offsets always index the original caption."""
    if not text or text.isspace():
        return "empty", ""
    head = text[:_SNIFF_CHARS]
    if not head.isascii():
        letters = [ch for ch in head if ch.isalpha()]
        if letters and sum(1 for ch in letters if ch.isascii()) / len(letters) < 0.5:
            return "non_english", ""
    words = _WORD.findall(head.lower())
    if (
        len(words) >= 4
        and _ENGLISH_FUNCTION_WORDS.isdisjoint(words)
        and (not head.isascii() or not _OTHER_FUNCTION_WORDS.isdisjoint(words))
    ):
        # Telegraphic English ("Adult man displaying abilities using flying yellow disc.") has
        # no function words either; only text that shows another language's is set aside.
        return "non_english", ""
    status = STATUS_OK
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit + 1)
        text = text[: cut if cut > 0 else limit]
        status = "truncated"
        if not text.strip():
            return "empty", ""
    if "<" in text or "&" in text or "://" in text:
        # Blank out HTML tags, entities and URLs with spaces of the same length, so the parser
        # never sees them and character offsets still point into the original caption.
        text = _MARKUP.sub(lambda m: " " * len(m.group()), text)
    return status, text


# ------------------------------------------------------------------------ concepts as plain tuples
#: A concept as a plain tuple of its field values (``Concept(*row)`` rebuilds it): what workers send
#: and the memo packs.
_FIELDS = tuple(Concept.__dataclass_fields__)
_ROW = attrgetter(*_FIELDS)
# Concepts made by ``extract`` hold their fields in their instance dict, in field order: a row is
# that dict's values, and a concept is rebuilt by giving a bare instance a dict (``iccc._schema.filled``,
# three times faster than the frozen dataclass's ``__init__``); see ``rules._assemble.PLAIN_CONCEPT``.


def _to_rows(concepts: tuple) -> tuple:
    if PLAIN_CONCEPT:
        return tuple([tuple(c.__dict__.values()) for c in concepts])
    return tuple([_ROW(c) for c in concepts])  # pragma: no cover


_PLAIN_CAPTION = not hasattr(ParsedCaption, "__slots__") and not hasattr(ParsedCaption, "__post_init__")


def _caption(text: str, concepts: tuple, status: str) -> ParsedCaption:
    """``ParsedCaption(text, concepts, status)``, made like concepts are (see above)."""
    if _PLAIN_CAPTION:
        return filled(ParsedCaption, {"text": text, "concepts": concepts, "status": status})
    return ParsedCaption(text, concepts, status)  # pragma: no cover


def _from_rows(rows) -> tuple:
    if PLAIN_CONCEPT:
        return tuple([filled(Concept, dict(zip(_FIELDS, row))) for row in rows])
    return tuple([Concept(*row) for row in rows])  # pragma: no cover


# ------------------------------------------------------------------------ planning
class _Slot:
    """The concepts of a text whose parse is in flight; filled when its block is done."""

    __slots__ = ("concepts",)


class _Block:
    """A piece of the input. ``items`` holds one ``(status, text, ref, restore)`` per input, where
    ``ref`` is ``None`` (nothing to parse), a tuple of concepts (known) or a :class:`_Slot`;
    ``todo`` the distinct texts this block has to parse, ``slots`` their slots."""

    __slots__ = ("items", "todo", "slots", "error")

    def __init__(self):
        self.items: list[tuple] = []
        self.todo: list[str] = []
        self.slots: list[_Slot] = []
        self.error: Exception | None = None


class _Planner:
    def __init__(self, limit: int, cache_size: int, on_invalid: str):
        self.limit = limit
        self.cache_size = cache_size
        self.cache: OrderedDict[str, bytes] = OrderedDict()  # text -> marshal-packed concept rows
        self.in_flight: dict[str, _Slot] = {}
        self.on_invalid = on_invalid
        self.exhausted = False

    def blocks(self, texts: Iterable[Any], size: int) -> Iterator[_Block]:
        """Plan ``texts`` block by block; a block ends once it has ``size`` texts to parse."""
        it = iter(texts)
        position = 0
        max_inputs = size * _MAX_INPUTS_PER_BLOCK
        self.exhausted = False
        self.in_flight.clear()  # left over if an earlier run over this planner was abandoned
        while not self.exhausted:
            block = self._plan(it, position, size, max_inputs)
            position += len(block.items)
            if block.items or block.error is not None:
                yield block
            if block.error is not None:
                return

    def _plan(self, it: Iterator, position: int, size: int, max_inputs: int) -> _Block:
        block = _Block()
        items, todo, slots = block.items, block.todo, block.slots
        cache, in_flight, limit = self.cache, self.in_flight, self.limit
        for text in it:
            if not isinstance(text, str):
                if self.on_invalid == "raise":
                    block.error = TypeError(
                        f"`texts[{position + len(items)}]` must be a string, got "
                        f"{type(text).__name__}: {text!r:.80}. Pass on_invalid='status' to keep "
                        "such rows with status 'missing'/'not_string'."
                    )
                    return block
                items.append(("missing" if text is None else "not_string", "", None, False))
            else:
                status, to_parse = _prepare(text, limit)
                if not to_parse:
                    items.append((status, text, None, False))
                else:
                    packed = cache.get(to_parse)
                    if packed is not None:
                        cache.move_to_end(to_parse)
                        ref = _from_rows(marshal.loads(packed))
                    else:
                        ref = in_flight.get(to_parse)
                        if ref is None:
                            ref = in_flight[to_parse] = _Slot()
                            todo.append(to_parse)
                            slots.append(ref)
                    # Markup was blanked when the parsed text is not a prefix of the caption.
                    restore = to_parse is not text and not text.startswith(to_parse)
                    items.append((status, text, ref, restore))
            if len(todo) >= size or len(items) >= max_inputs:
                return block
        self.exhausted = True
        return block

    def finish(self, block: _Block, results: list[tuple], rows: list | None = None) -> Iterator[ParsedCaption]:
        """Store a block's parse results (concept tuples; ``rows``, their plain-tuple form, if
        already at hand), then yield its captions in input order."""
        cache, in_flight, cache_size = self.cache, self.in_flight, self.cache_size
        for i, (text, slot, concepts) in enumerate(zip(block.todo, block.slots, results)):
            slot.concepts = concepts
            del in_flight[text]
            if cache_size:
                cache[text] = marshal.dumps(rows[i] if rows is not None else _to_rows(concepts))
                if len(cache) > cache_size:
                    cache.popitem(last=False)
        for status, text, ref, restore in block.items:
            if ref is None:
                yield _caption(text, (), status)
                continue
            concepts = ref if type(ref) is tuple else ref.concepts
            if not concepts:
                yield _caption(text, (), "no_concepts")
                continue
            if restore:
                concepts = tuple(replace(c, text=text[c.start : c.end]) for c in concepts)
            yield _caption(text, concepts, status)
        if block.error is not None:
            raise block.error


# ------------------------------------------------------------------------ parsing
def _parse_here(nlp, texts: list[str], batch_size: int, disable: list[str], fast: bool) -> list[tuple]:
    return [tuple(extract(doc)) for doc in run_pipeline(nlp, texts, batch_size, disable, fast)]


_WORKER_NLP = None


def _worker_init(source) -> None:
    global _WORKER_NLP
    _WORKER_NLP = source if hasattr(source, "pipe") else load_parser(source)


def _worker_parse(texts: list[str], batch_size: int, disable: list[str], fast: bool) -> list[tuple]:
    # Plain tuples: they pickle several times faster than dataclass instances.
    return [_to_rows(extract(doc)) for doc in run_pipeline(_WORKER_NLP, texts, batch_size, disable, fast)]


def _run_here(planner: _Planner, blocks: Iterable[_Block], nlp, batch_size: int, disable: list[str], fast: bool):
    for block in blocks:
        results = _parse_here(nlp, block.todo, batch_size, disable, fast) if block.todo else []
        yield from planner.finish(block, results)


def _run_pool(planner, blocks, nlp, batch_size: int, disable: list[str], fast: bool, n_process: int):
    if "fork" in mp.get_all_start_methods():
        # Workers inherit the loaded pipeline: no pickling, no reloading.
        ctx, source = mp.get_context("fork"), nlp
    else:
        ctx, source = mp.get_context("spawn"), (str(nlp.path) if nlp.path is not None else nlp)
    with ctx.Pool(n_process, initializer=_worker_init, initargs=(source,)) as pool:
        pending: deque = deque()
        for block in blocks:
            task = pool.apply_async(_worker_parse, (block.todo, batch_size, disable, fast)) if block.todo else None
            pending.append((block, task))
            while len(pending) > _BLOCKS_PER_WORKER * n_process:
                yield from _finish_task(planner, *pending.popleft())
        while pending:
            yield from _finish_task(planner, *pending.popleft())


def _finish_task(planner: _Planner, block: _Block, task) -> Iterator[ParsedCaption]:
    rows = task.get() if task is not None else []
    return planner.finish(block, [_from_rows(r) for r in rows], rows)


# ------------------------------------------------------------------------ public API
def _check_texts(texts) -> None:
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            f"`texts` must be an iterable of strings, got a single {type(texts).__name__}: "
            f"{texts[:60]!r}. Wrap it in a list: parse([text])."
        )
    if not isinstance(texts, Iterable):
        raise TypeError(f"`texts` must be an iterable of strings, got {type(texts).__name__}: {texts!r:.80}.")


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}.")


def iter_parse(
    texts: Iterable[Any],
    *,
    nlp: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    n_process: int = 1,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    cache_size: int = DEFAULT_CACHE_SIZE,
    on_invalid: str = "raise",
    fast_rules: bool = True,
) -> Iterator[ParsedCaption]:
    """Parse captions lazily, one :class:`ParsedCaption` per input, in input order.

    The input is read a few batches at a time (an infinite generator is fine), and memory stays
    flat: only the blocks in flight and a bounded memo of parsed captions are held. Arguments are
    checked, and the pipeline loaded, when this function is called, not on the first ``next()``.

    Args:
        texts: iterable of caption strings (a generator or a dataset column is fine).
        nlp: pipeline name, path or ``spacy.Language``; ``None`` for :func:`load_parser`'s default.
            Components that concepts do not need (e.g. ``ner``) are skipped when parsing.
        batch_size: captions per ``nlp.pipe`` batch.
        n_process: worker processes; 1 parses in this process. An input that fits in one block
            (``2 * batch_size`` distinct captions) is always parsed in this process.
        max_chars: longer captions are cut at a word boundary first (status ``"truncated"``);
            ``None`` for no limit below spaCy's own ``nlp.max_length``.
        cache_size: how many distinct captions to remember (least recently used first out, about
            0.8 kB each), so repeated captions are parsed once; 0 remembers only captions still
            in flight.
        on_invalid: ``"raise"`` (a non-string raises ``TypeError`` naming ``texts[i]``, after
            the captions before it are yielded) or ``"status"`` (it becomes a caption ``""``
            with no concepts and status ``"missing"``/``"not_string"``).
        fast_rules: apply the pipeline's trailing rule-based components (``attribute_ruler``,
            ``lemmatizer``) from memo tables (:mod:`iccc.parsing._fastrules`): the same
            annotations, with these two components about 10x cheaper (about a quarter of
            ``en_core_web_sm``'s time). ``False`` runs spaCy's own.

    Raises:
        TypeError: ``texts`` is a single string or not iterable.
        ValueError: a bad ``batch_size``, ``n_process``, ``max_chars``, ``cache_size`` or
            ``on_invalid``.

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
    if not isinstance(fast_rules, bool):
        raise TypeError(f"`fast_rules` must be True or False, got {fast_rules!r}.")
    nlp = load_parser(nlp)
    limit = nlp.max_length if max_chars is None else min(max_chars, nlp.max_length)
    disable = [name for name in nlp.pipe_names if name in UNNEEDED]
    planner = _Planner(limit, cache_size, on_invalid)
    return _iter_parsed(planner, texts, nlp, batch_size, disable, fast_rules, n_process)


def _iter_parsed(planner, texts, nlp, batch_size, disable, fast, n_process) -> Iterator[ParsedCaption]:
    blocks = planner.blocks(texts, batch_size * _BATCHES_PER_BLOCK)
    first = next(blocks, None)
    if first is None:
        return
    blocks = chain([first], blocks)
    if n_process == 1 or planner.exhausted or first.error is not None:  # not worth starting processes
        yield from _run_here(planner, blocks, nlp, batch_size, disable, fast)
    else:
        yield from _run_pool(planner, blocks, nlp, batch_size, disable, fast, n_process)


def parse(
    texts: Iterable[Any],
    *,
    nlp: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    n_process: int = 1,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    cache_size: int = DEFAULT_CACHE_SIZE,
    on_invalid: str = "raise",
    fast_rules: bool = True,
) -> list[ParsedCaption]:
    """Parse captions into :class:`ParsedCaption` objects, in input order (see :func:`iter_parse`).

    >>> [(c.kind, c.text) for c in parse(["Two dogs on a red couch."])[0].of_kind("attribute")]
    [('attribute', 'red')]
    """
    return list(
        iter_parse(
            texts, nlp=nlp, batch_size=batch_size, n_process=n_process, max_chars=max_chars,
            cache_size=cache_size, on_invalid=on_invalid, fast_rules=fast_rules,
        )
    )
