"""``to_sft``: ICCC samples in TRL's supervised fine-tuning dataset formats.

TRL's ``SFTTrainer`` reads (among others) two shapes, both with an ``images`` list for vision
models:

* prompt-completion (``format="prompt_completion"``): ``prompt`` and ``completion``, each a list
  of messages (conversational) or, with ``conversational=False``, plain strings (the prompt then
  starts with the processor's image token, as in :func:`iccc.dataset.to_dpo`);
* conversational language modelling (``format="messages"``): ``messages``, the user turn and the
  assistant turn.

A user turn is ``[{"type": "image"}, {"type": "text", "text": prompt}]`` when the rows have
images; the assistant turn holds the target. TRL trains on the completion (the assistant turn).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from .. import columns
from ._checks import check_bool
from ._export import (
    EXPORTED,
    _finish,
    _image_refs,
    _is_image_feature,
    _wrap_images,
    resolve_image_token,
    with_image_token,
)
from ._samples import PROMPT, TARGET

IMAGE = columns.IMAGE

SFT_FORMATS = ("prompt_completion", "messages")


def to_sft(
    ds,
    *,
    format: str = "prompt_completion",
    conversational: bool = True,
    image_column: str | None = IMAGE,
    prompt_column: str = PROMPT,
    target_column: str = TARGET,
    image_features: bool = True,
    image_token: str | None = None,
    processor: Any = None,
    keep_columns: Sequence[str] = (),
    return_counts: bool = False,
    **build_options,
):
    """ICCC samples as a TRL SFT dataset (see the module docs for the two formats).

    ``ds`` is a build (``prompt`` and ``target`` columns, e.g. ``iccc build`` output) or captions:
    a dataset without ``prompt``/``target`` is built first with :func:`iccc.build_dataset` and
    ``**build_options`` (``seed``, ``p_correction``, ``concepts``, ...). Rows without a usable
    prompt or target (a build's ``missing``/``empty``/``not_string`` captions) are skipped and
    counted, so are rows without an image when others have one.

    Args:
        ds: a ``datasets.Dataset``.
        format: ``"prompt_completion"`` or ``"messages"``.
        conversational: messages (True) or plain strings (False; ``prompt_completion`` only).
        image_column: the image column (paths or an ``Image`` feature); ``None`` for text-only rows.
        prompt_column, target_column: the instruction and the answer.
        image_features: store path strings as ``datasets.Image`` (TRL then gets PIL images).
        image_token, processor: the image placeholder of standard prompts (as in ``to_dpo``).
        keep_columns: other columns to carry over (e.g. ``["task", "operation"]``).
        return_counts: also return a ``Counter`` of exported rows and skip reasons.

    >>> from datasets import Dataset
    >>> ds = Dataset.from_dict({"prompt": ["Describe the image.", "Fix: a cat."], "target": ["A dog.", None],
    ...                         "image": ["1.jpg", "2.jpg"]})
    >>> rows, counts = to_sft(ds, format="messages", image_features=False, return_counts=True)
    >>> rows[0]["messages"][1], rows[0]["images"], dict(counts)
    ({'role': 'assistant', 'content': [{'type': 'text', 'text': 'A dog.'}]}, ['1.jpg'], {'exported': 1, 'no_target': 1})
    """
    from datasets import Dataset

    if not isinstance(ds, Dataset):
        hint = " Pick a split first (ds['train'])." if type(ds).__name__.endswith("Dict") else ""
        raise TypeError(f"`ds` should be a datasets.Dataset, got {type(ds).__name__}.{hint}")
    if format not in SFT_FORMATS:
        raise ValueError(f"Unknown `format` {format!r}. Available: {', '.join(repr(f) for f in SFT_FORMATS)}.")
    for name, value in (("conversational", conversational), ("image_features", image_features),
                        ("return_counts", return_counts)):
        check_bool(name, value)
    if format == "messages" and not conversational:
        raise ValueError("`format`='messages' is conversational; use format='prompt_completion' with "
                         "conversational=False for plain strings.")
    token = resolve_image_token(image_token, processor)
    if prompt_column not in ds.column_names or target_column not in ds.column_names:
        if build_options.get("caption_column", columns.CAPTION) not in ds.column_names:
            raise KeyError(f"`ds` has neither {prompt_column!r}/{target_column!r} columns (a build) nor a caption "
                           f"column to build from. Available: {ds.column_names}.")
        from ._builder import build_dataset

        ds = build_dataset(ds, **build_options)
    elif build_options:
        raise TypeError(f"`ds` is already a build (it has {prompt_column!r} and {target_column!r}); the build options "
                        f"{sorted(build_options)} would not be used.")
    missing = [c for c in keep_columns if c not in ds.column_names]
    if missing:
        raise KeyError(f"`keep_columns` {missing} not found. Available: {ds.column_names}.")
    if image_column == IMAGE and IMAGE not in ds.column_names:
        image_column = None
    if image_column is not None and image_column not in ds.column_names:
        raise KeyError(f"`image_column` {image_column!r} not found. Available: {ds.column_names}; "
                       "pass image_column=None for text-only rows.")

    reasons = []
    for batch in ds.select_columns([prompt_column, target_column]).iter(batch_size=2000):
        for prompt, target in zip(batch[prompt_column], batch[target_column]):
            if not isinstance(prompt, str) or not prompt.strip():
                reasons.append("no_prompt")
            elif not isinstance(target, str) or not target.strip():
                reasons.append("no_target")
            else:
                reasons.append(None)
    refs = _image_refs(ds, image_column)
    feature_images = _is_image_feature(ds, image_column)
    has_images = image_column is not None and (feature_images or any(r is not None for r in refs))
    if has_images and not feature_images:
        reasons = [r if r is not None or ref is not None else "no_image" for r, ref in zip(reasons, refs)]
    keep = [i for i, r in enumerate(reasons) if r is None]
    counts = Counter({EXPORTED: len(keep)})
    counts.update(r for r in reasons if r is not None)
    rows = ds.select(keep)

    def turns(prompts, targets):
        if not conversational:
            shown = [with_image_token(p, token) for p in prompts] if has_images else list(prompts)
            return {"prompt": shown, "completion": list(targets)}
        user = [{"type": "image", "text": None}] if has_images else []
        asks = [{"role": "user", "content": user + [{"type": "text", "text": p}]} for p in prompts]
        answers = [{"role": "assistant", "content": [{"type": "text", "text": t}]} for t in targets]
        if format == "messages":
            return {"messages": [[a, b] for a, b in zip(asks, answers)]}
        return {"prompt": [[a] for a in asks], "completion": [[b] for b in answers]}

    names = ["messages"] if format == "messages" else ["prompt", "completion"]
    clash = [c for c in names + ["images"] if c in rows.column_names and c not in (prompt_column, target_column)]
    if clash:
        rows = rows.remove_columns([c for c in clash if c not in keep_columns])
    out = rows.map(turns, input_columns=[prompt_column, target_column], batched=True, desc=None,
                   remove_columns=[c for c in (prompt_column, target_column) if c not in names])
    if has_images:
        out = _wrap_images(out, image_column, image_features)
        names.append("images")
    out = out.select_columns(names + [c for c in keep_columns if c not in names])
    return _finish(out, counts, return_counts)
