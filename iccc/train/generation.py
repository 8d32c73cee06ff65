"""Running a model on rows: device and dtype placement, autocast, batching and greedy generation.

What evaluation, inference and the training loop share; it imports nothing of theirs, so each of
them can build on it. torch is imported inside the functions that need it.
"""

from __future__ import annotations


def batches(items, size):
    """Consecutive slices of ``items`` of at most ``size`` elements.

    >>> list(batches([1, 2, 3, 4, 5], 2))
    [[1, 2], [3, 4], [5]]
    """
    for i in range(0, len(items), size):
        yield items[i:i + size]


def device_dtype(model):
    """The model's device and its dominant floating dtype (that of the frozen weights, by size).

    >>> import torch
    >>> device_dtype(torch.nn.Linear(2, 2).to(torch.bfloat16))
    (device(type='cpu'), torch.bfloat16)
    """
    from collections import Counter

    sizes = Counter()
    device = None
    for p in model.parameters():
        device = device or p.device
        if p.is_floating_point():
            sizes[p.dtype] += p.numel()
    return device, sizes.most_common(1)[0][0] if sizes else None


def autocast_for(model):
    """Autocast to the model's half dtype when its weights mix dtypes (fp32 adapters on a bf16 base)."""
    import contextlib

    import torch

    device, dtype = device_dtype(model)
    if dtype in (torch.bfloat16, torch.float16):
        return torch.autocast(device_type=device.type, dtype=dtype)
    return contextlib.nullcontext()


def to_device(batch, device, dtype=None):
    """Move tensors to ``device``; floating tensors (pixel values) also to ``dtype``.

    >>> import torch
    >>> batch = to_device({"input_ids": torch.ones(1, 2, dtype=torch.long), "pixel_values": torch.ones(1)},
    ...                   "cpu", torch.bfloat16)
    >>> batch["input_ids"].dtype, batch["pixel_values"].dtype
    (torch.int64, torch.bfloat16)
    """
    out = {}
    for k, v in batch.items():
        if hasattr(v, "to"):
            v = v.to(device)
            if dtype is not None and v.is_floating_point():
                v = v.to(dtype)
        out[k] = v
    return out


def generate_texts(model, processor, rows, *, batch_size=8, max_new_tokens=32) -> list[str]:
    """Greedy answers to ``{"image", "prompt"}`` rows."""
    import torch

    from .data import Collator
    from .modeling import is_seq2seq

    seq2seq = is_seq2seq(model)
    collate = Collator(processor, padding_side="left", seq2seq=seq2seq)
    tokenizer = processor.tokenizer
    device, dtype = device_dtype(model)
    texts = []
    was_training = model.training
    model.eval()
    with torch.no_grad(), autocast_for(model):
        for chunk in batches(rows, batch_size):
            batch = to_device(collate([{**r, "target": None} for r in chunk]), device, dtype)
            batch.pop("labels", None)
            out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            if not seq2seq:
                out = out[:, batch["input_ids"].shape[1]:]
            texts.extend(t.strip() for t in tokenizer.batch_decode(out, skip_special_tokens=True))
    model.train(was_training)
    return texts
