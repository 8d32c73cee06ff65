"""Loading models and processors, precision, LoRA targets and which weights train.

The LoRA configuration is built in exactly one place (``prepare_trainable``).
"""

from __future__ import annotations

import fnmatch

# Leaf names of the language model's attention projections that LoRA wraps by default (query and value,
# as in the LoRA paper): OPT (BLIP-2/InstructBLIP), LLaMA/Vicuna/Mistral (LLaVA), Qwen2 (Qwen2-VL), T5.
DEFAULT_LORA_LEAVES = {
    "opt": ("q_proj", "v_proj"),
    "llama": ("q_proj", "v_proj"),
    "mistral": ("q_proj", "v_proj"),
    "qwen2": ("q_proj", "v_proj"),
    "qwen2_vl_text": ("q_proj", "v_proj"),
    "t5": ("q", "v"),
}
_FALLBACK_LEAVES = ("q_proj", "v_proj", "q", "v", "query", "value", "qkv_proj", "c_attn", "Wqkv")
_VISION_HINTS = ("vision", "visual", "qformer", "image_tower", "multi_modal_projector", "language_projection")


def resolve_precision(precision: str):
    """``(torch dtype for the weights, accelerate mixed_precision)`` for ``"auto"/"bf16"/"fp16"/"fp32"``."""
    import torch

    if precision == "auto":
        if torch.cuda.is_available():
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            precision = "fp32"
    if precision == "fp16" and not torch.cuda.is_available():
        raise ValueError("`precision` 'fp16' needs a CUDA GPU (loss scaling); use 'bf16' or 'fp32' on CPU.")
    return {"bf16": (torch.bfloat16, "bf16"), "fp16": (torch.float16, "fp16"),
            "fp32": (torch.float32, "no")}[precision]


def load_processor(name, *, trust_remote_code=False):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(name, trust_remote_code=trust_remote_code)
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None:
        raise ValueError(f"The processor of {name!r} ({type(processor).__name__}) has no tokenizer; an "
                         "image-text-to-text processor is needed.")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return processor


def load_model(name, *, dtype=None, trust_remote_code=False):
    """The model through ``AutoModelForImageTextToText``, else the class named in its config."""
    import transformers
    from transformers import AutoConfig, AutoModelForImageTextToText

    kwargs = {"trust_remote_code": trust_remote_code}
    if dtype is not None:
        kwargs["dtype"] = dtype
    try:
        return AutoModelForImageTextToText.from_pretrained(name, **kwargs)
    except ValueError as err:
        config = AutoConfig.from_pretrained(name, trust_remote_code=trust_remote_code)
        for arch in getattr(config, "architectures", None) or ():
            cls = getattr(transformers, arch, None)
            if cls is not None:
                return cls.from_pretrained(name, **kwargs)
        raise ValueError(f"Cannot load {name!r} as an image-text-to-text model (model_type "
                         f"{config.model_type!r}, architectures {getattr(config, 'architectures', None)}).") from err


def is_seq2seq(model) -> bool:
    """Whether the language model is an encoder-decoder (answers go to ``labels`` only)."""
    config = model.config
    if getattr(config, "is_encoder_decoder", False):
        return True
    return getattr(config, "use_decoder_only_language_model", True) is False


def _text_model_type(model) -> str | None:
    config = model.config
    text = getattr(config, "text_config", None)
    return getattr(text, "model_type", None) if text is not None else getattr(config, "model_type", None)


def default_lora_targets(model) -> list[str]:
    """Full names of the language model's attention projections to wrap with LoRA."""
    import torch

    leaves = DEFAULT_LORA_LEAVES.get(_text_model_type(model) or "", _FALLBACK_LEAVES)
    linear = [n for n, m in model.named_modules()
              if isinstance(m, torch.nn.Linear) and n.rsplit(".", 1)[-1] in leaves]
    in_lm = [n for n in linear if "language_model" in n.split(".")]
    if in_lm:
        return in_lm
    outside_vision = [n for n in linear if not any(h in n for h in _VISION_HINTS)]
    if not outside_vision:
        raise ValueError(f"Found no language-model attention projections named {leaves} in "
                         f"{type(model).__name__}; set `lora_target_modules`.")
    return outside_vision


def _matches(name: str, pattern: str) -> bool:
    """Full-name fnmatch, also as a dotted suffix (``"vision_tower.*.q_proj"`` matches ``model.vision_tower...``)."""
    return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name, "*." + pattern)


def resolve_lora_targets(model, names) -> list[str]:
    """Full module names for ``lora_target_modules``.

    A bare name (``"q_proj"``) means those modules inside the language model (anywhere when the model
    has no ``language_model`` part), so the vision tower's own ``q_proj`` stays frozen; a dotted name or
    a pattern (``"vision_tower.*.q_proj"``) is matched against full module names (fnmatch or suffix).
    """
    modules = [n for n, _ in model.named_modules() if n]
    out = []
    for name in names:
        if name.isidentifier():
            hits = [n for n in modules if n.rsplit(".", 1)[-1] == name]
            in_lm = [n for n in hits if "language_model" in n.split(".")]
            hits = in_lm or hits
        else:
            hits = [n for n in modules if _matches(n, name)]
        if not hits:
            leaves = sorted({n.rsplit(".", 1)[-1] for n in modules})
            raise ValueError(f"`lora_target_modules` entry {name!r} matches no module. Module names end in: "
                             f"{leaves[:40]}.")
        out.extend(hits)
    return sorted(set(out))


def match_modules(model, patterns) -> list[str]:
    """Names of modules matching any pattern (fnmatch on the full name or a dotted suffix), outermost only."""
    names = [n for n, _ in model.named_modules() if n]
    hits = []
    for pattern in patterns:
        found = [n for n in names if _matches(n, pattern)]
        if not found:
            tops = sorted({n.split(".")[0] for n in names})
            raise ValueError(f"`full_finetune_modules` pattern {pattern!r} matches no module. Top-level modules: "
                             f"{tops}.")
        hits.extend(found)
    hits = sorted(set(hits))
    return [n for n in hits if not any(n.startswith(h + ".") for h in hits if h != n)]


def prepare_trainable(model, cfg):
    """Wrap ``model`` with LoRA (``cfg.lora``) and/or unfreeze ``cfg.full_finetune_modules``.

    Trainable parameters are kept in fp32 whatever the load dtype (mixed precision trains them stably).
    Returns the model to train (a ``PeftModel`` with LoRA).
    """
    import torch

    full = match_modules(model, cfg.full_finetune_modules) if cfg.full_finetune_modules else []
    if cfg.lora:
        from peft import LoraConfig, get_peft_model

        targets = (resolve_lora_targets(model, cfg.lora_target_modules) if cfg.lora_target_modules
                   else default_lora_targets(model))
        lora_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                 target_modules=targets, modules_to_save=full or None, bias="none")
        model = get_peft_model(model, lora_config)
    else:
        for p in model.parameters():
            p.requires_grad_(not full)
        for name in full:
            for p in model.get_submodule(name).parameters():
                p.requires_grad_(True)
    for p in model.parameters():
        if p.requires_grad and p.dtype != torch.float32:
            p.data = p.data.float()
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("No parameter is trainable: check `lora_target_modules` / `full_finetune_modules`.")
    return model


def trainable_state(model) -> dict:
    """The trainable parameters by name (what a checkpoint needs to store besides the optimizer)."""
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}
