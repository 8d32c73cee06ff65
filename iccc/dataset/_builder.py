"""``build_dataset``: image–caption data in, ICCC training data (correction + captioning) out.

The steps: the captions are parsed once (:func:`iccc.add_concepts`, cached by the ``datasets``
fingerprint), a :class:`iccc.ConceptBase` is built from them (frequency-balanced like ``iccc
corrupt``), and a :class:`~iccc.dataset._samples.SampleBuilder` turns every row into a sample,
either written out with ``Dataset.map`` (``mode="materialize"``) or drawn when rows are read
(``mode="transform"``, and always for an ``IterableDataset``). Images are never decoded.
"""

from __future__ import annotations

import warnings
from functools import partial
from math import ceil
from typing import Any, Mapping, Sequence

from .. import columns
from .._gc import fewer_collections
from .._schema import ParsedCaption
from .._workers import chunks, fork_map, workers
from ..base import ConceptBase
from ..corrupt import DEFAULT_OPERATIONS, DEFAULT_P_ADD, DEFAULT_P_SWAP
from ._checks import check_bool, check_column, check_count, check_p, check_positive
from ._prompts import DEFAULT_TARGET_FORMAT
from ._samples import (
    DEFAULT_P_CORRECTION,
    ROW_COLUMN,
    TARGET,
    LazyBase,
    SampleBuilder,
    output_columns,
    usable_caption,
)
from ._summary import remember_mix

MODES = ("materialize", "transform")
IMAGE = columns.IMAGE
#: ``group_column`` default: the first of :data:`GROUP_COLUMNS` the data has (what ``iccc build`` does).
AUTO = "auto"
#: Columns taken as the image id when ``group_column="auto"`` (``image`` only when it holds path strings).
GROUP_COLUMNS = (columns.IMAGE_ID, "cocoid", IMAGE)
#: Rows of an ``IterableDataset`` read to build the concept base when ``base_rows`` is None.
STREAM_BASE_ROWS = 100_000
#: Captions the frequency balancing simulates on (an even sample of the rows read for the base).
BALANCE_ROWS = 50_000


