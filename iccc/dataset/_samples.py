"""``SampleBuilder``: turns a batch of parsed captions into ICCC training samples.

One picklable callable, used three ways: as the ``Dataset.map`` function of a materialised build,
as the ``with_transform`` function of an on-the-fly build, and as the ``IterableDataset.map``
function of a streaming build. Every random choice of a row (its task, its prompt phrasing and its
corruption) derives from ``(seed, epoch, row index)``, so the rows do not depend on ``num_proc``,
the batch size, or which of the three ways made them.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .. import columns
from ..base import ConceptBase
from ..corrupt import DEFAULT_OPERATIONS, DEFAULT_P_SWAP, STATUS_COLUMN, Corruptor, corrupt
from . import _prompts

TASK_CORRECTION = "correction"
TASK_CAPTION = "caption"
TASKS = (TASK_CORRECTION, TASK_CAPTION)

#: The column of the build status: ``"ok"``, or why the row is not what its draw asked for.
BUILD_STATUS = "build_status"
#: ``operation`` of a correction sample whose caption was left correct (``p_correct_caption``).
NO_OPERATION = "none"
#: Columns every build adds (``caption`` too, when the caption column has another name).
OUTPUT_COLUMNS = (
    "prompt", "target", "task", "caption", "corrupted_caption", "operation", "concept_kind", "original",
    "replacement", BUILD_STATUS,
)
#: Row ids of an on-the-fly build (the transform has no ``with_indices``); hidden from its rows.
ROW_COLUMN = "_iccc_row"
#: Statuses of captions that give no sample at all (their ``target`` is ``None``).
UNUSABLE = ("missing", "empty", "not_string")

# Mixed into the per-row seed of the task and prompt draws, so that they are independent of the
# corruption's own generator (which derives from (seed, epoch, index) alone).
_DRAW_STREAM = 0x1CCC


def _check_p(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` should be a probability in [0, 1], got {value!r}.")
    return float(value)


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"`{name}` should be a non-negative integer, got {value!r}.")
    return int(value)


def _check_name(name: str, value, *, optional: bool = False):
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        allowed = "a non-empty string or None" if optional else "a non-empty string"
        raise TypeError(f"`{name}` should be {allowed} (a column name), got {value!r}.")
    return value


class SampleBuilder:
    """Turns rows with a caption and its parsed ``concepts`` into correction and captioning samples.

    Each row draws its task: a correction sample with probability ``p_correction`` (the caption is
    corrupted by :func:`iccc.corrupt` and put into a correction prompt), a correction sample with an
    uncorrupted caption with probability ``p_correct_caption``, else a captioning sample. A row
    drawn for correction whose caption cannot be corrupted becomes a captioning sample, and its
    ``build_status`` says why (``no_concepts``, ``no_candidate``, ``non_english``); a row without a
    usable caption keeps ``target=None`` and the status ``missing``, ``empty`` or ``not_string``.

    Rows of training epoch ``e`` (:meth:`set_epoch`) are drawn with the epoch ``epoch + e``, so a
    build with the default ``epoch=0`` gives, at training epoch ``e``, the rows a materialised
    build with ``epoch=e`` has.

    Args:
        concepts: the :class:`iccc.ConceptBase` replacements come from.
        seed, epoch: the per-row generators derive from ``(seed, epoch, row index)``.
        p_correction: share of correction samples with a corrupted caption (the paper: 0.3).
        p_swap: share of corrections tried as swaps first (the paper: 0.15).
        p_correct_caption: share of correction samples whose caption is left correct.
        target_format: ``"statement"``, ``"caption"`` or ``"both"`` (see :mod:`iccc.dataset._prompts`).
        caption_prompts, correction_prompts: template sequences (default: the built-in phrasings).
        operations, kinds, p_add, same_category: passed to :func:`iccc.corrupt`.
        caption_column, group_column: the caption column and the image-id column (sibling guard).

    >>> import iccc
    >>> parsed = iccc.parse(["A red car on a street.", "A blue bus on a road."])
    >>> fn = SampleBuilder(iccc.ConceptBase.from_parsed(parsed, above_mean=False), p_correction=1.0)
    >>> rows = fn.build({"caption": [p.text for p in parsed],
    ...                  "concepts": [[c.to_dict() for c in p.concepts] for p in parsed],
    ...                  "parse_status": ["ok", "ok"]}, [0, 1])
    >>> rows["task"], rows["corrupted_caption"][0] in rows["prompt"][0]
    (['correction', 'correction'], True)
    """

    def __init__(
        self,
        concepts: ConceptBase,
        *,
        seed: int = 0,
        epoch: int = 0,
        p_correction: float = 0.3,
        p_swap: float = DEFAULT_P_SWAP,
        p_correct_caption: float = 0.0,
        target_format: str = "statement",
        caption_prompts: Sequence[str] | None = None,
        correction_prompts: Sequence[str] | None = None,
        operations: Sequence[str] = DEFAULT_OPERATIONS,
        kinds: Sequence[str] | None = None,
        p_add: float = 0.0,
        same_category: bool = True,
        caption_column: str = columns.CAPTION,
        group_column: str | None = None,
    ):
        if not isinstance(concepts, (ConceptBase, LazyBase)):
            raise TypeError(f"`concepts` should be an iccc.ConceptBase, got {type(concepts).__name__}: {concepts!r:.80}.")
        self.seed = _check_count("seed", seed)
        self.epoch = _check_count("epoch", epoch)
        self.p_correction = _check_p("p_correction", p_correction)
        self.p_correct_caption = _check_p("p_correct_caption", p_correct_caption)
        if self.p_correction + self.p_correct_caption > 1.0:
            raise ValueError(
                f"`p_correction` + `p_correct_caption` should be at most 1, got {p_correction} + {p_correct_caption}."
            )
        self.target_format = _prompts.check_target_format(target_format)
        self.caption_prompts = _prompts.check_prompts(
            "caption_prompts", _prompts.CAPTION_PROMPTS if caption_prompts is None else caption_prompts,
            placeholder=False)
        self.correction_prompts = _prompts.check_prompts(
            "correction_prompts", _prompts.CORRECTION_PROMPTS if correction_prompts is None else correction_prompts,
            placeholder=True)
        if isinstance(operations, str):
            operations = (operations,)
        if isinstance(kinds, str):
            kinds = (kinds,)
        self.corrupt_config = dict(operations=tuple(operations), kinds=tuple(kinds) if kinds is not None else None,
                                   p_swap=_check_p("p_swap", p_swap), p_add=_check_p("p_add", p_add),
                                   same_category=bool(same_category))
        if self.p_correction > 0 and isinstance(concepts, ConceptBase):
            Corruptor(concepts, **self.corrupt_config)  # fails early, with its message, on a bad configuration
        self._concepts = concepts
        self.caption_column = _check_name("caption_column", caption_column)
        self.group_column = _check_name("group_column", group_column, optional=True)
        #: The training epoch set by :meth:`set_epoch` (added to ``epoch``).
        self.epoch_offset = 0
        #: Columns not to show in on-the-fly rows (set by :func:`iccc.build_dataset`).
        self.hidden: tuple[str, ...] = ()
        # A streamed row's index is its position in the stream; in a shard (a DataLoader worker, a
        # node) position p stands for row p * scale + shift, so that shards never share an index.
        self.index_scale, self.index_shift = 1, 0

    # ------------------------------------------------------------------ configuration
    @property
    def concepts(self) -> ConceptBase:
        """The concept base (a :class:`LazyBase` is built here, on first use)."""
        if isinstance(self._concepts, LazyBase):
            base = self._concepts.get()
            if self.p_correction > 0:
                Corruptor(base, **self.corrupt_config)
            return base
        return self._concepts

    @concepts.setter
    def concepts(self, value) -> None:
        self._concepts = value

    @property
    def input_columns(self) -> list[str]:
        """The columns a map reads, in the order :meth:`__call__` takes them."""
        cols = [self.caption_column, columns.CONCEPTS, columns.PARSE_STATUS]
        return cols + ([self.group_column] if self.group_column else [])

    @property
    def output_columns(self) -> list[str]:
        return [c for c in OUTPUT_COLUMNS if c != "caption" or self.caption_column != "caption"]

    def features(self) -> dict:
        """HF ``datasets`` features of the columns a build adds."""
        from datasets import Value

        return {name: Value("string") for name in self.output_columns}

    def set_epoch(self, epoch: int) -> None:
        """Draw the rows of training epoch ``epoch`` (with the build's ``epoch`` added)."""
        self.epoch_offset = _check_count("epoch", epoch)

    def at_epoch(self, epoch: int) -> SampleBuilder:
        """A copy drawing the rows of training epoch ``epoch``."""
        clone = object.__new__(SampleBuilder)
        clone.__dict__.update(self.__dict__)
        clone.set_epoch(epoch)
        return clone

    def in_shard(self, num_shards: int, index: int) -> SampleBuilder:
        """A copy for shard ``index`` of ``num_shards`` of a stream (see ``index_scale``)."""
        clone = self.at_epoch(self.epoch_offset)
        clone.index_shift = self.index_scale * int(index) + self.index_shift
        clone.index_scale = self.index_scale * int(num_shards)
        return clone

    def __repr__(self) -> str:
        return (f"SampleBuilder(seed={self.seed}, epoch={self.epoch}+{self.epoch_offset}, "
                f"p_correction={self.p_correction}, p_swap={self.corrupt_config['p_swap']}, "
                f"p_correct_caption={self.p_correct_caption}, target_format={self.target_format!r})")

    # ------------------------------------------------------------------ map / transform entry points
    def __call__(self, *args) -> dict[str, list]:
        """``Dataset.map(builder, batched=True, with_indices=True, input_columns=builder.input_columns)``."""
        if len(args) != len(self.input_columns) + 1:
            raise TypeError(
                f"SampleBuilder takes the columns {self.input_columns} and the row indices: map it with "
                "batched=True, with_indices=True, input_columns=builder.input_columns."
            )
        *cols, indices = args
        return self.build(dict(zip(self.input_columns, cols)), indices)

    def transform(self, batch: Mapping[str, list]) -> dict[str, list]:
        """The ``with_transform`` function: rows carry their index in :data:`ROW_COLUMN`."""
        if ROW_COLUMN not in batch:
            raise KeyError(f"On-the-fly rows need their index in {ROW_COLUMN!r}; build with iccc.build_dataset.")
        out = {k: v for k, v in batch.items() if k not in self.hidden and k != ROW_COLUMN}
        out.update(self.build(batch, batch[ROW_COLUMN]))
        return out

    # ------------------------------------------------------------------ the samples
    def build(self, batch: Mapping[str, list], indices: Sequence[int]) -> dict[str, list]:
        """Samples for one batch: a dict of the :attr:`output_columns`, one value per row."""
        for name in self.input_columns:
            if name not in batch:
                raise KeyError(f"Column {name!r} not found. Available: {sorted(batch)}.")
        captions = batch[self.caption_column]
        n = len(captions)
        if indices is None or len(indices) != n:
            raise ValueError("SampleBuilder needs one global row index per row (map with with_indices=True).")
        epoch = self.epoch + self.epoch_offset
        if self.index_scale != 1 or self.index_shift:
            indices = [int(i) * self.index_scale + self.index_shift for i in indices]
        statuses = batch[columns.PARSE_STATUS]
        draws = np.empty((n, 2))
        for k in range(n):
            draws[k] = np.random.default_rng([self.seed, epoch, int(indices[k]), _DRAW_STREAM]).random(2)
        usable = [isinstance(c, str) and bool(c.strip()) for c in captions]
        wants_error = draws[:, 0] < self.p_correction
        wants_check = ~wants_error & (draws[:, 0] < self.p_correction + self.p_correct_caption)

        records: dict[int, dict] = {}
        fallback: dict[int, str] = {}
        rows = [k for k in range(n) if wants_error[k] and usable[k]]
        if rows:
            sub = {name: [batch[name][k] for k in rows] for name in self.input_columns}
            out = corrupt(sub, [int(indices[k]) for k in rows], concepts=self.concepts, seed=self.seed, epoch=epoch,
                          caption_column=self.caption_column, group_column=self.group_column,
                          **self.corrupt_config)
            for j, k in enumerate(rows):
                if out[STATUS_COLUMN][j] == "ok":
                    records[k] = {name: out[name][j] for name in
                                  ("corrupted_caption", "operation", "concept_kind", "original", "replacement",
                                   "target")}
                else:
                    fallback[k] = out[STATUS_COLUMN][j]

        result: dict[str, list] = {name: [None] * n for name in self.output_columns}
        keep_caption = "caption" in result
        for k in range(n):
            caption = captions[k]
            if keep_caption and isinstance(caption, str):
                result["caption"][k] = caption
            record = records.get(k)
            if record is not None:
                prompt = self._pick(self.correction_prompts, draws[k, 1])
                result["prompt"][k] = _prompts.fill(prompt, record["corrupted_caption"])
                result["target"][k] = _prompts.correction_target(record["target"], caption, self.target_format)
                result["task"][k] = TASK_CORRECTION
                for name in ("corrupted_caption", "operation", "concept_kind", "original", "replacement"):
                    result[name][k] = record[name]
                result[BUILD_STATUS][k] = "ok"
                continue
            if usable[k] and wants_check[k]:
                prompt = self._pick(self.correction_prompts, draws[k, 1])
                result["prompt"][k] = _prompts.fill(prompt, caption)
                result["target"][k] = _prompts.correction_target(None, caption, self.target_format)
                result["task"][k] = TASK_CORRECTION
                result["operation"][k] = NO_OPERATION
                result[BUILD_STATUS][k] = "ok"
                continue
            result["prompt"][k] = self._pick(self.caption_prompts, draws[k, 1])
            result["task"][k] = TASK_CAPTION
            if usable[k]:
                result["target"][k] = caption.strip()
                result[BUILD_STATUS][k] = fallback.get(k, "ok")
            else:
                status = statuses[k] if statuses[k] in UNUSABLE else None
                result[BUILD_STATUS][k] = status or ("missing" if caption is None else
                                                     "not_string" if not isinstance(caption, str) else "empty")
        return result

    @staticmethod
    def _pick(templates: tuple[str, ...], u: float) -> str:
        return templates[min(int(u * len(templates)), len(templates) - 1)]


class LazyBase:
    """A concept base made by ``make()`` when first needed (and then kept): a streaming build
    returns at once and reads the rows its base comes from only when its first row is read.
    ``make`` must be picklable (a ``functools.partial`` of a module-level function); a copy sent
    to another process before the base was made makes it there (from the same rows: the same base).
    """

    def __init__(self, make):
        self._make = make
        self._base = None

    def get(self) -> ConceptBase:
        if self._base is None:
            self._base = self._make()
        return self._base

    @property
    def ready(self) -> bool:
        return self._base is not None


def find_builder(obj: Any) -> SampleBuilder | None:
    """The :class:`SampleBuilder` behind an on-the-fly ``Dataset`` (its transform), else ``None``."""
    fmt = getattr(obj, "_format_kwargs", None) or {}
    transform = fmt.get("transform")
    builder = getattr(transform, "__self__", None)
    return builder if isinstance(builder, SampleBuilder) else None
