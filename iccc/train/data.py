"""Training data: loading the ICCC dataset, opening images, and the collator that masks the prompt.

The collator is the architecture-sensitive part. It never guesses where the prompt ends inside one
tokenisation of prompt + answer; it tokenises them separately and concatenates:

- the prompt goes through the *processor* together with the image, so every architecture's image-token
  handling applies unchanged (BLIP-2/InstructBLIP prepend ``num_query_tokens`` image tokens, LLaVA and
  Qwen2-VL expand one ``<image>`` placeholder into one token per visual feature);
- the answer goes through the *tokenizer* alone (no special tokens added), followed by the end token.

With a chat template the prompt is the rendered user turn plus the generation prompt, and the answer is
whatever the template writes for the assistant turn after that (cut after the end-of-sequence token), so
the answer formatting is the template's own. Without one, the answer is ``" " + target + eos``.
Labels are ``-100`` on every prompt, image and padding position, so the loss covers the answer only.
"""

from __future__ import annotations

import io
import os

PER_TOKEN_KEYS = ("token_type_ids", "mm_token_type_ids")


def open_image(value, base_dir=None):
    """A PIL RGB image from a PIL image, a path, a ``{"bytes", "path"}`` dict or raw bytes."""
    from PIL import Image

    if isinstance(value, Image.Image):
        image = value
    elif isinstance(value, dict):
        if value.get("bytes"):
            image = Image.open(io.BytesIO(value["bytes"]))
        elif value.get("path"):
            return open_image(value["path"], base_dir)
        else:
            raise ValueError(f"Image dict has neither 'bytes' nor 'path': {sorted(value)}.")
    elif isinstance(value, (bytes, bytearray)):
        image = Image.open(io.BytesIO(value))
    elif isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not os.path.exists(path) and base_dir is not None and os.path.exists(os.path.join(base_dir, path)):
            path = os.path.join(base_dir, path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"Image file not found: {path!r}.")
        image = Image.open(path)
    else:
        raise TypeError(f"Cannot open an image from {type(value).__name__}: expected a PIL image, a path, bytes or "
                        "a {'bytes', 'path'} dict.")
    return image.convert("RGB") if image.mode != "RGB" else image


def load_data(path: str):
    """What ``iccc build -o`` wrote: a save_to_disk folder, or a data file whose name says its
    format as :func:`iccc.io.output_kind` reads it (``.jsonl``/``.ndjson`` (``.gz``), ``.json``,
    ``.parquet``, ``.csv``/``.tsv`` (``.gz``)), as a ``datasets.Dataset`` (or ``DatasetDict``)."""
    import datasets

    from ..io import output_kind

    kind = output_kind(path, what="training data", option="data")
    if kind == "folder":
        if not os.path.isdir(path):
            raise FileNotFoundError(f"`data` {str(path)!r} does not exist (a save_to_disk folder or a data file).")
        return datasets.load_from_disk(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"`data` {str(path)!r} does not exist.")
    if kind in ("jsonl", "json"):
        return datasets.Dataset.from_json(path)
    if kind == "parquet":
        return datasets.Dataset.from_parquet(path)
    return datasets.Dataset.from_csv(path, sep="\t" if kind == "tsv" else ",")