def build_dataset(
    ds,
    *,
    caption_column: str = columns.CAPTION,
    image_column: str | None = IMAGE,
    group_column: str | None = AUTO,
    concepts: ConceptBase | None = None,
    balance: bool = True,
    seed: int = 0,
    epoch: int = 0,
    p_correction: float = DEFAULT_P_CORRECTION,
    p_swap: float = DEFAULT_P_SWAP,
    p_correct_caption: float = 0.0,
    target_format: str = DEFAULT_TARGET_FORMAT,
    caption_prompts: Sequence[str] | None = None,
    correction_prompts: Sequence[str] | None = None,
    operations: Sequence[str] = DEFAULT_OPERATIONS,
    kinds: Sequence[str] | None = None,
    p_add: float = DEFAULT_P_ADD,
    mix: Mapping[str, float] | None = None,
    mode: str = "materialize",
    num_proc: int | None = None,
    batch_size: int = 1000,
    nlp: Any = None,
    base_rows: int | None = None,
    keep_concepts: bool = False,
    load_from_cache_file: bool | None = None,
    drop_unusable: bool = False,
    vision: Any = None,
):
    """Turn a dataset of captions (and images) into ICCC training samples.

    Every row becomes one sample: with probability ``p_correction`` a *correction* sample (its
    caption corrupted in one concept by :func:`iccc.corrupt`, shown in a correction prompt; the
    target says what is wrong), with probability ``p_correct_caption`` a correction sample whose
    caption is left correct, else a *captioning* sample (target: the caption). The paper's mixture
    is the default: 30% corrections, 15% of them swaps (:data:`iccc.corrupt.DEFAULT_MIX`, the
    phenomena mix). Shares are honoured as far as the captions allow: the base built here is
    calibrated on them (:func:`iccc.balance.calibrate_mix`), and a caption that allows a swap is
    swapped more often, up to always; a swap needs two concepts that can plausibly trade places,
    which about 5% of COCO captions have, so about 5% of the corrections are swaps
    (:func:`build_summary` reports requested and achieved shares and why). Every draw comes from the :mod:`iccc.streams` streams of ``(seed, epoch,
    row index)`` (the task and prompt from the ``"sample"`` stream, the corruption from the
    ``"corrupt"`` stream): the result does not depend on ``num_proc``, ``batch_size`` or ``mode``.

    Columns added: ``prompt``, ``target``, ``task`` (``"correction"``/``"caption"``), ``caption``
    (when the caption column has another name), ``corrupted_caption``, ``operation`` (``replace``,
    ``swap``, ``add``; ``none`` for a correct caption), ``concept_kind``, ``original``,
    ``replacement`` and ``build_status``: ``ok``, or why the row is not what its draw asked for —
    a caption that cannot be corrupted gives a captioning sample (``no_concepts``,
    ``no_candidate``, ``non_english``); a row without a usable caption keeps ``target=None``
    (``missing``, ``empty``, ``not_string``), unless ``drop_unusable=True`` leaves those rows out
    (``iccc train`` skips them either way). No other row and no column is dropped; the image column
    is renamed ``image`` (when it has another name) and passed through untouched, never decoded.
    An empty ``Dataset`` gives an empty build with every output column.

    Args:
        ds: a ``datasets.Dataset``, ``IterableDataset``, ``DatasetDict`` or ``IterableDatasetDict``
            with one caption per row; the result is of the same kind (per split).
        caption_column: the caption column.
        image_column: the image column (any feature type), or ``None``; a dataset without an
            ``image`` column is fine (text-only builds, e.g. to inspect the samples).
        group_column: the image id shared by captions of one image: corruptions never insert a word
            of a sibling caption (which may be true of the image). ``"auto"`` (the default, as in
            ``iccc build``): the first of ``image_id``, ``cocoid`` and ``image`` (path strings only)
            that the data has, else none; ``None``: no sibling guard.
        concepts: the :class:`iccc.ConceptBase` to draw replacements from; by default built from
            the captions of ``ds`` (all splits) and frequency-balanced
            (:func:`iccc.balance.balance_insertions`) unless ``balance=False``.
        seed, epoch: a row's draws come from its :mod:`iccc.streams` streams of ``(seed, epoch, index)``.
        p_correction, p_swap, p_correct_caption: the mixture (see above).
        target_format: ``"statement"`` (the paper's ``"cat" should be "dog".``), ``"caption"`` (the
            corrected caption) or ``"both"``.
        caption_prompts, correction_prompts: instruction templates, one drawn per row; each
            correction template contains ``{caption}``, replaced by the caption exactly as it is.
        operations, kinds, p_add, mix: passed to :func:`iccc.corrupt` (``mix``: ``{operation:
            share}`` of the corrections, :data:`iccc.corrupt.DEFAULT_MIX` by default; the
            achieved shares are in :func:`iccc.build_summary`).
        mode: ``"materialize"`` (``Dataset.map``: save it with ``save_to_disk``) or ``"transform"``
            (``with_transform``: samples drawn when rows are read; call
            :func:`iccc.dataset.set_epoch` every epoch for new corruptions). An ``IterableDataset``
            is always mapped lazily, and ``ds.set_epoch(e)`` draws the rows of epoch ``epoch + e``.
        num_proc, batch_size: for the maps (parsing and building); ``num_proc`` also for the concept
            base built here (counting, mix calibration and balancing in forked processes: the same
            base with any number).
        nlp: spaCy pipeline name, path or ``Language`` for parsing.
        base_rows: rows read to build the concept base (default: all rows of a ``Dataset``, the first
            100,000 of an ``IterableDataset``).
        keep_concepts: keep the ``concepts`` and ``parse_status`` columns the parse added.
        load_from_cache_file: passed to ``Dataset.map``.
        vision: an :class:`iccc.vision.ImagePrior` (or a path to an embeddings file, loaded with
            :meth:`iccc.vision.ImagePrior.build`, scene concepts only): image-conditioned negatives,
            rows matched to its images by ``group_column``. Replacements and additions favour
            concepts of the image's scene, and with the prior's text encoder they are checked
            against the image: a row whose every candidate the image may support becomes a
            captioning sample with ``build_status="possibly_true"``. ``None``: text only (the
            same rows as without ``iccc.vision``).
        drop_unusable: leave out the rows without a usable caption (``target`` None; statuses
            ``missing``, ``empty``, ``not_string``); the other rows are exactly those of the full
            build. ``len(ds) - len(out)`` rows were dropped (an ``IterableDataset`` filters lazily).

    With ``mode="transform"`` the result is an :class:`iccc.dataset.OnTheFlyDataset` (a
    ``datasets.Dataset``) whose ``features``, ``column_names`` and ``print`` show the columns its
    rows have (``prompt``, ``target``, ``task``, ...), not the ``concepts`` and row ids stored for
    the transform. An ``IterableDataset`` build returns at once: its concept base (when not given)
    is built from the first ``base_rows`` rows when the first row is read.

    >>> import iccc
    >>> from datasets import Dataset
    >>> rows = iccc.sample_captions()
    >>> ds = Dataset.from_list(rows)
    >>> out = build_dataset(ds, group_column="image_id", p_correction=0.5)
    >>> len(out) == len(ds), out[0]["task"] in ("correction", "caption")
    (True, True)
    """
    from datasets import Dataset, DatasetDict, IterableDataset, IterableDatasetDict

    if isinstance(ds, (DatasetDict, IterableDatasetDict)):
        splits = dict(ds)
        if not splits:
            raise ValueError(f"`ds` is an empty {type(ds).__name__} (no splits).")
    elif isinstance(ds, (Dataset, IterableDataset)):
        splits = {None: ds}
    else:
        raise TypeError(
            "`ds` should be a datasets.Dataset, IterableDataset, DatasetDict or IterableDatasetDict, "
            f"got {type(ds).__name__}: {ds!r:.80}. Load files with iccc.dataset.load_captions(path)."
        )
    if mode not in MODES:
        raise ValueError(f"Unknown `mode` {mode!r}. Available: {', '.join(repr(m) for m in MODES)}.")
    if concepts is not None and not isinstance(concepts, ConceptBase):
        raise TypeError(f"`concepts` should be an iccc.ConceptBase or None, got {type(concepts).__name__}: "
                        f"{concepts!r:.80}.")
    num_proc = check_positive("num_proc", num_proc, optional=True)
    batch_size = check_positive("batch_size", batch_size)
    base_rows = check_positive("base_rows", base_rows, optional=True)
    for name, value in (("balance", balance), ("keep_concepts", keep_concepts), ("drop_unusable", drop_unusable)):
        check_bool(name, value)
    check_column("caption_column", caption_column)
    for name, value in (("image_column", image_column), ("group_column", group_column)):
        if value is not None and (not isinstance(value, str) or not value):
            extra = ', "auto"' if name == "group_column" else ""
            raise TypeError(f"`{name}` should be a column name (a non-empty string){extra} or None, got {value!r}.")
    if group_column == AUTO:
        group_column = detect_group_column(list(splits.values()), image_column)
    seed, epoch = check_count("seed", seed), check_count("epoch", epoch)
    # A builder with a stand-in base validates the sampling arguments before any parsing.
    config = dict(seed=seed, epoch=epoch, p_correction=p_correction, p_swap=p_swap,
                  p_correct_caption=p_correct_caption, target_format=target_format, caption_prompts=caption_prompts,
                  correction_prompts=correction_prompts, operations=operations, kinds=kinds, p_add=p_add,
                  mix=mix, caption_column=caption_column, group_column=group_column)
    check_p("p_correction", p_correction)
    SampleBuilder(ConceptBase(), **{**config, "p_correction": 0.0})
    if p_correction + p_correct_caption > 1.0:
        raise ValueError(
            f"`p_correction` + `p_correct_caption` should be at most 1, got {p_correction} + {p_correct_caption}."
        )
    _check_operations(operations, kinds)
    if vision is not None:
        vision = _check_vision(vision, group_column, list(splits.values()))
        config["vision"] = vision

    parsed, added = {}, False
    recast = {}
    for name, split in splits.items():
        where = f"split {name!r}" if name is not None else "`ds`"
        split, renamed = _check_columns(split, where, caption_column, image_column, group_column)
        if isinstance(split, IterableDataset):
            split, recast[name] = _undecoded(split)
        names = _column_names(split)
        if names is not None and columns.CONCEPTS in names and columns.PARSE_STATUS in names:
            parsed[name] = split
        else:
            added = True
            parsed[name] = _add_concepts(split, caption_column, nlp, batch_size, num_proc, load_from_cache_file)

    streamed = any(isinstance(split, IterableDataset) for split in parsed.values())
    if concepts is None:
        make = partial(_checked_base, list(parsed.values()), caption_column=caption_column,
                       group_column=group_column, base_rows=base_rows, balance=balance and p_correction > 0, seed=seed,
                       corrupt_config=dict(operations=operations, kinds=kinds, p_swap=p_swap, p_add=p_add, mix=mix),
                       mix_calibration=p_correction > 0, needed=p_correction > 0, num_proc=num_proc)
        # a stream's base is read from its first rows when the first row is read, not now
        concepts = LazyBase(make) if streamed else make(needed=False)
    empty = all(isinstance(split, Dataset) and len(split) == 0 for split in parsed.values())
    if isinstance(concepts, ConceptBase):
        if p_correction > 0 and not concepts.kinds() and not empty:
            raise ValueError(_NO_CONCEPTS.format(caption_column=caption_column))
        if empty and not concepts.kinds():  # no row to corrupt: a builder that needs no base
            config = {**config, "p_correction": 0.0}
    builder = SampleBuilder(concepts, **config)
    builder.hidden = (columns.CONCEPTS, columns.PARSE_STATUS) if added and not keep_concepts else ()

    out = {}
    for name, split in parsed.items():
        if isinstance(split, IterableDataset):
            out[name] = _build_iterable(split, builder, batch_size, recast[name], drop_unusable)
        elif len(split) == 0:
            out[name] = _empty(split, builder)
        elif mode == "materialize":
            out[name] = _materialize(split, builder, batch_size, num_proc, load_from_cache_file, drop_unusable)
            remember_mix(out[name], builder)
        else:
            out[name] = _on_the_fly(split, builder, batch_size, num_proc, load_from_cache_file, drop_unusable)
    if None in out:
        return out[None]
    return type(ds)(out)


