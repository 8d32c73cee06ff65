"""Training throughput on a GPU: samples/s, tokens/s and MFU of LoRA fine-tuning through ``iccc.train``.

Usage::

    python benchmarks/bench_train_gpu.py                      # Qwen2-VL-2B-sized model, bf16, LoRA, on CUDA
    python benchmarks/bench_train_gpu.py --arch llava         # LLaVA-1.5-7B-sized (CLIP ViT-L/14-336 + 7B LM)
    python benchmarks/bench_train_gpu.py --device cpu --tiny  # smoke run of this script on CPU (tiny LLaVA)
    python benchmarks/bench_train_gpu.py --quick              # the same (CI) -> results/train_gpu_quick.json

Without a CUDA GPU (and without ``--device cpu``) it prints why it skips and exits 0.

No download: the model is randomly initialised from a config of the real model's sizes (Qwen2-VL-2B:
a 1536-wide, 28-layer Qwen2 language model with a 151,936-token vocabulary and a 32-layer, 1280-wide
vision transformer with 14-pixel patches; LLaVA-1.5-7B: CLIP ViT-L/14 at 336 px and a LLaMA-2-7B-sized
language model), written to disk in bf16 with a processor whose tokenizer is trained locally (its ids
fall inside the model's vocabulary; the vocabulary size, and so the output layer's cost, is the real
one). Images are the synthetic shapes of :mod:`iccc.train.synthetic` at the model's input size (448 px
for Qwen2-VL: 1,024 patches, 256 image tokens; 336 px for LLaVA: 576 image tokens), and the samples are
ICCC correction and captioning samples built with the library (:func:`iccc.train.demo.shapes_iccc_data`).
Random weights run exactly the FLOPs of trained ones.

What runs is ``iccc.train.train`` itself (LoRA on the language model's q/v projections by default,
bf16 weights, AdamW, the collator that masks prompt and image tokens), for ``--warmup + --steps``
optimizer steps. A pass-through ``set_transform`` on the training split stamps the time at which each
row is fetched; the loop fetches one batch per step and synchronises every step (it reads the loss),
so the stamps are a step clock. Throughput is taken over the steps after the warm-up:

* samples/s: rows trained per second;
* tokens/s: language-model positions per second, counted by running the same collator over the same
  batches (``attention_mask`` sum: text and image tokens, no padding); padded positions are reported too;
* MFU: model FLOPs per second over the GPU's peak dense bf16 FLOPS. ``mfu_6n`` is the usual estimate
  ``6 * N * tokens/s`` (N = all parameters, tokens = language-model positions). ``mfu_split`` counts each
  part where it runs: ``6 * (N_lm * lm_tokens + N_vision * patches)`` per sample, N_lm without the input
  embedding table (a lookup) but with the output layer. Both use the 6N convention of full training;
  with LoRA the frozen weights get no weight gradients (about 4N), so the hardware does less work
  than the estimates credit, and the real utilisation of the executed FLOPs is about 2/3 of them.

Results go to ``benchmarks/results/train_gpu_<arch>.json`` (``train_gpu_quick.json`` for ``--tiny``),
with the GPU, versions and settings. The Qwen2-VL processor of transformers 5 needs torchvision (the
script says so and skips without it); ``--tiny`` defaults to LLaVA, which does not.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

#: Peak dense bf16 tensor FLOPS by device-name fragment (vendor data sheets, without sparsity).
PEAK_BF16 = (
    ("H200", 989e12),
    ("H100 NVL", 835e12),
    ("H100 PCIe", 756e12),
    ("H100", 989e12),  # SXM
    ("GH200", 989e12),
    ("A100", 312e12),
    ("L40S", 362e12),
    ("L4", 121e12),
    ("A10G", 70e12),
    ("A10", 125e12),
    ("RTX 4090", 165e12),
)

#: Real-model sizes, built from configs with random weights.
QWEN2_VL_2B = dict(
    text=dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
              num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rope_theta=1e6,
              mrope_section=[16, 24, 24]),
    vision=dict(depth=32, embed_dim=1280, hidden_size=1536, num_heads=16, mlp_ratio=4, patch_size=14,
                spatial_merge_size=2, temporal_patch_size=2),
    image_size=448,
)
LLAVA_15_7B = dict(
    text=dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
              num_key_value_heads=32, vocab_size=32064, max_position_embeddings=4096),
    vision=dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                image_size=336, patch_size=14, projection_dim=768),
    image_size=336,
)


def peak_flops(name: str) -> float | None:
    """Peak dense bf16 FLOPS of a GPU from its name (None when unknown).

    >>> peak_flops("NVIDIA H100 80GB HBM3")
    989000000000000.0
    >>> peak_flops("NVIDIA H100 PCIe")
    756000000000000.0
    """
    for fragment, flops in PEAK_BF16:
        if fragment.lower() in name.lower():
            return flops
    return None


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


# ------------------------------------------------------------------------------------------- model
def build_model(arch: str, tiny: bool, out_dir: str, texts: list[str], device: str) -> tuple[str, int]:
    """Write a randomly initialised checkpoint + processor to ``out_dir``; returns ``(path, image_size)``."""
    from iccc.train import build_tiny_model

    if tiny:
        return build_tiny_model(arch, out_dir, texts=texts, image_size=32, hidden_size=64, num_layers=2), 32

    import torch
    import transformers as tf

    # The tokenizer (and chat template) of a tiny checkpoint of the same family: trained locally.
    tok_dir = build_tiny_model(arch, os.path.join(out_dir, "_tokenizer"), texts=texts, image_size=32)
    tokenizer = tf.AutoTokenizer.from_pretrained(tok_dir)
    template_path = os.path.join(tok_dir, "chat_template.jinja")
    template = Path(template_path).read_text() if os.path.exists(template_path) else None
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in tokenizer.all_special_tokens}
    if arch == "qwen2_vl":
        sizes = QWEN2_VL_2B
        text = dict(sizes["text"])
        section = text.pop("mrope_section")
        theta = text.pop("rope_theta")
        config = tf.Qwen2VLConfig(
            text_config=dict(**text, rope_scaling={"type": "mrope", "mrope_section": section},
                             rope_parameters={"rope_type": "default", "mrope_section": section, "rope_theta": theta},
                             tie_word_embeddings=True, bos_token_id=None, eos_token_id=ids["<|im_end|>"],
                             pad_token_id=ids["<|endoftext|>"]),
            vision_config=dict(**sizes["vision"], in_channels=3),
            image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
            vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
            tie_word_embeddings=True,
        )
        cls = tf.Qwen2VLForConditionalGeneration
        pixels = sizes["image_size"] ** 2
        image_processor = tf.Qwen2VLImageProcessor(patch_size=14, merge_size=2, temporal_patch_size=2,
                                                   min_pixels=pixels, max_pixels=pixels,
                                                   size={"shortest_edge": pixels, "longest_edge": pixels})
        processor = tf.Qwen2VLProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=template)
    elif arch == "llava":
        sizes = LLAVA_15_7B
        text = tf.LlamaConfig(**sizes["text"], pad_token_id=ids["<pad>"], bos_token_id=ids["<s>"],
                              eos_token_id=ids["</s>"], tie_word_embeddings=False)
        config = tf.LlavaConfig(vision_config=tf.CLIPVisionConfig(**sizes["vision"]), text_config=text,
                                image_token_index=ids["<image>"], vision_feature_layer=-2,
                                vision_feature_select_strategy="default", projector_hidden_act="gelu")
        cls = tf.LlavaForConditionalGeneration
        side = sizes["image_size"]
        image_processor = tf.CLIPImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side})
        processor = tf.LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=14,
                                      vision_feature_select_strategy="default", num_additional_image_tokens=1,
                                      chat_template=template)
    else:
        raise ValueError(f"Unknown `arch` {arch!r}. Available: 'qwen2_vl', 'llava'.")
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            model = cls(config)
    finally:
        torch.set_default_dtype(default_dtype)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return out_dir, sizes["image_size"]


def parameter_split(model_dir: str) -> dict:
    """Parameter counts of the checkpoint by part, from a model built on the meta device (no memory)."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    config = AutoConfig.from_pretrained(model_dir)
    with torch.device("meta"):
        model = AutoModelForImageTextToText.from_config(config)
    total = sum(p.numel() for p in model.parameters())
    vision = sum(p.numel() for n, p in model.named_parameters()
                 if any(k in n for k in ("visual", "vision_tower", "multi_modal_projector")))
    embed = model.get_input_embeddings().weight.numel()
    out = model.get_output_embeddings()
    tied = out is not None and out.weight is model.get_input_embeddings().weight
    lm = total - vision - embed + (embed if tied else 0)  # a tied output layer is still a matmul
    return {"total": total, "vision": vision, "lm_without_input_embedding": lm, "input_embedding": embed,
            "tied_embeddings": bool(tied)}