def usable_rows(ds, *, prompt_column="prompt", target_column="target") -> tuple[list[int], int]:
    """Indices of the rows with a usable prompt and target (non-blank strings), and how many are not.

    A build keeps rows whose caption is missing, empty or not a string (``target`` None) as data;
    training skips them. Only the text columns are read (images are not decoded); for an on-the-fly
    build the caption decides (its target is None exactly when the caption is not a non-blank
    string, in every epoch), so nothing is corrupted to find out.

    >>> from datasets import Dataset
    >>> usable_rows(Dataset.from_dict({"prompt": ["p", "p", ""], "target": ["t", None, "t"]}))
    ([0], 2)
    """
    from ..dataset import find_builder

    builder = find_builder(ds)
    if builder is not None and prompt_column == "prompt" and target_column == "target":
        import datasets

        column = builder.caption_column
        raw = datasets.Dataset.with_format(ds, None).select_columns([column])
        keep, i = [], 0
        for batch in raw.iter(batch_size=2000):
            for caption in batch[column]:
                if isinstance(caption, str) and caption.strip():
                    keep.append(i)
                i += 1
        return keep, i - len(keep)
    stored = getattr(getattr(ds, "data", None), "column_names", None) or ()
    if prompt_column in stored and target_column in stored:
        # the stored texts, read without any user transform (it may need other columns, and the
        # training loop should be the first to fetch rows through it)
        import datasets

        raw = datasets.Dataset.with_format(ds, None).select_columns([prompt_column, target_column])
        batches = raw.iter(batch_size=2000)
    else:  # the texts exist only through a transform: read its rows
        batches = (ds[i:i + 500] for i in range(0, len(ds), 500))
    keep, skipped, i = [], 0, 0
    for batch in batches:
        for prompt, target in zip(batch[prompt_column], batch[target_column]):
            if isinstance(prompt, str) and prompt.strip() and isinstance(target, str) and target.strip():
                keep.append(i)
            else:
                skipped += 1
            i += 1
    return keep, skipped


def drop_unusable(ds, *, prompt_column="prompt", target_column="target"):
    """``(ds without the rows usable_rows rejects, how many it left out)``; ``ds`` itself when none."""
    keep, skipped = usable_rows(ds, prompt_column=prompt_column, target_column=target_column)
    return (ds.select(keep) if skipped else ds), skipped


def load_splits(cfg, *, skipped: dict | None = None):
    """``(train, eval_or_None, base_dir)`` from ``cfg.data`` following the split options of ``cfg``.

    ``cfg.data`` is a ``Dataset``/``DatasetDict``, a save_to_disk directory or a data file
    (:func:`load_data`). Rows without a usable prompt or target (a build's rows whose caption is
    missing, empty or not a string) are skipped: a line says how many, and ``skipped`` (a dict,
    when given) gets ``{"train": n, "eval": m}``.
    """
    import datasets

    base_dir = None
    data = cfg.data
    if isinstance(data, (str, os.PathLike)):
        data = os.fspath(data)
        if not os.path.exists(data):
            raise FileNotFoundError(f"`data` directory not found: {data!r} (expected a datasets save_to_disk "
                                    "directory, or a data file: .jsonl/.ndjson, .json, .parquet, .csv/.tsv, "
                                    "optionally .gz).")
        base_dir = data if os.path.isdir(data) else os.path.dirname(os.path.abspath(data))
        data = load_data(data)
    evaluation = None
    if isinstance(data, datasets.DatasetDict):
        if cfg.train_split not in data:
            raise KeyError(f"`train_split` {cfg.train_split!r} not in the dataset. Splits: {sorted(data)}.")
        train = data[cfg.train_split]
        if cfg.eval_split is not None and cfg.eval_split in data:
            evaluation = data[cfg.eval_split]
    elif isinstance(data, datasets.Dataset):
        train = data
    else:
        raise TypeError(f"`data` should hold a datasets.Dataset or DatasetDict, got {type(data).__name__}.")
    check_columns(train, cfg)
    text = dict(prompt_column=cfg.prompt_column, target_column=cfg.target_column)
    counts = {"train": 0, "eval": 0}
    total = len(train)
    train, counts["train"] = drop_unusable(train, **text)
    if counts["train"] and len(train) == 0:
        raise ValueError(f"The training split has no usable rows: all {total} lack a prompt or target (a build's rows "
                         "whose caption is missing, empty or not a string).")
    if evaluation is None and cfg.eval_fraction > 0:
        if len(train) < 2:
            raise ValueError(f"`eval_fraction` {cfg.eval_fraction} needs at least 2 training rows, got {len(train)}.")
        parts = train.train_test_split(test_size=cfg.eval_fraction, seed=cfg.seed, shuffle=True)
        train, evaluation = parts["train"], parts["test"]
    elif evaluation is not None:
        check_columns(evaluation, cfg)
        evaluation, counts["eval"] = drop_unusable(evaluation, **text)
    if len(train) == 0:
        raise ValueError("The training split has no rows.")
    if counts["train"] or counts["eval"]:
        where = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
        if os.environ.get("RANK", "0") == "0" and os.environ.get("LOCAL_RANK", "0") == "0":
            print(f"Skipped rows without a usable prompt or target (missing, empty or non-string caption): {where}.")
    if skipped is not None:
        skipped.update(counts)
    return train, evaluation, base_dir