# ------------------------------------------------------------------------------------ checks
def detect_group_column(splits: Sequence, image_column: str | None = IMAGE) -> str | None:
    """The image-id column ``group_column="auto"`` picks: the first of :data:`GROUP_COLUMNS` that
    every split has (``image``, or the ``image_column``, only when it holds path strings), else
    ``None``. The same choice as ``iccc build``, whose loader writes ``image_id``.

    >>> from datasets import Dataset
    >>> detect_group_column([Dataset.from_dict({"caption": ["A dog."], "cocoid": [1], "image": ["1.jpg"]})])
    'cocoid'
    >>> detect_group_column([Dataset.from_dict({"caption": ["A dog."]})]) is None
    True
    """
    from datasets import Value

    names = [_column_names(split) for split in splits]
    if not names or any(n is None for n in names):
        return None  # an iterable dataset of unknown columns: nothing to go by
    candidates = list(GROUP_COLUMNS[:-1])
    if image_column is not None:
        candidates.append(image_column)
    for name in dict.fromkeys(candidates):
        if not all(name in n for n in names):
            continue
        if name in GROUP_COLUMNS[:-1]:
            return name
        features = [split.features[name] for split in splits if split.features is not None]
        if all(isinstance(f, Value) and f.dtype in ("string", "large_string") for f in features):
            return name
    return None


