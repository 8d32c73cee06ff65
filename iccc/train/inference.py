"""Loading a trained output directory and correcting one caption."""

from __future__ import annotations

import json
import os

from .config import CONFIG_FILE, DEFAULT_CORRECTION_TEMPLATE, PRECISIONS


def load_trained(output_dir, *, device=None, precision="auto"):
    """``(model, processor)`` from an ``iccc train`` output directory, ready for ``generate``.

    Loads ``OUTDIR/merged`` when present, else the base model named in the saved config with the LoRA
    adapter from ``OUTDIR/adapter``, else the full model in ``OUTDIR/model``. A plain transformers
    checkpoint directory is loaded as is. The correction template used in training is attached to the
    model as ``model.iccc_correction_template``.

    Args:
        output_dir: the directory ``train`` wrote (its ``output_dir``).
        device: ``"cpu"``, ``"cuda"``, ... (default: cuda when available).
        precision: ``"auto"``, ``"bf16"``, ``"fp16"`` or ``"fp32"``.
    """
    from .modeling import load_model, load_processor, resolve_precision

    if not isinstance(output_dir, (str, os.PathLike)) or not os.path.isdir(output_dir):
        raise FileNotFoundError(f"`output_dir` should be an existing directory, got {output_dir!r}.")
    if precision not in PRECISIONS:
        raise ValueError(f"`precision` should be one of {', '.join(map(repr, PRECISIONS))}, got {precision!r}.")
    import torch

    output_dir = os.fspath(output_dir)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype, _ = resolve_precision(precision)
    if device == "cpu" and precision == "auto":
        dtype = torch.float32
    raw = {}
    config_path = os.path.join(output_dir, CONFIG_FILE)
    if os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as f:
            raw = json.load(f)
    remote = bool(raw.get("trust_remote_code", False))
    merged, adapter, full = (os.path.join(output_dir, d) for d in ("merged", "adapter", "model"))
    if os.path.isdir(merged):
        model, processor = load_model(merged, dtype=dtype, trust_remote_code=remote), load_processor(merged)
    elif os.path.isdir(adapter):
        from peft import PeftModel

        base = load_model(raw.get("model") or _adapter_base(adapter), dtype=dtype, trust_remote_code=remote)
        model = PeftModel.from_pretrained(base, adapter)
        processor = load_processor(adapter, trust_remote_code=remote)
    elif os.path.isdir(full):
        model, processor = load_model(full, dtype=dtype, trust_remote_code=remote), load_processor(full)
    else:
        model, processor = load_model(output_dir, dtype=dtype, trust_remote_code=remote), load_processor(output_dir)
    model.to(device)
    model.eval()
    model.iccc_correction_template = raw.get("correction_template") or DEFAULT_CORRECTION_TEMPLATE
    return model, processor


def _adapter_base(adapter_dir):
    with open(os.path.join(adapter_dir, "adapter_config.json"), encoding="utf-8") as f:
        return json.load(f)["base_model_name_or_path"]


def correct(model, processor, image, caption, *, template=None, max_new_tokens=32) -> str:
    """The model's correction of ``caption`` for ``image`` (a PIL image, path or bytes).

    Args:
        template: the prompt, with ``{caption}`` (default: the one saved with the model, else
            ``DEFAULT_CORRECTION_TEMPLATE``).

    Example (with a trained output directory)::

        model, processor = load_trained("out")
        print(correct(model, processor, "dog.jpg", "a black cat on a sofa"))
    """
    from .data import open_image
    from .generation import generate_texts

    if not isinstance(caption, str) or not caption.strip():
        raise ValueError(f"`caption` should be a non-empty string, got {caption!r}.")
    template = template or getattr(model, "iccc_correction_template", None) or DEFAULT_CORRECTION_TEMPLATE
    if "{caption}" not in template:
        raise ValueError(f"`template` should contain '{{caption}}', got {template!r}.")
    prompt = template.replace("{caption}", caption)
    return generate_texts(model, processor, [{"image": open_image(image), "prompt": prompt}],
                          max_new_tokens=max_new_tokens)[0]