def has_column(ds, name) -> bool:
    """Whether rows of ``ds`` have ``name``, also when a transform (an on-the-fly build) produces it."""
    if name in ds.column_names:
        return True
    return bool(len(ds)) and ds.format.get("type") == "custom" and name in ds[0]


def check_columns(ds, cfg=None, *, image_column="image", prompt_column="prompt", target_column="target"):
    if cfg is not None:
        image_column, prompt_column, target_column = cfg.image_column, cfg.prompt_column, cfg.target_column
    missing = [c for c in (image_column, prompt_column, target_column) if not has_column(ds, c)]
    if missing:
        raise KeyError(f"Dataset lacks column(s) {missing}. Columns: {ds.column_names}. Build it with "
                       "iccc.build_dataset or set image_column/prompt_column/target_column.")


class RowDataset:
    """A map-style torch dataset over ``indices`` of a HF dataset: ``{"image", "prompt", "target"}`` rows."""

    def __init__(self, ds, indices=None, *, image_column="image", prompt_column="prompt", target_column="target",
                 base_dir=None):
        self.ds = ds
        self.indices = list(range(len(ds))) if indices is None else [int(i) for i in indices]
        self.columns = (image_column, prompt_column, target_column)
        self.base_dir = base_dir

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        index = self.indices[i]
        row = self.ds[index]
        image_column, prompt_column, target_column = self.columns
        try:
            image = open_image(row[image_column], self.base_dir)
        except (OSError, TypeError, ValueError) as err:
            raise type(err)(f"Row {index}: cannot open column {image_column!r}: {err}") from err
        prompt, target = row[prompt_column], row[target_column]
        for name, value in ((prompt_column, prompt), (target_column, target)):
            if not isinstance(value, str):
                raise TypeError(f"Row {index}: column {name!r} should hold a string, got {value!r}.")
        return {"image": image, "prompt": prompt, "target": target}


def _eos_text(tokenizer):
    return tokenizer.eos_token or ""