def _check_vision(vision, group_column: str | None, splits: Sequence):
    """The :class:`iccc.vision.ImagePrior` ``vision`` names, checked against the data's image ids:
    none of them having a vector is an error (ids of another type or dataset), some is a warning."""
    from ..vision.prior import ImagePrior

    if not isinstance(vision, ImagePrior):
        if isinstance(vision, str) or hasattr(vision, "__fspath__"):
            vision = ImagePrior.build(vision)
        else:
            raise TypeError(f"`vision` should be an iccc.vision.ImagePrior, a path to an embeddings file or None, "
                            f"got {type(vision).__name__}: {vision!r:.80}.")
    if group_column is None:
        raise ValueError("`vision` matches rows to images by their image id, but the data has no image id column "
                         "(`group_column` is None): pass group_column=<the image id column>.")
    from datasets import Dataset

    ids = [g for split in splits if isinstance(split, Dataset) and len(split) for g in split[group_column]]
    if ids:
        distinct = list(dict.fromkeys(ids))
        missing = [g for g in distinct if not vision.has_image(g)]
        if len(missing) == len(distinct):
            raise ValueError(
                f"None of the image ids of column {group_column!r} has a vector in `vision` (first id: "
                f"{ids[0]!r}, {type(ids[0]).__name__}; the prior's first id: {vision.images.ids[0]!r}, "
                f"{type(vision.images.ids[0]).__name__}): the embeddings are of other images or keyed differently."
            )
        if missing:
            warnings.warn(f"{len(missing)} image id(s) of column {group_column!r} have no vector in `vision` (first: "
                          f"{missing[0]!r}); their rows get text-only negatives.", stacklevel=3)
    return vision


