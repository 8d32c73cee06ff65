"""Image-aware negatives, measured with a dual encoder trained from scratch on the shapes world.

No pretrained weights can be downloaded here, so the embedding model is a small CLIP trained
contrastively on the synthetic shapes world (``iccc.train.dual_encoder.train_shapes_encoder``, CPU,
minutes): its embeddings carry real image content (colours, shapes, sizes, layout). Three sets of
images, never overlapping: the encoder's training set (seed 0), a *fit* set (seed 10: the linear
map's pairs, the concept base and the blind detectors' training captions) and a held-out *eval*
set (seed 11: retrieval, consistency and the negatives below).

Reported (``results/vision.json``):

1. **Retrieval** — image→caption R@1/5/10, nDCG@10 and MRR on the eval images, searching the eval
   captions as they are and through a linear image→text map (lstsq / ridge / procrustes) fitted on
   the fit set (:func:`iccc.vision.image_to_caption_metrics`).
2. **Retrieval consistency as a check** — for text-only negatives of the eval captions, how often
   the true caption's query–gallery relevance (QGR) and combined score beat its negative's
   (:func:`iccc.vision.retrieval_consistency`, gallery = the eval images, own image left out),
   per operation and kind: "a good negative lowers QGR against its positive".
3. **Negatives, four arms** — text-only (today), ``scene`` (scene concepts of retrieved neighbours,
   ``p_scene=0.5``), ``check`` (the image check, margin calibrated on the eval captions, K=4) and
   ``scene+check``; per arm: the dual encoder's similarity gap ``sim(image, negative) -
   sim(image, caption)`` (hardness: nearer 0 is harder), the share of negatives the calibrated
   margin calls possibly true, rows left without a negative (``possibly_true``), a ground-truth
   check (each negative parsed against the regenerated scene: true / false / not decidable), the
   blind detectors of ``bench_quality.py`` (trigram LM, pairwise classifier: near 0.5 is
   blind-proof) and the cost per row.
4. **Cost** of the check on CPU: rows/s of each arm beside text-only, and the throughput of a
   randomly initialised text tower of CLIP ViT-B/32's size (63M parameters, 77 tokens) on this
   CPU, with the per-row cost that implies at K candidates. No GPU was lent: a GPU figure is an
   estimate from the FLOPs, labelled as such.

Usage::

    python benchmarks/bench_vision.py              # full: ~10 min on 2 cores -> results/vision.json
    python benchmarks/bench_vision.py --quick      # CI smoke run -> results/vision_quick.json
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ARMS = {  # arm -> (p_scene, image check on)
    "text_only": (0.0, False),
    "scene": (0.5, False),
    "check": (0.0, True),
    "scene+check": (0.5, True),
}
ENCODER_SEED, FIT_SEED, EVAL_SEED = 0, 10, 11

# ---------------------------------------------------------------------------- ground truth
_SIZE = {"small": "small", "large": "large", "big": "large"}
_PHRASE = r"(?:a|an) (?:(small|large|big) )?(\w+) (circle|square|triangle)"
_RELATIONS = {"to the left of": "left", "on the left of": "left", "to the right of": "right", "above": "above",
              "below": "below", "under": "below"}
_TWO = re.compile(rf"^{_PHRASE} ({'|'.join(_RELATIONS)}) {_PHRASE}$")
_ONE = re.compile(rf"^{_PHRASE}$")


def _matches(obj, size, colour, shape) -> bool:
    return obj.colour == colour and obj.shape == shape and (size is None or obj.size == _SIZE[size])


def caption_truth(scene, caption: str):
    """Whether a shapes caption is true of ``scene``: True, False, or None when the caption is not in
    the shapes grammar (a relation word the world has no picture for, e.g. "with", cannot be judged)."""
    text = caption.strip().lower().rstrip(".").strip()
    for prefix in ("there is ", "a picture of "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    objects = scene.objects
    one = _ONE.match(text)
    if one:
        size, colour, shape = one.groups()
        return any(_matches(o, size, colour, shape) for o in objects)
    two = _TWO.match(text)
    if not two:
        return None
    s1, c1, h1, rel, s2, c2, h2 = two.groups()
    if len(objects) < 2:
        return False
    first, second = objects  # left/top first
    relation = _RELATIONS[rel]
    if (relation in ("left", "right")) != (scene.layout == "horizontal"):
        return False
    a_first = relation in ("left", "above")  # the phrase before the relation is the left/top object
    a, b = (first, second) if a_first else (second, first)
    return _matches(a, s1, c1, h1) and _matches(b, s2, c2, h2)


def scenes_of(n_images: int, seed: int, max_objects: int = 2) -> list:
    """The scenes :func:`iccc.train.synthetic.make_shapes_dataset` drew (same generator and order)."""
    from iccc.train.synthetic import sample_scene

    return [sample_scene(np.random.default_rng([seed, i]), max_objects=max_objects) for i in range(n_images)]


# ---------------------------------------------------------------------------- steps
def train_encoder(out_dir: Path, quick: bool) -> dict:
    from iccc.train.dual_encoder import train_shapes_encoder

    options = dict(n_images=96, steps=30, eval_images=40) if quick else {}
    return train_shapes_encoder(out_dir, seed=ENCODER_SEED, **options)


def retrieval_section(fit, evals) -> dict:
    from iccc.vision import LinearMap, image_to_caption_metrics, paired

    x, y = paired(fit.images, fit.texts, fit.image_of_text)
    out = {"fit_pairs": int(len(x)), "eval_images": len(evals.images), "eval_captions": len(evals.texts)}
    out["no_map"] = image_to_caption_metrics(evals.images, evals.texts, evals.image_of_text)
    for method, ridge in (("lstsq", 0.0), ("ridge", 0.1), ("procrustes", 0.0)):
        m = LinearMap.fit(x, y, method=method, ridge=ridge)
        out[method] = image_to_caption_metrics(evals.images, evals.texts, evals.image_of_text, map=m)
    return out


def consistency_section(evals, negatives, k: int) -> dict:
    """How often the true caption's QGR / combined score beats its (text-only) negative's."""
    from iccc.vision import retrieval_consistency

    rows = [i for i, neg in enumerate(negatives["corrupted_caption"]) if neg]
    gallery_ids = list(evals.images.ids)
    gallery = evals.images.vectors
    own = [evals.image_of_text[i] for i in rows]
    query = evals.images.take(own)
    captions = [evals.captions[i] for i in rows]
    negs = [negatives["corrupted_caption"][i] for i in rows]
    k = min(k, len(gallery_ids) - 1)
    pos = retrieval_consistency(captions, query, gallery, evals.texts.take(rows), k=k, gallery_ids=gallery_ids,
                                exclude=own)
    neg = retrieval_consistency(negs, query, gallery, negatives["vectors"][rows], k=k, gallery_ids=gallery_ids,
                                exclude=own)
    by = defaultdict(list)
    for j, i in enumerate(rows):
        by[f"{negatives['operation'][i]}/{negatives['concept_kind'][i]}"].append(j)
    lowered = pos["qgr"] > neg["qgr"]
    combined = pos["combined"] > neg["combined"]
    return {"k": k, "pairs": len(rows), "qgr_lowered": float(lowered.mean()), "combined_lowered": float(combined.mean()),
            "mean_qgr_true": float(pos["qgr"].mean()), "mean_qgr_negative": float(neg["qgr"].mean()),
            "per_type": {t: {"pairs": len(js), "qgr_lowered": float(lowered[js].mean()),
                             "combined_lowered": float(combined[js].mean())} for t, js in sorted(by.items())}}


def blind_section(pairs, lm) -> dict:
    from iccc.detectors import classifier_pairwise_accuracy, lm_pairwise_accuracy

    if len(pairs) < 20:
        return {"pairs": len(pairs), "lm": None, "classifier": None}
    return {"pairs": len(pairs), "lm": lm_pairwise_accuracy(lm, pairs),
            "lm_per_token": lm_pairwise_accuracy(lm, pairs, per_token=True),
            "classifier": classifier_pairwise_accuracy(pairs, seed=0)}


def arm_section(name, data, base, embedder, evals, scenes, lm, margin, candidates: int, seed: int) -> dict:
    import iccc
    from iccc.vision import ImagePrior

    p_scene, check = ARMS[name]
    prior = None
    build_seconds = 0.0
    if p_scene > 0 or check:
        start = time.perf_counter()
        prior = ImagePrior.build(evals, encoder=embedder if check else None, margin=margin if check else None,
                                 p_scene=p_scene, candidates=candidates, parsed=data["parsed"])
        build_seconds = time.perf_counter() - start
    batch = {"caption": data["captions"], "image_id": data["image_ids"]}
    start = time.perf_counter()
    out = iccc.corrupt(batch, list(range(len(data["captions"]))), concepts=base, seed=seed, vision=prior,
                       group_column="image_id")
    seconds = time.perf_counter() - start
    statuses = Counter(out["corrupt_status"])
    rows = [i for i, neg in enumerate(out["corrupted_caption"]) if neg]
    negs = [out["corrupted_caption"][i] for i in rows]
    neg_vectors = np.asarray(embedder.encode_texts(negs), dtype=np.float32) if negs else np.zeros((0, evals.images.dim))
    image_vectors = evals.images.take([data["image_ids"][i] for i in rows])
    sim_pos = np.sum(evals.texts.take(rows) * image_vectors, axis=1)
    sim_neg = np.sum(neg_vectors * image_vectors, axis=1)
    gap = sim_neg - sim_pos
    truth = Counter()
    truth_by_type = defaultdict(Counter)
    for i, neg in zip(rows, negs):
        verdict = caption_truth(scenes[data["image_ids"][i]], neg)
        label = {True: "true", False: "false", None: "undecidable"}[verdict]
        truth[label] += 1
        truth_by_type[f"{out['operation'][i]}/{out['concept_kind'][i]}"][label] += 1
    types = Counter(f"{out['operation'][i]}/{out['concept_kind'][i]}" for i in rows)
    vectors = np.zeros((len(out["corrupted_caption"]), evals.images.dim), dtype=np.float32)
    vectors[rows] = neg_vectors
    decided = truth["true"] + truth["false"]
    return {
        "p_scene": p_scene, "check": check, "candidates": candidates if check else None,
        "rows": len(data["captions"]), "negatives": len(rows), "statuses": dict(statuses),
        "possibly_true_rows": statuses.get("possibly_true", 0) / len(data["captions"]),
        "gap_mean": float(gap.mean()) if len(gap) else None, "gap_median": float(np.median(gap)) if len(gap) else None,
        "share_within_margin": float(np.mean(gap > -margin)) if len(gap) and margin is not None else None,
        "truth": dict(truth), "true_share_of_decided": truth["true"] / decided if decided else None,
        "truth_per_type": {t: dict(c) for t, c in sorted(truth_by_type.items())},
        "types": dict(types.most_common()),
        "blind": blind_section(list(zip([data["captions"][i] for i in rows], negs)), lm),
        "seconds": seconds, "rows_per_s": len(data["captions"]) / seconds, "prior_build_seconds": build_seconds,
        "examples": [(data["captions"][i], out["corrupted_caption"][i]) for i in rows[:6]],
        "_out": {**out, "vectors": vectors},
    }


def text_tower_cost(candidates: int, quick: bool) -> dict:
    """Texts/s of a randomly initialised text tower of CLIP ViT-B/32's size on this CPU."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    layers = 2 if quick else 12
    config = CLIPTextConfig(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=layers,
                            num_attention_heads=8, max_position_embeddings=77, projection_dim=512)
    torch.manual_seed(0)
    model = CLIPTextModelWithProjection(config).eval()
    params = sum(p.numel() for p in model.parameters())
    non_embedding = params - model.text_model.embeddings.token_embedding.weight.numel()
    batch, rounds = 64, (1 if quick else 4)
    ids = torch.randint(0, 49408, (batch, 77), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        model(input_ids=ids)  # warm-up
        start = time.perf_counter()
        for _ in range(rounds):
            model(input_ids=ids)
        seconds = time.perf_counter() - start
    texts_per_s = batch * rounds / seconds
    flops_per_text = 2 * non_embedding * 77
    assumed_gpu_flops = 200e12  # an H100/H200 at ~20% of its dense bf16 peak: an assumption, not a measurement
    return {"layers": layers, "parameters": int(params), "threads": torch.get_num_threads(),
            "cpu_texts_per_s": texts_per_s, "cpu_check_rows_per_s": texts_per_s / (candidates + 1),
            "flops_per_text": flops_per_text,
            "gpu_estimate": {"assumed_flops_per_s": assumed_gpu_flops,
                             "texts_per_s": assumed_gpu_flops / flops_per_text,
                             "check_rows_per_s": assumed_gpu_flops / flops_per_text / (candidates + 1),
                             "note": "estimate from FLOPs (no GPU was lent to this run)"}}


def machine() -> dict:
    import os
    import subprocess

    try:
        commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d"), "git_commit": commit}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI): seconds to a minute")
    parser.add_argument("--out", default=None, help="JSON path (default results/vision[_quick].json)")
    parser.add_argument("--encoder", default=None, help="a trained shapes encoder folder to reuse (skips training)")
    parser.add_argument("--candidates", type=int, default=4, help="K, candidates the image check ranks per row")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out_path = Path(args.out) if args.out else HERE / "results" / ("vision_quick.json" if args.quick else "vision.json")

    import iccc
    from iccc.detectors import NgramLM
    from iccc.train.synthetic import make_shapes_dataset
    from iccc.vision import TransformersEmbedder, calibrate_margin, embed_dataset

    n_fit, n_eval = (40, 30) if args.quick else (600, 300)
    result: dict = {"mode": "quick" if args.quick else "full", "config": {"quick": args.quick, "candidates": args.candidates, "seed": args.seed,
                               "fit_images": n_fit, "eval_images": n_eval, "arms": ARMS}, "machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        encoder_dir = Path(args.encoder) if args.encoder else Path(tmp) / "encoder"
        start = time.perf_counter()
        if args.encoder:
            training = json.loads((encoder_dir / "training.json").read_text())
        else:
            training = train_encoder(encoder_dir, args.quick)
        result["encoder"] = {k: v for k, v in training.items() if k != "loss_curve"}
        result["encoder"]["wall_seconds"] = time.perf_counter() - start
        print(f"encoder: {json.dumps(result['encoder'].get('eval'), default=str)}", flush=True)
        embedder = TransformersEmbedder(encoder_dir)

        fit_ds = make_shapes_dataset(n_fit, seed=FIT_SEED, image_size=training.get("config", {}).get("image_size", 32))
        eval_ds = make_shapes_dataset(n_eval, seed=EVAL_SEED,
                                      image_size=training.get("config", {}).get("image_size", 32))
        start = time.perf_counter()
        fit = embed_dataset(fit_ds, embedder)
        evals = embed_dataset(eval_ds, embedder)
        result["embed_seconds"] = time.perf_counter() - start

        result["retrieval"] = retrieval_section(fit, evals)
        print("retrieval:", {k: (v.get("R@1") if isinstance(v, dict) else v) for k, v in result["retrieval"].items()},
              flush=True)

        fit_captions = list(fit_ds["caption"])
        base = iccc.ConceptBase.from_parsed(iccc.parse(fit_captions), groups=list(fit_ds["image_id"]),
                                            above_mean=False)
        lm = NgramLM(3).fit(fit_captions)
        captions = list(eval_ds["caption"])
        data = {"captions": captions, "image_ids": list(eval_ds["image_id"]), "parsed": iccc.parse(captions)}
        calibration = calibrate_margin(evals.images, evals.texts, evals.image_of_text)
        margin = calibration["margin"]
        result["calibration"] = calibration
        scenes = scenes_of(n_eval, EVAL_SEED)
        assert all(caption_truth(scenes[g], c) for c, g in zip(captions, data["image_ids"])), \
            "the ground-truth parser should accept every true caption"
        result["arms"] = {}
        for name in ARMS:
            found = arm_section(name, data, base, embedder, evals, scenes, lm, margin, args.candidates, args.seed)
            negatives = found.pop("_out")
            if name == "text_only":
                result["consistency"] = consistency_section(evals, negatives, k=5)
            result["arms"][name] = found
            print(f"{name}: gap {found['gap_mean']}, within margin {found['share_within_margin']}, "
                  f"possibly_true rows {found['possibly_true_rows']:.3f}, truth {found['truth']}, "
                  f"blind {found['blind'].get('lm')}/{found['blind'].get('classifier')}, "
                  f"{found['rows_per_s']:.0f} rows/s", flush=True)
        result["cost"] = text_tower_cost(args.candidates, args.quick)
        text_only = result["arms"]["text_only"]["rows_per_s"]
        result["cost"]["rows_per_s_vs_text_only"] = {n: a["rows_per_s"] / text_only for n, a in result["arms"].items()}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {out_path}")
    return result


if __name__ == "__main__":
    main()
