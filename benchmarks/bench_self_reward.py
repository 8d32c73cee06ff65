"""Calibrated Self-Rewarding on the shapes world: does the image-calibrated reward make captions more correct?

Everything is trained here from scratch on CPU (no download), on image sets that never overlap:

1. a tiny CLIP trained contrastively on shapes images (seed 0; ``iccc.train.dual_encoder``): the
   image relevance scorer;
2. a tiny LLaVA (``iccc.train.build_tiny_model``) trained to caption shapes images (seed 0, the prompt
   ``"Caption:"``, full fine-tuning): the starting model;
3. two arms of :func:`iccc.train.self_reward`, two iterations each, from that same model, sampling on
   unlabelled images (seed 3): **calibrated** (``alpha = 0.9``, rank mode: the beam search and the
   pairs rank by likelihood calibrated with the CLIP cosine) and **likelihood** (``alpha = 0``: the
   model's most likely against its least likely caption, no image score). Same sampling, DPO
   options and seeds in both.

Evaluation, before and after every iteration, on held-out images (seed 1): one greedy caption per
image, checked against the regenerated scene:

- ``exact``: the caption is one of the true captions of the scene (every template and size wording
  the world uses: right objects, colours, shapes, sizes and relation);
- ``attribute_accuracy``: share of the scene's objects that the caption names with the right colour
  and shape (and no wrong size word);
- ``phrase_precision``: share of the object phrases in the caption that are true of some object;
- ``relation_accuracy``: on two-object images, the caption's relation word(s) agree with the layout.

Usage::

    nice -n 10 python benchmarks/bench_self_reward.py          # full: ~10 CPU-minutes -> results/self_reward.json
    nice -n 10 python benchmarks/bench_self_reward.py --caption-steps 500 --out results/self_reward_start500.json
    python benchmarks/bench_self_reward.py --quick             # CI smoke run (a minute or two)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

PROMPT = "Caption:"

FULL = dict(encoder_images=2000, encoder_steps=800, caption_images=1500, caption_steps=2000, pref_images=300,
            eval_images=200, dpo_epochs=2, dpo_batch=16, dpo_lr=5e-4, beta=0.1, num_candidates=6, hidden_size=64,
            encoder_eval_images=100)
QUICK = dict(encoder_images=64, encoder_steps=20, caption_images=60, caption_steps=20, pref_images=12,
             eval_images=12, dpo_epochs=1, dpo_batch=4, dpo_lr=5e-4, beta=0.1, num_candidates=3, hidden_size=32,
             encoder_eval_images=16)


# ------------------------------------------------------------------------------------------- scene truth
def _phrases(obj) -> list[str]:
    from iccc.train.synthetic import SIZE_WORDS

    out = []
    for words in ([obj.colour, obj.shape], *([w, obj.colour, obj.shape] for w in SIZE_WORDS[obj.size])):
        article = "an" if words[0][0] in "aeiou" else "a"
        out.append(" ".join([article, *words]))
    return out


def true_captions(scene) -> set[str]:
    """Every caption the shapes world could write for ``scene`` (all templates and size wordings)."""
    from iccc.train.synthetic import TEMPLATES

    a = _phrases(scene.objects[0])
    b = _phrases(scene.objects[1]) if len(scene.objects) > 1 else [""]
    return {_norm(t.format(a=x, b=y)) for t in TEMPLATES[scene.layout] for x in a for y in b}


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(".", " ").split())


_PHRASE = re.compile(r"\b(?:a|an) (?:(small|large|big) )?(red|green|blue|yellow|purple|orange) (circle|square|triangle)\b")
_RELATIONS = {"horizontal": ({"left", "right"}, {"above", "below", "under"}),
              "vertical": ({"above", "below", "under"}, {"left", "right"})}


def caption_scores(captions, scenes) -> dict:
    """The four figures of the module docstring for greedy ``captions`` of ``scenes``."""
    exact, objects, found, phrases, true_phrases, relations, relation_ok = 0, 0, 0, 0, 0, 0, 0
    for text, scene in zip(captions, scenes):
        norm = _norm(text)
        exact += norm in true_captions(scene)
        mentioned = [(size, colour, shape) for size, colour, shape in _PHRASE.findall(norm)]
        phrases += len(mentioned)

        def fits(m, obj):
            size, colour, shape = m
            return colour == obj.colour and shape == obj.shape and (
                not size or (size == "small") == (obj.size == "small"))

        true_phrases += sum(any(fits(m, o) for o in scene.objects) for m in mentioned)
        for obj in scene.objects:
            objects += 1
            found += any(fits(m, obj) for m in mentioned)
        if scene.layout in _RELATIONS:
            relations += 1
            words = set(norm.split())
            good, bad = _RELATIONS[scene.layout]
            relation_ok += bool(words & good) and not (words & bad)
    n = max(len(captions), 1)
    return {"exact": exact / n, "attribute_accuracy": found / max(objects, 1),
            "phrase_precision": true_phrases / max(phrases, 1), "relation_accuracy": relation_ok / max(relations, 1),
            "n_images": len(captions)}


# ------------------------------------------------------------------------------------------- the run
def held_out(n: int, seed: int, image_size: int):
    from iccc.train.synthetic import draw_scene, sample_scene

    scenes = [sample_scene(np.random.default_rng([seed, i])) for i in range(n)]
    return [draw_scene(s, image_size=image_size) for s in scenes], scenes


def make_eval(images, scenes, examples: int = 4):
    from iccc.train import generate_texts

    def eval_fn(model, processor):
        captions = generate_texts(model, processor, [{"image": im, "prompt": PROMPT} for im in images],
                                  batch_size=32, max_new_tokens=24)
        out = caption_scores(captions, scenes)
        out["examples"] = captions[:examples]
        return out

    return eval_fn


def caption_data(n_images: int, seed: int, image_size: int):
    from iccc.train.synthetic import make_shapes_dataset

    ds = make_shapes_dataset(n_images, seed=seed, image_size=image_size)
    ds = ds.rename_column("caption", "target")
    return ds.add_column("prompt", [PROMPT] * len(ds)).add_column("task", ["caption"] * len(ds))


def machine() -> dict:
    import subprocess

    try:
        commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d"), "git_commit": commit}


def run(sizes: dict, work: str, *, seed: int = 0, threads: int = 1, log=print) -> dict:
    import torch

    from iccc.train import TrainConfig, build_tiny_model, self_reward, train
    from iccc.train.dual_encoder import train_shapes_encoder

    torch.set_num_threads(threads)
    image_size = 32
    started, cpu0 = time.perf_counter(), time.process_time()
    timing = {}

    log(f"1/4 dual encoder: {sizes['encoder_images']} images, {sizes['encoder_steps']} steps ...")
    t = time.perf_counter()
    encoder_dir = os.path.join(work, "encoder")
    encoder = train_shapes_encoder(encoder_dir, n_images=sizes["encoder_images"], steps=sizes["encoder_steps"],
                                   batch_size=min(64, sizes["encoder_images"]), eval_images=sizes["encoder_eval_images"], seed=seed,
                                   eval_seed=seed + 1)
    timing["encoder"] = round(time.perf_counter() - t, 1)
    log(f"   foil accuracy {encoder['eval']['foil_accuracy']}")

    log(f"2/4 captioning model: {sizes['caption_images']} images, {sizes['caption_steps']} steps ...")
    t = time.perf_counter()
    data = caption_data(sizes["caption_images"], seed, image_size)
    texts = [PROMPT] + list(data["target"][:3000])
    model_dir = build_tiny_model("llava", os.path.join(work, "tiny"), texts=texts, image_size=image_size, seed=seed,
                                 hidden_size=sizes["hidden_size"], num_layers=2)
    caption_run = os.path.join(work, "caption_run")
    train(TrainConfig(model=model_dir, data=data, output_dir=caption_run, lora=False, learning_rate=3e-3,
                      warmup_steps=min(50, sizes["caption_steps"] // 5), max_steps=sizes["caption_steps"],
                      per_device_batch_size=32, eval_split=None, save_steps=None, save_total_limit=1,
                      logging_steps=max(sizes["caption_steps"] // 5, 1), seed=seed, precision="fp32"))
    timing["caption_training"] = round(time.perf_counter() - t, 1)

    eval_images, scenes = held_out(sizes["eval_images"], seed + 1, image_size)
    eval_fn = make_eval(eval_images, scenes)
    pref_data = caption_data(sizes["pref_images"], seed + 3, image_size).remove_columns(["target", "task"])
    sampling = dict(num_candidates=sizes["num_candidates"], beams=2, keep_worst=1, max_sentences=1,
                    max_sentence_tokens=24, max_new_tokens=24, temperature=1.0)
    steps = max(1, int(np.ceil(sizes["pref_images"] / sizes["dpo_batch"] * sizes["dpo_epochs"])))
    arms = {}
    for i, (name, alpha, embedder) in enumerate((("calibrated", 0.9, encoder_dir), ("likelihood", 0.0, None))):
        log(f"{3 + i}/4 self-rewarding, {name} (alpha {alpha}): 2 iterations on {sizes['pref_images']} images ...")
        t = time.perf_counter()
        config = TrainConfig(model=caption_run, data=pref_data, output_dir=os.path.join(work, name), lora=False,
                             objective="dpo", beta=sizes["beta"], learning_rate=sizes["dpo_lr"], lr_scheduler="constant",
                             max_steps=steps, per_device_batch_size=sizes["dpo_batch"], eval_split=None,
                             save_steps=None, save_total_limit=1, logging_steps=max(steps // 4, 1), seed=seed,
                             precision="fp32")
        result = self_reward(config, iterations=2, embedder=embedder, alpha=alpha, mode="rank", sampling=sampling,
                             eval_fn=eval_fn, log=log)
        arms[name] = {"alpha": alpha, "records": [{k: v for k, v in r.items() if k not in ("model_dir",)}
                                                  for r in result.records]}
        timing[name] = round(time.perf_counter() - t, 1)
        for r in result.records:
            e = r["eval"]
            log(f"   iteration {r['iteration']}: exact {e['exact']:.3f}, attributes {e['attribute_accuracy']:.3f}, "
                f"phrase precision {e['phrase_precision']:.3f}, relation {e['relation_accuracy']:.3f}"
                + (f"; {r['pairs']} pairs, margin {r['reward_margin']:.3f}" if r["iteration"] else ""))
    timing["total_wall"] = round(time.perf_counter() - started, 1)
    timing["total_cpu_this_process"] = round(time.process_time() - cpu0, 1)
    return {"config": {**sizes, "seed": seed, "threads": threads, "sampling": sampling, "dpo_steps": steps,
                       "prompt": PROMPT},
            "encoder": {"foil_accuracy": encoder["eval"]["foil_accuracy"], "i2t_R@1": encoder["eval"]["i2t_R@1"]},
            "arms": arms, "timing": timing}


def table(result: dict) -> str:
    lines = ["", "Held-out captions (greedy), before and after each self-rewarding iteration:", "",
             f"{'arm':<12} {'iter':>4} {'exact':>7} {'attrib':>7} {'phrase':>7} {'relat':>7} {'pairs':>6} {'margin':>7}"]
    for name, arm in result["arms"].items():
        for r in arm["records"]:
            e = r["eval"]
            pairs = r.get("pairs", "")
            margin = f"{r['reward_margin']:.3f}" if r.get("reward_margin") is not None else ""
            lines.append(f"{name:<12} {r['iteration']:>4} {e['exact']:>7.3f} {e['attribute_accuracy']:>7.3f} "
                         f"{e['phrase_precision']:>7.3f} {e['relation_accuracy']:>7.3f} {pairs!s:>6} {margin:>7}")
    lines.append(f"\ntime: {result['timing']}")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI): a minute or two")
    parser.add_argument("--out", default=None, help="JSON path (default results/self_reward[_quick].json)")
    parser.add_argument("--work", default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, models and training")
    parser.add_argument("--caption-steps", type=int, default=None,
                        help="steps of the starting captioning model (default: 2000 full, 20 quick)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: no spinning on a shared machine)")
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    if args.caption_steps is not None:
        sizes["caption_steps"] = args.caption_steps
    out = Path(args.out) if args.out else HERE / "results" / f"self_reward{'_quick' if args.quick else ''}.json"
    with tempfile.TemporaryDirectory() as tmp:
        result = run(sizes, args.work or tmp, seed=args.seed, threads=args.threads)
    result = {"mode": "quick" if args.quick else "full", **result, "machine": machine()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(table(result))
    print(f"Wrote {out}")
    return result


if __name__ == "__main__":
    main()