def _column_names(ds) -> list[str] | None:
    features = ds.features
    if features is not None:
        return list(features)
    names = getattr(ds, "column_names", None)
    return list(names) if names else None


def _is_list_feature(feature) -> bool:
    from datasets import LargeList, Sequence

    return isinstance(feature, (list, Sequence, LargeList))


def _check_operations(operations, kinds) -> None:
    from .._schema import KINDS
    from ..operators import OPERATORS

    ops = (operations,) if isinstance(operations, str) else operations
    if not isinstance(ops, (list, tuple)) or not ops:
        raise ValueError(f"`operations` should name at least one of {', '.join(repr(o) for o in OPERATORS)}, "
                         f"got {operations!r}.")
    for op in ops:
        if op not in OPERATORS:
            raise ValueError(f"Unknown operation {op!r}. Available: {', '.join(repr(o) for o in OPERATORS)}.")
    for kind in ((kinds,) if isinstance(kinds, str) else kinds or ()):
        if kind not in KINDS:
            raise ValueError(f"Unknown concept kind {kind!r}. Available: {', '.join(repr(k) for k in KINDS)}.")


def _check_columns(ds, where: str, caption_column: str, image_column: str | None, group_column: str | None):
    """Check the columns of one split; rename the image column to ``image``."""
    names = _column_names(ds)
    if names is None:  # an iterable dataset of unknown features: the map checks each batch
        rename = image_column not in (None, IMAGE)
        return (ds.rename_column(image_column, IMAGE) if rename else ds), rename
    available = f"Available: {sorted(names)}."
    if caption_column not in names:
        raise KeyError(f"Caption column {caption_column!r} not found in {where}. {available} Pass `caption_column=`.")
    feature = ds.features[caption_column] if ds.features is not None else None
    if feature is not None and _is_list_feature(feature):
        raise ValueError(
            f"Caption column {caption_column!r} of {where} holds lists of captions ({feature}); build_dataset "
            "needs one caption per row. Load the data with iccc.dataset.load_captions(..., explode=True), which "
            "gives one row per caption and keeps the image id for the sibling-caption guard."
        )
    if group_column is not None and group_column not in names:
        raise KeyError(f"Group column {group_column!r} not found in {where}. {available}")
    has_image = image_column is not None and image_column in names
    if image_column is not None and not has_image and image_column != IMAGE:
        raise KeyError(f"Image column {image_column!r} not found in {where}. {available} Pass `image_column=None` "
                       "for a dataset without images.")
    rename = has_image and image_column != IMAGE
    written = output_columns(caption_column) + [ROW_COLUMN] + ([IMAGE] if rename else [])
    clash = [c for c in written if c in names]
    if clash:
        raise ValueError(
            f"{where} already has column(s) {clash} that build_dataset writes; rename or remove them first "
            f"(ds.rename_column(old, new) / ds.remove_columns([...]))."
        )
    if (columns.CONCEPTS in names) != (columns.PARSE_STATUS in names):
        have = columns.CONCEPTS if columns.CONCEPTS in names else columns.PARSE_STATUS
        raise ValueError(
            f"{where} has a {have!r} column but not both {columns.CONCEPTS!r} and {columns.PARSE_STATUS!r} "
            "(what iccc.add_concepts adds); rename or remove it first."
        )
    if rename:
        ds = ds.rename_column(image_column, IMAGE)
    return ds, rename


