"""``SampleBuilder``: turns a batch of parsed captions into ICCC training samples.

One picklable callable, used three ways: as the ``Dataset.map`` function of a materialised build,
as the ``with_transform`` function of an on-the-fly build, and as the ``IterableDataset.map``
function of a streaming build. Every random choice of a row comes from the streams of
:mod:`iccc.streams`, keyed by ``(seed, epoch, row index, purpose)``: its task and prompt phrasing
from the ``"sample"`` stream (first and second draw), its corruption from the ``"corrupt"`` stream
(through :func:`iccc.corrupt`). So the rows do not depend on ``num_proc``, the batch size, or which
of the three ways made them, and changing how prompts are drawn never changes a corruption.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .. import columns
from .._gc import fewer_collections
from ..base import ConceptBase
from ..corrupt import DEFAULT_OPERATIONS, DEFAULT_P_ADD, DEFAULT_P_SWAP, STATUS_COLUMN, Corruptor, corrupt
from ..streams import Streams
from . import _prompts
from ._checks import check_column, check_count, check_p

TASK_CORRECTION = "correction"
TASK_CAPTION = "caption"
TASKS = (TASK_CORRECTION, TASK_CAPTION)

#: The column of the build status: ``"ok"``, or why the row is not what its draw asked for.
BUILD_STATUS = columns.BUILD_STATUS
#: The sample columns of a build: the instruction, the answer, and which of :data:`TASKS` it is.
PROMPT, TARGET, TASK = columns.PROMPT, columns.TARGET, columns.TASK
#: The columns of the corruption record a correction sample shows (named as :func:`iccc.corrupt` names them).
CORRUPTED_CAPTION, OPERATION, CONCEPT_KIND = columns.CORRUPTED_CAPTION, columns.OPERATION, columns.CONCEPT_KIND
SAMPLE_RECORD = (CORRUPTED_CAPTION, OPERATION, CONCEPT_KIND, "original", "replacement")
#: ``operation`` of a correction sample whose caption was left correct (``p_correct_caption``).
NO_OPERATION = "none"
#: Columns every build adds (``caption`` too, when the caption column has another name).
OUTPUT_COLUMNS = (PROMPT, TARGET, TASK, columns.CAPTION, *SAMPLE_RECORD, BUILD_STATUS)
#: Row ids of an on-the-fly build (the transform has no ``with_indices``); hidden from its rows.
ROW_COLUMN = columns.ROW
#: Statuses of captions that give no sample at all (their ``target`` is ``None``).
UNUSABLE = ("missing", "empty", "not_string")
#: The paper's share of correction samples (with a corrupted caption).
DEFAULT_P_CORRECTION = 0.3
#: The purpose (:data:`iccc.streams.PURPOSES`) of the task and prompt draws.
SAMPLE_PURPOSE = "sample"
# The column of iccc.corrupt's record that holds the correction statement (a sample's own
# ``target`` is that statement, the caption or both: see ``target_format``).
_STATEMENT = "target"


def output_columns(caption_column: str = columns.CAPTION) -> list[str]:
    """The columns a build adds, for captions in ``caption_column``: :data:`OUTPUT_COLUMNS`, less
    ``caption`` when that is the caption column itself.

    >>> output_columns("text")[:4], "caption" in output_columns()
    (['prompt', 'target', 'task', 'caption'], False)
    """
    return [c for c in OUTPUT_COLUMNS if c != columns.CAPTION or caption_column != columns.CAPTION]


def usable_caption(caption) -> bool:
    """Whether a caption gives a sample: a string that is not blank."""
    return isinstance(caption, str) and bool(caption.strip())


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
        seed, epoch: a row's draws come from the :mod:`iccc.streams` streams of ``(seed, epoch, row index)``
            (purpose ``"sample"`` for its task and prompt, ``"corrupt"`` for its corruption).
        p_correction: share of correction samples with a corrupted caption (the paper: 0.3).
        p_swap: share of the corrections that are swaps, as far as the captions allow (the paper: 0.15;
            see :mod:`iccc.corrupt`, "The mix").
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
        p_correction: float = DEFAULT_P_CORRECTION,
        p_swap: float = DEFAULT_P_SWAP,
        p_correct_caption: float = 0.0,
        target_format: str = _prompts.DEFAULT_TARGET_FORMAT,
        caption_prompts: Sequence[str] | None = None,
        correction_prompts: Sequence[str] | None = None,
        operations: Sequence[str] = DEFAULT_OPERATIONS,
        kinds: Sequence[str] | None = None,
        p_add: float = DEFAULT_P_ADD,
        mix: Mapping[str, float] | None = None,
        same_category: bool = True,
        caption_column: str = columns.CAPTION,
        group_column: str | None = None,
        vision: Any = None,
    ):
        if not isinstance(concepts, (ConceptBase, LazyBase)):
            raise TypeError(f"`concepts` should be an iccc.ConceptBase, got {type(concepts).__name__}: {concepts!r:.80}.")
        self.seed = check_count("seed", seed)
        self.epoch = check_count("epoch", epoch)
        self.p_correction = check_p("p_correction", p_correction)
        self.p_correct_caption = check_p("p_correct_caption", p_correct_caption)
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
                                   p_swap=check_p("p_swap", p_swap), p_add=check_p("p_add", p_add),
                                   same_category=bool(same_category))
        if mix is not None:
            self.corrupt_config["mix"] = dict(mix) if isinstance(mix, Mapping) else mix
        if vision is not None:
            if group_column is None:
                raise ValueError("`vision` matches rows to images by their image id: give `group_column` too.")
            self.corrupt_config["vision"] = vision
        if self.p_correction > 0 and isinstance(concepts, ConceptBase):
            Corruptor(concepts, **self.corrupt_config)  # fails early, with its message, on a bad configuration
        self._concepts = concepts
        self.caption_column = check_column("caption_column", caption_column)
        self.group_column = check_column("group_column", group_column, optional=True)
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
        return output_columns(self.caption_column)

    def features(self) -> dict:
        """HF ``datasets`` features of the columns a build adds."""
        from datasets import Value

        return {name: Value("string") for name in self.output_columns}

    def set_epoch(self, epoch: int) -> None:
        """Draw the rows of training epoch ``epoch`` (with the build's ``epoch`` added)."""
        self.epoch_offset = check_count("epoch", epoch)

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
    @fewer_collections()
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
        # first draw of a row's "sample" stream: its task; second: its prompt phrasing
        streams = Streams(self.seed, epoch, indices, SAMPLE_PURPOSE)
        draws = [streams[k] for k in range(n)]
        u = np.array([d.random() for d in draws])
        usable = [usable_caption(c) for c in captions]
        wants_error = u < self.p_correction
        wants_check = ~wants_error & (u < self.p_correction + self.p_correct_caption)

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
                    records[k] = {name: out[name][j] for name in (*SAMPLE_RECORD, _STATEMENT)}
                else:
                    fallback[k] = out[STATUS_COLUMN][j]

        result: dict[str, list] = {name: [None] * n for name in self.output_columns}
        keep_caption = columns.CAPTION in result
        for k in range(n):
            caption = captions[k]
            if keep_caption and isinstance(caption, str):
                result[columns.CAPTION][k] = caption
            record = records.get(k)
            if record is not None:
                prompt = draws[k].choice(self.correction_prompts)
                result[PROMPT][k] = _prompts.fill(prompt, record[CORRUPTED_CAPTION])
                statement = record[_STATEMENT]
                result[TARGET][k] = _prompts.correction_target(statement, caption, self.target_format)
                result[TASK][k] = TASK_CORRECTION
                for name in SAMPLE_RECORD:
                    result[name][k] = record[name]
                result[BUILD_STATUS][k] = "ok"
                continue
            if usable[k] and wants_check[k]:
                prompt = draws[k].choice(self.correction_prompts)
                result[PROMPT][k] = _prompts.fill(prompt, caption)
                result[TARGET][k] = _prompts.correction_target(None, caption, self.target_format)
                result[TASK][k] = TASK_CORRECTION
                result[OPERATION][k] = NO_OPERATION
                result[BUILD_STATUS][k] = "ok"
                continue
            result[PROMPT][k] = draws[k].choice(self.caption_prompts)
            result[TASK][k] = TASK_CAPTION
            if usable[k]:
                result[TARGET][k] = caption.strip()
                result[BUILD_STATUS][k] = fallback.get(k, "ok")
            else:
                status = statuses[k] if statuses[k] in UNUSABLE else None
                result[BUILD_STATUS][k] = status or ("missing" if caption is None else
                                                     "not_string" if not isinstance(caption, str) else "empty")
        return result


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


def find_builder(obj: Any) -> SampleBuilder | None:
    """The :class:`SampleBuilder` behind an on-the-fly build (the transform of a ``datasets.Dataset``
    made by :func:`iccc.build_dataset` with ``mode="transform"``), else ``None``.

    Reads the public ``Dataset.format`` (its ``format_kwargs`` hold the transform); anything
    without a dict ``format`` (an ``IterableDataset``, a list) has no builder.

    >>> import iccc
    >>> from datasets import Dataset
    >>> from iccc.dataset import build_dataset
    >>> fly = build_dataset(Dataset.from_dict({"caption": ["A red car.", "A blue bus."]}), mode="transform",
    ...                     balance=False)
    >>> find_builder(fly).seed, find_builder(fly.with_format(None)), find_builder([1, 2])
    (0, None, None)
    """
    fmt = getattr(obj, "format", None)
    if not isinstance(fmt, dict):
        return None
    transform = (fmt.get("format_kwargs") or {}).get("transform")
    builder = getattr(transform, "__self__", None)
    return builder if isinstance(builder, SampleBuilder) else None