class Collator:
    """Batches ``{"image", "prompt", "target"}`` rows into model inputs with prompt-masked labels.

    Args:
        processor: the model's processor (image processor + tokenizer, optional chat template).
        max_length: answers are cut so that prompt + answer fit; prompts (with image tokens) are never cut.
        padding_side: ``"right"`` for training, ``"left"`` for generation.
        seq2seq: encoder-decoder language model (e.g. BLIP-2 Flan-T5): the answer becomes ``labels`` only.

    Rows whose ``target`` is None are encoded as prompts only (for generation).
    """

    def __init__(self, processor, *, max_length=512, padding_side="right", seq2seq=False, use_chat_template=None):
        if padding_side not in ("left", "right"):
            raise ValueError(f"`padding_side` should be 'left' or 'right', got {padding_side!r}.")
        self.processor = processor
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.max_length = max_length
        self.padding_side = padding_side
        self.seq2seq = seq2seq
        has_template = bool(getattr(processor, "chat_template", None))
        self.use_chat_template = has_template if use_chat_template is None else use_chat_template
        if self.tokenizer.pad_token_id is None:
            raise ValueError("The tokenizer has no pad token; set one (e.g. tokenizer.pad_token = tokenizer.eos_token).")

    # -- text ---------------------------------------------------------------------------------------------
    def prompt_text(self, prompt: str) -> str:
        if not self.use_chat_template:
            return prompt
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def answer_text(self, prompt: str, target: str) -> str:
        eos = _eos_text(self.tokenizer)
        if self.seq2seq:
            return target + eos
        if not self.use_chat_template:
            sep = "" if not prompt or prompt[-1].isspace() else " "
            return sep + target + eos
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]},
                    {"role": "assistant", "content": [{"type": "text", "text": target}]}]
        full = self.processor.apply_chat_template(messages, tokenize=False)
        head = self.prompt_text(prompt)
        if not full.startswith(head):
            return target + eos
        answer = full[len(head):]
        if eos and eos in answer:
            answer = answer[: answer.rindex(eos) + len(eos)]
        elif eos:
            answer = answer.rstrip() + eos
        return answer

    # -- batch --------------------------------------------------------------------------------------------
    def __call__(self, rows):
        import torch

        if not rows:
            raise ValueError("Cannot collate an empty batch.")
        images = [open_image(r["image"]) for r in rows]
        prompts = [r["prompt"] for r in rows]
        for p in prompts:
            if not isinstance(p, str):
                raise TypeError(f"Prompt should be a string, got {type(p).__name__}: {p!r}.")
        enc = self.processor(images=images, text=[self.prompt_text(p) for p in prompts], padding=True,
                             return_tensors="pt")
        mask = enc["attention_mask"].bool()
        prompt_ids = [enc["input_ids"][i][mask[i]] for i in range(len(rows))]
        targets = [r.get("target") for r in rows]
        answers = []
        for p, t in zip(prompts, targets):
            if t is None:
                answers.append([])
            else:
                if not isinstance(t, str):
                    raise TypeError(f"Target should be a string, got {type(t).__name__}: {t!r}.")
                answers.append(self.tokenizer(self.answer_text(p, t), add_special_tokens=False)["input_ids"])
        pad = self.tokenizer.pad_token_id
        out = {k: v for k, v in enc.items() if k not in ("input_ids", "attention_mask") and k not in PER_TOKEN_KEYS}
        if self.seq2seq:
            out.update(self._pad([ids.tolist() for ids in prompt_ids], pad))
            extra = {k: [enc[k][i][mask[i]].tolist() for i in range(len(rows))] for k in PER_TOKEN_KEYS if k in enc}
            for k, seqs in extra.items():
                out[k] = self._pad(seqs, 0)["input_ids"]
            if any(answers):
                labels = self._pad([a[: self.max_length] for a in answers], -100, side="right")["input_ids"]
                out["labels"] = labels
            return out
        seqs, labels, extras = [], [], {k: [] for k in PER_TOKEN_KEYS if k in enc}
        for i, ids in enumerate(prompt_ids):
            ids = ids.tolist()
            room = max(self.max_length - len(ids), 0)
            answer = answers[i][:room]
            seqs.append(ids + answer)
            labels.append([-100] * len(ids) + answer)
            for k in extras:
                extras[k].append(enc[k][i][mask[i]].tolist() + [0] * len(answer))
        padded = self._pad(seqs, pad)
        out["input_ids"] = padded["input_ids"]
        out["attention_mask"] = padded["attention_mask"]
        for k, values in extras.items():
            out[k] = self._pad(values, 0)["input_ids"]
        if any(answers):
            out["labels"] = self._pad(labels, -100)["input_ids"]
        return {k: (v if isinstance(v, torch.Tensor) else torch.as_tensor(v)) for k, v in out.items()}

    def _pad(self, seqs, value, side=None):
        import torch

        side = side or self.padding_side
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), value, dtype=torch.long)
        att = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            if not s:
                continue
            if side == "right":
                ids[i, : len(s)] = torch.as_tensor(s)
                att[i, : len(s)] = 1
            else:
                ids[i, width - len(s):] = torch.as_tensor(s)
                att[i, width - len(s):] = 1
        return {"input_ids": ids, "attention_mask": att}