# ------------------------------------------------------------------------------------ parsing and the base
def _add_concepts(ds, caption_column, nlp, batch_size, num_proc, load_from_cache_file):
    from ..parsing import add_concepts

    kwargs = {}
    if load_from_cache_file is not None and hasattr(ds, "cache_files"):
        kwargs["load_from_cache_file"] = load_from_cache_file
    return add_concepts(ds, caption_column=caption_column, nlp=nlp, batch_size=batch_size, num_proc=num_proc, **kwargs)


def _undecoded(ds):
    """An ``IterableDataset`` with its media features (Image, Audio, ...) not decoded, and the
    features to cast it back to (``None`` when nothing needed switching off)."""
    from dataclasses import is_dataclass, replace

    from datasets import Features

    features = ds.features
    if features is None:
        return ds, None
    undecoded = {name: replace(f, decode=False) for name, f in features.items()
                 if is_dataclass(f) and getattr(f, "decode", None) is True}
    if not undecoded:
        return ds, None
    return ds.cast(Features({**features, **undecoded})), dict(features)


_NO_CONCEPTS = (
    "No caption in column {caption_column!r} has concepts to corrupt, so no correction sample can be made. "
    "Check `caption_column` (one English caption per row), pass a built `concepts` base, or pass "
    "p_correction=0 for captioning samples only."
)


def _checked_base(parsed, *, needed: bool, caption_column, **kwargs) -> ConceptBase:
    base = concept_base(parsed, caption_column=caption_column, **kwargs)
    if needed and not base.kinds():
        raise ValueError(_NO_CONCEPTS.format(caption_column=caption_column))
    return base


