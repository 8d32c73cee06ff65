"""``build_summary``: what a build holds (task mix, operations, statuses, examples), for people and the CLI.

The phenomena mix is reported as requested vs achieved share per operation, with the reason for
any shortfall (:meth:`iccc.corrupt.MixPlan.explain`): the plan comes from an on-the-fly build's
builder, from what :func:`iccc.build_dataset` remembered of a materialised build made in this
process (keyed by its content fingerprint), or from ``mix=``.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from .. import columns
from ..phenomena import phenomena_counts
from ._checks import check_count, check_positive
from ._samples import (
    BUILD_STATUS,
    CONCEPT_KIND,
    NO_OPERATION,
    OPERATION,
    PROMPT,
    ROW_COLUMN,
    TARGET,
    TASK,
    TASK_CAPTION,
    TASK_CORRECTION,
    UNUSABLE,
    find_builder,
)

_READ = (TASK, OPERATION, CONCEPT_KIND, BUILD_STATUS, PROMPT, TARGET)
#: Rows read from an ``IterableDataset`` when ``limit`` is None (a stream may not end).
STREAM_LIMIT = 10_000
#: Characters of a prompt or target shown in a summary's examples (longer ones end in "…").
EXAMPLE_CHARS = 200
IMAGE = columns.IMAGE
#: Materialised builds whose mix is remembered (the most recent ones), by dataset fingerprint.
MIXES_KEPT = 64
_MIXES: dict = {}


def _plan_of(builder) -> Any:
    """The :class:`iccc.corrupt.MixPlan` of a :class:`SampleBuilder` (``None``: no corrections,
    or a streamed base not built yet)."""
    from ..base import ConceptBase
    from ..corrupt import Corruptor

    base = builder._concepts
    if builder.p_correction <= 0 or not isinstance(base, ConceptBase) or not base.kinds():
        return None
    return Corruptor(base, **builder.corrupt_config).mix


def remember_mix(ds, builder) -> None:
    """Remember the mix plan of ``builder`` for the materialised build ``ds`` (see :func:`build_summary`)."""
    key = getattr(ds, "_fingerprint", None)
    plan = _plan_of(builder)
    if key is None or plan is None:
        return
    if len(_MIXES) >= MIXES_KEPT:
        del _MIXES[next(iter(_MIXES))]
    _MIXES[key] = plan


def _mix_plan(ds, mix) -> Any:
    from ..corrupt import Corruptor, MixPlan, requested_shares

    if mix is None:
        builder = find_builder(ds)
        if builder is not None:
            return _plan_of(builder)
        return _MIXES.get(getattr(ds, "_fingerprint", None))
    if isinstance(mix, MixPlan):
        return mix
    if isinstance(mix, Corruptor):
        return mix.mix
    if isinstance(mix, dict):
        return MixPlan(requested_shares(list(mix), mix=mix))
    raise TypeError(f"`mix` should be an iccc.corrupt.MixPlan, a Corruptor, a dict {{operation: share}} or None, "
                    f"got {type(mix).__name__}: {mix!r:.80}.")


def mix_report(operations: dict, plan: Any = None) -> dict[str, Any]:
    """The ``mix`` entry of a summary: per operation ``requested`` (``None`` when unknown),
    ``achieved`` (share of the corrupted captions), ``feasible`` (share of the calibration
    captions it can edit, ``None`` when unknown), and ``lines``: why a share falls short.

    >>> mix_report({"replace": 9, "swap": 1})["operations"]["swap"]
    {'requested': None, 'achieved': 0.1, 'feasible': None}
    """
    total = sum(operations.values())
    achieved = {op: n / total for op, n in operations.items()} if total else {}
    names = list(plan.operations) if plan is not None else []
    names += [op for op in achieved if op not in names]
    out = {op: {"requested": plan.requested.get(op) if plan is not None else None,
                "achieved": achieved.get(op, 0.0),
                "feasible": (plan.feasible or {}).get(op) if plan is not None else None} for op in names}
    lines = []
    if plan is not None and total:
        reasons = plan.reasons(achieved)
        lines = [line for op, line in zip(plan.operations, plan.explain(achieved)) if op in reasons]
    return {"operations": out, "calibrated": bool(plan is not None and plan.calibrated), "lines": lines}


class BuildSummary(dict):
    """What :func:`build_summary` returns: a plain ``dict`` of counts that prints as text
    (``str(summary)`` is :func:`format_summary`), so ``print(build_summary(ds))`` reads well."""

    def __str__(self) -> str:
        return format_summary(self)


def shorten(text, limit: int = EXAMPLE_CHARS):
    """``text`` cut to ``limit`` characters, ending in "…" when cut (non-strings unchanged).

    >>> shorten("a" * 300)[-3:], len(shorten("a" * 300))
    ('aa…', 201)
    """
    if not isinstance(text, str) or len(text) <= limit:
        return text
    return text[:limit].rstrip() + "…"


def build_summary(ds, *, examples: int = 3, limit: int | None = None, mix: Any = None) -> BuildSummary:
    """Counts and examples of a build made by :func:`iccc.build_dataset`.

    Returns a dict: ``rows``; ``tasks`` (``correction``/``caption`` counts); ``correction_share``;
    ``correct_captions`` (correction prompts with an uncorrupted caption); ``fallbacks`` (rows drawn
    for correction that became captioning samples, by status); ``unusable`` (rows without a
    target); ``statuses``; ``operations``; ``kinds``; ``edits`` (``"replace noun"``: count);
    ``swap_share`` (of the corruptions); ``phenomena`` (the edits by benchmark phenomenon,
    :data:`iccc.phenomena.PHENOMENA`); ``mix`` (the phenomena mix, :func:`mix_report`: requested
    and achieved share of each operation and why a share falls short; the requested shares are
    known for an on-the-fly build, a build made in this process, or when ``mix`` gives them: a
    :class:`iccc.corrupt.MixPlan`, a :class:`iccc.Corruptor` or ``{operation: share}``);
    ``examples`` (a few correction samples, then one captioning
    sample, as ``{"task", "prompt", "target"}``, each text cut to 200 characters ending in "…");
    ``images`` (when there is an ``image`` column: ``{"rows", "none", "missing", "first_missing"}``,
    image paths checked for an existing file, embedded images count as present). For a
    ``DatasetDict``: ``{"splits": {name: ...}}``. Only the text columns and the image paths are
    read (images are not decoded); an on-the-fly build is summarised at its current epoch; an
    ``IterableDataset`` over its first ``limit`` rows (default 10,000).

    The result is a :class:`BuildSummary`, a ``dict`` whose ``str()`` is :func:`format_summary`.

    >>> import iccc
    >>> from datasets import Dataset
    >>> from iccc.dataset import build_dataset
    >>> out = build_dataset(Dataset.from_list(iccc.sample_captions()), group_column="image_id")
    >>> s = build_summary(out)
    >>> s["rows"] == len(out), sum(s["tasks"].values()) == s["rows"]
    (True, True)
    """
    from datasets import Dataset, DatasetDict, IterableDataset, IterableDatasetDict

    examples = check_count("examples", examples)
    limit = check_positive("limit", limit, optional=True)
    if isinstance(ds, (DatasetDict, IterableDatasetDict)):
        return BuildSummary(splits={name: build_summary(split, examples=examples, limit=limit)
                                    for name, split in ds.items()})
    if not isinstance(ds, (Dataset, IterableDataset)):
        raise TypeError(f"`ds` should be a dataset made by iccc.build_dataset, got {type(ds).__name__}: {ds!r:.80}.")
    summary = BuildSummary(_summarise(_batches(ds, limit), examples))
    summary["mix"] = mix_report(summary["operations"], _mix_plan(ds, mix))
    summary["phenomena"] = phenomena_counts(summary["edits"])
    images = image_check(ds, limit)
    if images is not None:
        summary["images"] = images
    return summary


def image_check(ds, limit: int | None = None) -> dict[str, Any] | None:
    """Image files of a dataset: ``{"rows", "none", "missing", "first_missing"}`` (``None`` when it
    has no ``image`` column). Paths (strings, or the path of an ``Image`` feature without bytes)
    are checked for an existing file; nothing is decoded. An ``IterableDataset`` is checked over
    its first ``limit`` rows (default 10,000)."""
    from dataclasses import replace

    from datasets import Dataset, Image, IterableDataset, Value

    features = ds.features
    if features is None or IMAGE not in features:
        return None
    feature = features[IMAGE]
    is_path = isinstance(feature, Value) and feature.dtype in ("string", "large_string")
    if not is_path and not isinstance(feature, Image):
        return None
    view = Dataset.with_format(ds, None) if isinstance(ds, Dataset) else ds
    view = view.select_columns([IMAGE])
    if isinstance(feature, Image):
        view = view.cast_column(IMAGE, replace(feature, decode=False))
    if isinstance(ds, IterableDataset):
        view = view.take(limit or STREAM_LIMIT)
    elif limit is not None:
        view = view.select(range(min(limit, len(view))))
    rows = none = missing = 0
    first = None
    for batch in view.iter(batch_size=2000):
        for value in batch[IMAGE]:
            rows += 1
            if isinstance(value, dict):
                if value.get("bytes"):
                    continue
                value = value.get("path")
            if not isinstance(value, str) or not value:
                none += 1
            elif "://" not in value and not os.path.isfile(value):
                missing += 1
                first = first or value
    return {"rows": rows, "none": none, "missing": missing, "first_missing": first}


def _batches(ds, limit):
    from datasets import IterableDataset

    builder = find_builder(ds)
    if builder is not None:  # on the fly: run the transform on the raw text columns only
        raw = ds.with_format(None).select_columns(builder.input_columns + [ROW_COLUMN])
        if limit is not None:
            raw = raw.select(range(min(limit, len(raw))))
        for batch in raw.iter(batch_size=2000):
            yield builder.build(batch, batch[ROW_COLUMN])
        return
    names = ds.column_names
    if names is not None:
        missing = [c for c in _READ if c not in names]
        if missing:
            raise ValueError(f"`ds` has no {missing} column(s): is it a dataset made by iccc.build_dataset? "
                             f"Columns: {sorted(names)}.")
        ds = ds.select_columns(list(_READ))
    if isinstance(ds, IterableDataset):
        ds = ds.take(limit or STREAM_LIMIT)
    elif limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    yield from ds.iter(batch_size=2000)


def _summarise(batches, n_examples: int) -> dict[str, Any]:
    rows = 0
    tasks, statuses, operations, kinds, edits, fallbacks = (Counter() for _ in range(6))
    correct_captions = unusable = 0
    shown, caption_example = [], None
    for batch in batches:
        for task, op, kind, status, prompt, target in zip(*(batch[c] for c in _READ)):
            rows += 1
            tasks[task] += 1
            statuses[status] += 1
            if target is None:
                unusable += 1
            elif task == TASK_CAPTION and status != "ok":
                fallbacks[status] += 1
            if task == TASK_CORRECTION and op == NO_OPERATION:
                correct_captions += 1
            elif task == TASK_CORRECTION:
                operations[op] += 1
                kinds[kind] += 1
                edits[f"{op} {kind}"] += 1
            example = {TASK: task, PROMPT: shorten(prompt), TARGET: shorten(target)}
            if task == TASK_CORRECTION and len(shown) < n_examples:
                shown.append(example)
            elif task == TASK_CAPTION and caption_example is None and target is not None:
                caption_example = example
    corruptions = sum(operations.values())
    return {
        "rows": rows,
        "tasks": {t: tasks.get(t, 0) for t in (TASK_CORRECTION, TASK_CAPTION)},
        "correction_share": tasks.get(TASK_CORRECTION, 0) / rows if rows else 0.0,
        "correct_captions": correct_captions,
        "fallbacks": dict(fallbacks.most_common()),
        "unusable": unusable,
        "statuses": dict(statuses.most_common()),
        "operations": dict(operations.most_common()),
        "kinds": dict(kinds.most_common()),
        "edits": dict(edits.most_common()),
        "swap_share": operations.get("swap", 0) / corruptions if corruptions else 0.0,
        "examples": shown + ([caption_example] if caption_example and n_examples else []),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as text (what ``iccc build`` prints, and ``str(build_summary(ds))``).

    Example texts are cut to 200 characters (ending in "…") and shown on one line each. Optional
    keys a caller may add: ``dropped`` (rows left out by ``drop_unusable``).

    >>> print(format_summary({"rows": 0, "tasks": {}, "correction_share": 0.0, "correct_captions": 0,
    ...                       "fallbacks": {}, "unusable": 0, "statuses": {}, "operations": {}, "kinds": {},
    ...                       "edits": {}, "swap_share": 0.0, "examples": []}))
    Rows: 0 (correction 0.0%: 0, caption 0)
    """
    if "splits" in summary:
        return "\n".join(f"[{name}]\n{format_summary(s)}" for name, s in summary["splits"].items())
    tasks = summary["tasks"]
    lines = [f"Rows: {summary['rows']} (correction {summary['correction_share']:.1%}: "
             f"{tasks.get(TASK_CORRECTION, 0)}, caption {tasks.get(TASK_CAPTION, 0)})"]
    if summary["correct_captions"]:
        lines.append(f"Correction prompts with a correct caption: {summary['correct_captions']}")
    if summary["fallbacks"]:
        n = sum(summary["fallbacks"].values())
        lines.append(f"Drawn for correction, became captioning: {n} ("
                     + ", ".join(f"{k} {v}" for k, v in summary["fallbacks"].items()) + ")")
    if summary["unusable"]:
        bad = {k: v for k, v in summary["statuses"].items() if k in UNUSABLE}
        lines.append(f"Rows without a usable caption (target None): {summary['unusable']} ("
                     + ", ".join(f"{k} {v}" for k, v in bad.items()) + ")")
    if summary.get("dropped"):
        lines.append(f"Rows dropped without a usable caption (--drop-unusable): {summary['dropped']}")
    images = summary.get("images")
    if images and images["rows"] and images["none"] == images["rows"]:
        lines.append("Images: none (text-only rows)")
    elif images:
        line = f"Images: {images['rows'] - images['none'] - images['missing']} of {images['rows']} rows found"
        if images["missing"]:
            line += (f"; {images['missing']} image files missing (first: {shorten(images['first_missing'], 120)}; "
                     "see --image-root)")
        if images["none"]:
            line += f"; {images['none']} rows without an image"
        lines.append(line)
    if summary["edits"]:
        lines.append(f"Corruptions (swap share {summary['swap_share']:.1%}): "
                     + ", ".join(f"{k} {v}" for k, v in summary["edits"].items()))
    mix = summary.get("mix")
    if mix and mix["operations"] and summary["edits"]:
        shares = [f"{op} {m['achieved']:.1%}" + (f" (requested {m['requested']:.1%})" if m["requested"] is not None else "")
                  for op, m in mix["operations"].items()]
        lines.append("Mix: " + ", ".join(shares))
        lines += [f"  {line}" for line in mix["lines"]]
    phenomena = summary.get("phenomena")
    if phenomena:
        total = sum(phenomena.values())
        lines.append("Phenomena: " + ", ".join(f"{k} {v / total:.1%}" for k, v in phenomena.items()))
    for ex in summary["examples"]:
        lines.append(f"  [{ex[TASK]}] {_one_line(ex[PROMPT])}\n      -> {_one_line(ex[TARGET])}")
    return "\n".join(lines)


def _one_line(text) -> str:
    return str(shorten(text)).replace("\r", " ").replace("\n", " | ")