# -------------------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=("qwen2_vl", "llava"), default=None,
                        help="model family (default: qwen2_vl; llava with --tiny)")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: --device cpu --tiny")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny model (smoke run), not the real-size config")
    parser.add_argument("--batch-size", type=int, default=None, help="samples per step (default: 8; tiny: 4)")
    parser.add_argument("--warmup", type=int, default=None, help="steps not timed (default: 10; tiny: 2)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default: 40; tiny: 4)")
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--peak-tflops", type=float, default=None, help="peak bf16 TFLOPS (default: by GPU name)")
    parser.add_argument("--workdir", default=None, help="where the model and outputs go (default: a temp dir)")
    parser.add_argument("--out", default=None, help="results JSON (default: benchmarks/results/train_gpu_*.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.device, args.tiny = "cpu", True
    args.arch = args.arch or ("llava" if args.tiny else "qwen2_vl")
    for name in ("batch_size", "warmup", "steps", "lora_r"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "warmup" else 1):
            parser.error(f"--{name.replace('_', '-')} should be {'>= 0' if name == 'warmup' else 'positive'}, "
                         f"got {value}.")
    batch = args.batch_size or (4 if args.tiny else 8)
    warmup = args.warmup if args.warmup is not None else (2 if args.tiny else 10)
    steps = args.steps or (4 if args.tiny else 40)

    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before torch initialises CUDA: accelerate then uses the CPU
    try:
        import torch
    except ImportError:
        print("SKIP: torch is not installed (pip install -e '.[train]').")
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        print("SKIP: no CUDA GPU here; this benchmark measures GPU training throughput. "
              "Run `python benchmarks/bench_train_gpu.py --device cpu --tiny` to smoke-test the script on CPU.")
        return 0
    if args.arch == "qwen2_vl":
        import importlib.util

        if importlib.util.find_spec("torchvision") is None:
            print("SKIP: the Qwen2-VL processor of transformers needs torchvision, which is not installed "
                  "(install it, or use --arch llava).")
            return 0

    import datasets

    from iccc.train import TrainConfig, train
    from iccc.train.data import Collator
    from iccc.train.demo import CORRECTION_PROMPT, shapes_iccc_data
    from iccc.train.modeling import load_processor

    work = args.workdir or tempfile.mkdtemp(prefix="bench_train_gpu_")
    os.makedirs(work, exist_ok=True)
    n_rows = batch * (warmup + steps)
    n_images = max(n_rows // 3 + 1, 4)
    t0 = time.perf_counter()
    image_size = 32 if args.tiny else (QWEN2_VL_2B if args.arch == "qwen2_vl" else LLAVA_15_7B)["image_size"]
    data, _ = shapes_iccc_data(n_images, 4, seed=0, image_size=image_size, p_correction=0.3)
    train_rows = data["train"].select(range(n_rows))
    texts = [t for t in list(train_rows["prompt"]) + list(train_rows["target"]) if t]
    data_seconds = time.perf_counter() - t0
    print(f"Data: {len(train_rows)} ICCC rows of {image_size}px shapes in {data_seconds:.0f}s.", flush=True)

    t0 = time.perf_counter()
    model_dir, _ = build_model(args.arch, args.tiny, os.path.join(work, "model"), texts, args.device)
    params = parameter_split(model_dir)
    print(f"Model: {args.arch}{' (tiny)' if args.tiny else ''}, {params['total'] / 1e6:,.1f}M parameters "
          f"({params['vision'] / 1e6:,.1f}M vision), written in {time.perf_counter() - t0:.0f}s.", flush=True)

    stamps, fetched = [], []

    def stamp(batch_rows):  # pass-through: when each row is fetched by the training loop, and which row
        stamps.append(time.perf_counter())
        fetched.extend({"image": i, "prompt": p, "target": t}
                       for i, p, t in zip(batch_rows["image"], batch_rows["prompt"], batch_rows["target"]))
        return batch_rows

    timed = train_rows.with_transform(stamp)
    precision = "fp32" if args.device == "cpu" else "bf16"
    config = TrainConfig(model=model_dir, data=datasets.DatasetDict({"train": timed}),
                         output_dir=os.path.join(work, "out"), lora=True, lora_r=args.lora_r,
                         lora_alpha=2.0 * args.lora_r, per_device_batch_size=batch, max_steps=warmup + steps,
                         learning_rate=1e-4, warmup_steps=0, precision=precision,
                         gradient_checkpointing=args.gradient_checkpointing, eval_split=None, save_steps=None,
                         logging_steps=max((warmup + steps) // 5, 1), max_length=2048, seed=0,
                         correction_template=CORRECTION_PROMPT)
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    result = train(config)
    train_seconds = time.perf_counter() - t0
    peak_memory = torch.cuda.max_memory_allocated() / 2**30 if args.device == "cuda" else None
    if len(stamps) < batch * (warmup + steps):
        raise RuntimeError(f"Expected {batch * (warmup + steps)} row fetches, saw {len(stamps)}: the training loop "
                           "did not read the data as this benchmark assumes.")
    # Stamp of the first row of each batch = start of that step's data fetch.
    starts = stamps[::batch][: warmup + steps]
    timed_steps = len(starts) - 1 - warmup
    if timed_steps < 1:
        raise RuntimeError("Not enough steps to time; raise --steps.")
    seconds = starts[-1] - starts[warmup]

    # Tokens of exactly the timed batches, through the training collator.
    processor = load_processor(model_dir)
    collate = Collator(processor, max_length=config.max_length)
    real = padded = patches = 0
    for k in range(warmup, warmup + timed_steps):
        enc = collate(fetched[k * batch:(k + 1) * batch])  # the rows of step k, in the loop's order
        real += int(enc["attention_mask"].sum())
        padded += int(enc["attention_mask"].numel())
        if "image_grid_thw" in enc:
            patches += int(enc["image_grid_thw"].prod(dim=-1).sum())
        else:
            side = enc["pixel_values"].shape[-1]
            patch = getattr(getattr(result.model.config, "vision_config", None), "patch_size", 14)
            patches += enc["pixel_values"].shape[0] * ((side // patch) ** 2 + 1)

    samples = timed_steps * batch
    samples_per_s = samples / seconds
    tokens_per_s = real / seconds
    flops_6n = 6 * params["total"] * tokens_per_s
    flops_split = 6 * (params["lm_without_input_embedding"] * real + params["vision"] * patches) / seconds
    device_name = torch.cuda.get_device_name(0) if args.device == "cuda" else platform.processor() or "cpu"
    peak = args.peak_tflops * 1e12 if args.peak_tflops else (peak_flops(device_name) if args.device == "cuda" else None)
    trainable = sum(p.numel() for p in result.model.parameters() if p.requires_grad)
    report = {
        "mode": "quick" if args.tiny else "full",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {"device": device_name, "python": platform.python_version(), "torch": torch.__version__,
                    "transformers": __import__("transformers").__version__, "cuda": torch.version.cuda,
                    "peak_bf16_flops": peak},
        "settings": {"arch": args.arch, "tiny": args.tiny, "device": args.device, "precision": precision,
                     "batch_size": batch, "warmup_steps": warmup, "timed_steps": timed_steps,
                     "lora_r": args.lora_r, "gradient_checkpointing": args.gradient_checkpointing,
                     "image_size": image_size},
        "parameters": {**params, "trainable": trainable},
        "throughput": {
            "seconds": seconds, "samples_per_s": samples_per_s, "tokens_per_s": tokens_per_s,
            "padded_tokens_per_s": padded / seconds, "tokens_per_sample": real / samples,
            "vision_patches_per_sample": patches / samples, "seconds_per_step": seconds / timed_steps,
            "model_tflops_6n": flops_6n / 1e12, "model_tflops_split": flops_split / 1e12,
            "mfu_6n": flops_6n / peak if peak else None, "mfu_split": flops_split / peak if peak else None,
        },
        "memory": {"peak_allocated_gib": peak_memory},
        "loss": {"first": result.losses[0], "last": result.losses[-1], "steps": len(result.losses)},
        "overheads": {"data_seconds": data_seconds, "train_call_seconds": train_seconds},
    }
    t = report["throughput"]
    print()
    print(f"{'arch':<10} {'device':<28} {'batch':>5} {'s/step':>8} {'samples/s':>10} {'tokens/s':>10} "
          f"{'MFU 6N':>7} {'MFU split':>9} {'mem GiB':>8}")
    mfu = "-" if t["mfu_6n"] is None else f"{t['mfu_6n']:.1%}"
    mfu_split = "-" if t["mfu_split"] is None else f"{t['mfu_split']:.1%}"
    mem = "-" if peak_memory is None else f"{peak_memory:.1f}"
    print(f"{args.arch + (' tiny' if args.tiny else ''):<10} {device_name[:28]:<28} {batch:>5} "
          f"{t['seconds_per_step']:>8.3f} {t['samples_per_s']:>10.2f} {t['tokens_per_s']:>10.0f} {mfu:>7} "
          f"{mfu_split:>9} {mem:>8}")
    print(f"({t['tokens_per_sample']:.0f} language-model tokens and {t['vision_patches_per_sample']:.0f} vision "
          f"patches per sample; {report['parameters']['trainable'] / 1e6:.2f}M trainable parameters; "
          f"loss {report['loss']['first']:.3f} -> {report['loss']['last']:.3f})")
    out = Path(args.out) if args.out else RESULTS / ("train_gpu_quick.json" if args.tiny else f"train_gpu_{args.arch}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