@fewer_collections()
def concept_base(
    parsed: Sequence,
    *,
    caption_column: str = columns.CAPTION,
    group_column: str | None = None,
    base_rows: int | None = None,
    balance: bool = True,
    balance_rows: int = BALANCE_ROWS,
    seed: int = 0,
    corrupt_config: dict | None = None,
    mix_calibration: bool = True,
    num_proc: int | None = None,
) -> ConceptBase:
    """The concept base of datasets with a ``concepts`` column (see :func:`iccc.add_concepts`).

    Reads ``base_rows`` rows (default: every row of a ``Dataset``, the first 100,000 of an
    ``IterableDataset``) over all the datasets given, and with ``balance`` applies
    :func:`iccc.balance.balance_insertions` on an even sample of at most ``balance_rows`` of them.
    With ``mix_calibration`` (even without ``balance``) the same sample calibrates the mix
    (:func:`iccc.balance.calibrate_mix`: which operations can edit which captions, so that each
    operation gets its share of the corrections). Only the caption, ``concepts`` and group
    columns are read. ``num_proc``: processes to count, calibrate and balance in (forked:
    :mod:`iccc._workers`; the same base with any number, counted from contiguous pieces of the
    rows absorbed in order).

    >>> import iccc
    >>> from datasets import Dataset
    >>> ds = iccc.add_concepts(Dataset.from_dict({"caption": ["A red car.", "A blue bus."]}))
    >>> concept_base([ds], balance=False).count("noun", "car")
    1
    """
    from datasets import Dataset

    cols = [caption_column, columns.CONCEPTS] + ([group_column] if group_column else [])
    sources, total, streamed = [], 0, False
    for ds in parsed:
        if isinstance(ds, Dataset):
            n = len(ds) if base_rows is None else min(len(ds), base_rows)
            source = ds.select_columns(cols)
            sources.append(source if n == len(ds) else source.select(range(n)))
            total += n
        else:  # a stream: its length is unknown, the balancing sample is its first rows
            source = ds.select_columns(cols) if hasattr(ds, "select_columns") else ds
            sources.append(source.take(base_rows or STREAM_BASE_ROWS))
            streamed = True
    stride = 1 if streamed else max(1, ceil(total / balance_rows))
    sampled = balance or mix_calibration
    job = _CountJob(sources, caption_column, group_column, stride if sampled else 0, balance_rows)
    pieces = [(0, None)] if streamed else _pieces(total, workers(num_proc, total // MIN_WORKER_ROWS))
    parts = fork_map(job, pieces, num_proc)
    base, sample, sample_groups = parts[0]
    for other, more, more_groups in parts[1:]:
        base._absorb(other)
        sample += more
        sample_groups += more_groups
    if sample and base.kinds() and (balance or mix_calibration):
        from ..balance import balance_insertions, calibrate_mix

        if balance:
            balance_insertions(base, sample, groups=sample_groups, seed=seed, mix_calibration=mix_calibration,
                               num_proc=num_proc, **(corrupt_config or {}))
        else:
            calibrate_mix(base, sample, groups=sample_groups,
                          same_category=(corrupt_config or {}).get("same_category", True), num_proc=num_proc)
    return base


#: Rows below which counting the base is not worth a worker process.
MIN_WORKER_ROWS = 5_000


def _pieces(total: int, parts: int) -> list[tuple[int, int]]:
    return [(r.start, r.stop) for r in chunks(total, parts)]


class _CountJob:
    """Counts rows ``[lo, hi)`` of the concatenated sources into a base of their own, with the
    captions of the balancing sample among them (every ``stride``-th row with concepts, counted
    from the first row of all; ``stride`` 0: none; ``hi`` None: every row, a stream's sample being
    its first ``balance_rows``)."""

    def __init__(self, sources, caption_column, group_column, stride, balance_rows):
        self.sources, self.caption_column, self.group_column = sources, caption_column, group_column
        self.stride, self.balance_rows = stride, balance_rows

    def __call__(self, piece):
        lo, hi = piece
        caption_column, group_column, stride = self.caption_column, self.group_column, self.stride
        base = ConceptBase()
        sample, sample_groups, i = [], [], 0
        for source in self.sources:
            if hi is not None:
                n = len(source)
                if i + n <= lo or i >= hi:
                    i += n
                    continue
                a, b = max(lo, i) - i, min(hi, i + n) - i
                if (a, b) != (0, n):
                    source = source.select(range(a, b))
                i += a
            for batch in source.iter(batch_size=1000):
                groups = batch[group_column] if group_column else [None] * len(batch[caption_column])
                for text, found, group in zip(batch[caption_column], batch[columns.CONCEPTS], groups):
                    row = ParsedCaption.from_dict({"text": text if isinstance(text, str) else "",
                                                   "concepts": found or ()})
                    base.add(row, group=group)
                    if stride and i % stride == 0 and len(sample) < self.balance_rows and found:
                        sample.append(row)
                        sample_groups.append(group)
                    i += 1
            if hi is not None and i >= hi:
                break
        return base, sample, sample_groups


# ------------------------------------------------------------------------------------ the three ways
def _map_kwargs(load_from_cache_file) -> dict:
    return {} if load_from_cache_file is None else {"load_from_cache_file": load_from_cache_file}


def _usable_targets(targets) -> list[bool]:
    return [t is not None for t in targets]


def _output_features(ds_features, builder: SampleBuilder):
    from datasets import Features

    features = {**ds_features, **builder.features()}
    for name in builder.hidden:
        features.pop(name, None)
    return Features(features)


def _empty(ds, builder: SampleBuilder):
    """The build of an empty ``Dataset``: no rows, every output column."""
    from datasets import Dataset

    features = _output_features(ds.features, builder)
    return Dataset.from_dict({name: [] for name in features}, features=features)


def _materialize(ds, builder: SampleBuilder, batch_size, num_proc, load_from_cache_file, drop_unusable=False):
    out = ds.map(builder, batched=True, batch_size=batch_size, with_indices=True,
                 input_columns=builder.input_columns, remove_columns=list(builder.hidden) or None,
                 features=_output_features(ds.features, builder), num_proc=num_proc, desc="Building ICCC samples",
                 **_map_kwargs(load_from_cache_file))
    if drop_unusable:
        out = out.filter(_usable_targets, input_columns=[TARGET], batched=True, batch_size=batch_size,
                         num_proc=num_proc, desc="Dropping rows without a usable caption",
                         **_map_kwargs(load_from_cache_file))
    return out


def _row_ids(captions, indices):
    return {ROW_COLUMN: list(indices)}


def _on_the_fly(ds, builder: SampleBuilder, batch_size, num_proc, load_from_cache_file, drop_unusable=False):
    from datasets import Features, Value

    from ._view import on_the_fly

    ds = ds.map(_row_ids, batched=True, batch_size=batch_size, with_indices=True,
                input_columns=[builder.caption_column], features=Features({**ds.features, ROW_COLUMN: Value("int64")}),
                num_proc=num_proc, desc="Indexing rows", **_map_kwargs(load_from_cache_file))
    if drop_unusable:  # the rows keep their ids, so the others draw what the full build draws
        keep = [i for i, caption in enumerate(ds.select_columns([builder.caption_column])[builder.caption_column])
                if usable_caption(caption)]
        if len(keep) < len(ds):
            ds = ds.select(keep)
    return on_the_fly(ds.with_transform(builder.transform, columns=builder.input_columns + [ROW_COLUMN],
                                        output_all_columns=True))


def _build_iterable(ds, builder: SampleBuilder, batch_size, recast, drop_unusable=False):
    from datasets import Features

    from ._epochs import hook_iterable

    features = None
    if ds.features is not None:
        features = _output_features(ds.features, builder)
    out = ds.map(builder, batched=True, batch_size=batch_size, with_indices=True, input_columns=builder.input_columns,
                 remove_columns=list(builder.hidden) or None, features=features)
    if not hook_iterable(out, builder):
        warnings.warn(
            "This version of `datasets` is laid out differently: IterableDataset.set_epoch will not draw new "
            "corruptions. Build again with another `epoch` for each epoch.", RuntimeWarning, stacklevel=3)
    if recast:
        feats = dict(out.features)
        feats.update({k: v for k, v in recast.items() if k in feats})
        out = out.cast(Features(feats))
    if drop_unusable:
        out = out.filter(_usable_targets, input_columns=[TARGET], batched=True, batch_size=batch_size)
    return out
