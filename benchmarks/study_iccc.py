"""A controlled study: does ICCC training help a VLM beyond correction, and do iccc's negatives teach more?

Issue 18. Everything runs on CPU without downloads: the synthetic shapes world
(:mod:`iccc.train.synthetic`: one or two coloured circles / squares / triangles, small or large, side
by side or one above the other, three captions per image phrased differently), a tiny LLaVA trained
from scratch (:func:`iccc.train.build_tiny_model`) and :func:`iccc.train.train`.

Arms, at equal compute (same model init, steps, batch size and learning-rate schedule; the tokens seen
per step are reported, correction prompts are longer than captioning prompts):

1. ``caption``   — captioning samples only;
2. ``iccc``      — the paper's mixture, 30% correction samples (15% of them swaps), iccc's negatives
   (:func:`iccc.dataset.build_dataset`: grammar, truly-wrong, blind-proof balancing, sibling guard);
3. ``reference`` — the same rows as ``iccc`` (the same captions are corrections, the same captioning
   samples) but each negative is the paper's reference one, :func:`reference_negative`: a concept of
   the caption replaced uniformly by another concept of the same kind from the concept base, nothing
   checked;
4. ``vision``    — the ``iccc`` mixture with image-aware negatives (:class:`iccc.vision.ImagePrior`:
   scene concepts and the image check, with a shapes dual encoder trained from scratch as in
   ``bench_vision.py``).

Evaluations, zero-shot on held-out images (another seed, never seen in training, the same for every
arm and seed):

* a compositional probe scored by caption likelihood (every arm, also the captioning-only one): the
  log-likelihood of the true caption after ``Caption:`` against a foil per phenomenon (``binding``:
  the colours of the two objects swapped; ``relation``: left/right or above/below flipped;
  ``colour``, ``shape``, ``size``: one word changed; ``existence``: an object named that is not in the
  image, colour and shape both changed). Every foil is checked false against the scene. The same probe
  with blank images is the text-only reference;
* captioning quality of greedy captions: ``exact`` (one of the image's reference captions), ``correct``
  (in the shapes grammar, true of the image and naming every object), ``attribute`` (share of named
  objects whose colour, shape and size are right), ``relation`` (share of two-object captions whose two
  objects exist and whose relation is right);
* correction accuracy (:func:`iccc.train.demo.evaluate_by_kind`, exact match of the correction statement)
  on iccc-built corrections of the held-out images, and the blind control: the same model with blank
  images.

Statistics: mean ± std over seeds; for each arm against ``caption`` and arms 3-4 against ``iccc``, a
Welch t-test over seeds (numpy; scipy is not installed) and a paired permutation test over probe items / captions (items are
paired: same images, same foils; per-item scores averaged over seeds, 10,000 sign flips).

Usage::

    python benchmarks/study_iccc.py                 # full run (~1 h on 2 cores) -> results/study.json + study_iccc.png
    python benchmarks/study_iccc.py --quick         # smoke run (well under a minute) -> results/study_quick.json
    python benchmarks/study_iccc.py --seeds 0,1 --max-steps 400 --workers 1

Figures: ``benchmarks/README.md``, section "The ICCC study".
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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ARMS = ("caption", "iccc", "reference", "vision")
PHENOMENA = ("binding", "relation", "colour", "shape", "size", "existence")
CAPTION_METRICS = ("exact", "correct", "attribute", "relation")
KINDS = ("noun", "attribute", "relation")
CORRECTION_PROMPT = "Fix the caption: {caption}"
CAPTION_PROMPT = "Caption:"
EVAL_SEED = 1000  # held-out images: a seed no training set uses


@dataclass
class StudyConfig:
    """Sizes of the study (defaults: the documented run; :meth:`quick`: the smoke run)."""

    n_train_images: int = field(default=2000, metadata={"help": "training images per seed (3 captions each)"})
    n_eval_images: int = field(default=200, metadata={"help": "held-out images (probe, captioning, correction)"})
    image_size: int = field(default=32, metadata={"help": "image side in pixels"})
    hidden_size: int = field(default=64, metadata={"help": "width of the tiny LLaVA"})
    num_layers: int = field(default=2, metadata={"help": "language-model layers"})
    p_correction: float = field(default=0.3, metadata={"help": "share of correction samples (the paper's 30%)"})
    max_steps: int = field(default=800, metadata={"help": "optimizer steps of every arm"})
    batch_size: int = field(default=32, metadata={"help": "samples per step"})
    learning_rate: float = field(default=3e-3, metadata={"help": "peak learning rate (linear decay)"})
    warmup_steps: int = field(default=50, metadata={"help": "linear warm-up steps"})
    eval_corrections: int = field(default=300, metadata={"help": "held-out correction samples evaluated"})
    encoder_steps: int = field(default=1500, metadata={"help": "steps of the shapes dual encoder (arm vision)"})
    encoder_images: int = field(default=2000, metadata={"help": "training images of the dual encoder"})
    seeds: str = field(default="0,1,2", metadata={"help": "training seeds, comma-separated"})
    arms: str = field(default=",".join(ARMS), metadata={"help": "arms, comma-separated"})
    workers: int = field(default=2, metadata={"help": "training runs in parallel (one torch thread each)"})
    permutations: int = field(default=10000, metadata={"help": "sign flips of the paired permutation test"})

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(f.default, int) and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"`{f.name}` should be an int >= 0, got {value!r}.")
        if not 0.0 < self.p_correction <= 1.0:
            raise ValueError(f"`p_correction` should be in (0, 1], got {self.p_correction!r}.")
        unknown = [a for a in self.arm_list if a not in ARMS]
        if unknown:
            raise ValueError(f"Unknown arm(s) {unknown!r}. Available: {', '.join(map(repr, ARMS))}.")
        if not self.seed_list:
            raise ValueError(f"`seeds` should name at least one seed, got {self.seeds!r}.")

    @property
    def seed_list(self) -> list[int]:
        return [int(s) for s in str(self.seeds).split(",") if s.strip()]

    @property
    def arm_list(self) -> list[str]:
        return [a.strip() for a in str(self.arms).split(",") if a.strip()]

    @classmethod
    def quick(cls, **overrides) -> StudyConfig:
        values = dict(n_train_images=40, n_eval_images=10, max_steps=6, batch_size=8, warmup_steps=2,
                      eval_corrections=8, encoder_steps=10, encoder_images=40, seeds="0", workers=1,
                      permutations=200)
        values.update(overrides)
        return cls(**values)


# ------------------------------------------------------------------------------------------ the baseline
def reference_negative(concepts: list[dict], base, kinds, rng: np.random.Generator):
    """The paper's reference negative of a caption: one concept replaced uniformly, nothing checked.

    A concept of ``kinds`` is drawn uniformly among the caption's (parsed) concepts, and replaced by a
    concept of the same kind drawn uniformly from the concept base, other than itself. Unlike iccc
    there is no grammar repair (``an`` before a consonant stays), no truly-wrong check (``big`` may
    replace ``large``, ``under`` may replace ``below``: the "error" is then true of the image), no
    sibling-caption guard and no frequency balancing against blind detectors. A baseline for the study,
    not an iccc feature.

    Args:
        concepts: the caption's concepts as :func:`iccc.parsing.add_concepts` stores them (``kind``,
            ``start``, ``end``, ``text``).
        base: the :class:`iccc.ConceptBase` (its ``kept(kind)`` lists the replacements).
        kinds: the concept kinds that may be replaced.
        rng: the generator of the two draws.

    Returns:
        ``(start, end, original, replacement)`` or ``None`` when no concept can be replaced.

    >>> from types import SimpleNamespace
    >>> base = SimpleNamespace(kept=lambda kind: ["red", "blue"])
    >>> reference_negative([{"kind": "attribute", "start": 2, "end": 5, "text": "red"}], base, ["attribute"],
    ...                    np.random.default_rng(0))
    (2, 5, 'red', 'blue')
    """
    slots = [c for c in concepts if c["kind"] in kinds]
    while slots:
        concept = slots.pop(int(rng.integers(len(slots))))
        pool = [w for w in base.kept(concept["kind"]) if w != concept["text"]]
        if pool:
            return concept["start"], concept["end"], concept["text"], pool[int(rng.integers(len(pool)))]
    return None


def reference_rows(built, base, *, seed: int):
    """``built`` (an iccc build) with every correction row's negative replaced by :func:`reference_negative`."""
    def redo(row, idx):
        if row["task"] != "correction":
            return {}
        rng = np.random.default_rng([seed, idx, 7])
        found = reference_negative(row["concepts"], base, KINDS, rng)
        if found is None:
            return {"task": "caption", "prompt": CAPTION_PROMPT, "target": row["caption"], "corrupted_caption": None,
                    "operation": None, "concept_kind": None, "original": None, "replacement": None}
        start, end, original, replacement = found
        text = row["caption"]
        corrupted = text[:start] + replacement + text[end:]
        kind = next(c["kind"] for c in row["concepts"] if c["start"] == start and c["end"] == end)
        return {"prompt": CORRECTION_PROMPT.format(caption=corrupted), "target": f'"{replacement}" should be "{original}".',
                "corrupted_caption": corrupted, "operation": "replace", "concept_kind": kind, "original": original,
                "replacement": replacement}

    return built.map(redo, with_indices=True, desc="Reference negatives")


# ------------------------------------------------------------------------------------------ shapes grammar
_SIZE = {"small": "small", "large": "large", "big": "large"}
_PHRASE = r"(?:a|an) (?:(small|large|big) )?(\w+) (circle|square|triangle)"
_RELATIONS = {"to the left of": "left", "on the left of": "left", "to the right of": "right", "above": "above",
              "below": "below", "under": "below"}
_TWO = re.compile(rf"^{_PHRASE} ({'|'.join(_RELATIONS)}) {_PHRASE}$")
_ONE = re.compile(rf"^{_PHRASE}$")


def read_caption(caption: str):
    """``(objects, relation)`` of a caption in the shapes grammar, or ``None``: ``objects`` is a list of
    ``(size or None, colour, shape)`` in the caption's order, ``relation`` a key of the relation table
    ("left", "right", "above", "below") or ``None`` for one object.

    >>> read_caption("there is a big red circle on the left of a blue square.")
    ([('large', 'red', 'circle'), (None, 'blue', 'square')], 'left')
    """
    text = caption.strip().lower().rstrip(".").strip()
    for prefix in ("there is ", "a picture of "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    one = _ONE.match(text)
    if one:
        size, colour, shape = one.groups()
        return [(_SIZE.get(size), colour, shape)], None
    two = _TWO.match(text)
    if not two:
        return None
    s1, c1, h1, rel, s2, c2, h2 = two.groups()
    return [(_SIZE.get(s1), c1, h1), (_SIZE.get(s2), c2, h2)], _RELATIONS[rel]


def _matches(obj, phrase) -> bool:
    size, colour, shape = phrase
    return obj.colour == colour and obj.shape == shape and (size is None or obj.size == size)


def judge_caption(scene, caption: str) -> dict:
    """How a caption fares against its scene: ``parsed``, ``objects`` named, ``objects_right`` (named
    objects that exist), ``relation_right`` (None without a relation) and ``correct`` (parsed, true and
    naming every object of the scene)."""
    read = read_caption(caption)
    if read is None:
        return {"parsed": False, "objects": 0, "objects_right": 0, "relation_right": None, "correct": False}
    phrases, relation = read
    right = sum(any(_matches(o, p) for o in scene.objects) for p in phrases)
    relation_right = None
    if relation is not None:
        relation_right = False
        if len(scene.objects) == 2 and right == 2:
            first, second = scene.objects  # left / top first
            horizontal = relation in ("left", "right")
            if horizontal == (scene.layout == "horizontal"):
                a, b = (first, second) if relation in ("left", "above") else (second, first)
                relation_right = _matches(a, phrases[0]) and _matches(b, phrases[1])
    correct = (right == len(phrases) == len(scene.objects)) and (relation_right is not False)
    return {"parsed": True, "objects": len(phrases), "objects_right": right, "relation_right": relation_right,
            "correct": bool(correct)}


def caption_true(scene, caption: str) -> bool:
    """Whether ``caption`` (in the shapes grammar) is true of ``scene`` (every named object right, relation right)."""
    j = judge_caption(scene, caption)
    return j["parsed"] and j["objects_right"] == j["objects"] and j["relation_right"] is not False


# ------------------------------------------------------------------------------------------ probe foils
def probe_foils(caption: str, scene, rng: np.random.Generator) -> dict[str, str]:
    """One false variant of a true shapes ``caption`` per phenomenon of :data:`PHENOMENA` that applies.

    ``colour``, ``shape``, ``size`` and ``relation`` come from :func:`iccc.train.dual_encoder.make_foils`
    (one word changed; ``relation`` is its left/right or above/below flip); ``binding`` swaps the colour
    words of the two objects; ``existence`` names an object that is not in the image (one object's colour
    replaced by a colour absent from the scene and its shape by another shape). Foils that are not false
    of ``scene`` are left out.
    """
    from iccc.train.dual_encoder import make_foils
    from iccc.train.synthetic import COLOURS, SHAPES

    foils = make_foils(caption, rng)
    out = {}
    for kind in ("colour", "shape", "size"):
        if kind in foils:
            out[kind] = foils[kind]
    relation = foils.get("left_right") or foils.get("above_below")
    if relation:
        out["relation"] = relation
    words = caption.rstrip(".").split(" ")
    end = caption[len(caption.rstrip(".")):]
    colour_at = [i for i, w in enumerate(words) if w in COLOURS]
    if len(colour_at) == 2:
        swapped = list(words)
        swapped[colour_at[0]], swapped[colour_at[1]] = words[colour_at[1]], words[colour_at[0]]
        out["binding"] = " ".join(swapped) + end
    shape_at = [i for i, w in enumerate(words) if w in SHAPES]
    if colour_at and len(colour_at) == len(shape_at):
        k = int(rng.integers(len(colour_at)))
        absent = [c for c in COLOURS if c not in {o.colour for o in scene.objects}]
        other = [s for s in SHAPES if s != words[shape_at[k]]]
        changed = list(words)
        changed[colour_at[k]] = absent[int(rng.integers(len(absent)))]
        changed[shape_at[k]] = other[int(rng.integers(len(other)))]
        out["existence"] = " ".join(changed) + end
    return {k: fix_articles(v) for k, v in out.items() if not caption_true(scene, v)}


def fix_articles(text: str) -> str:
    """"a" / "an" made to agree with the next word (a foil changes the word after the article).

    >>> fix_articles("a orange circle above an red square.")
    'an orange circle above a red square.'
    """
    words = text.split(" ")
    for i in range(len(words) - 1):
        if words[i] in ("a", "an"):
            words[i] = "an" if words[i + 1][:1] in tuple("aeiou") else "a"
    return " ".join(words)



def caption_logprobs(model, processor, images, captions, *, batch_size: int = 64) -> np.ndarray:
    """Sum of the caption tokens' log-probabilities (and of the end-of-sequence token) after ``Caption:``."""
    import torch

    from iccc.train.data import Collator
    from iccc.train.generation import to_device

    collate = Collator(processor, padding_side="right")
    out = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(captions), batch_size):
            rows = [{"image": images[i], "prompt": CAPTION_PROMPT, "target": captions[i]}
                    for i in range(start, min(start + batch_size, len(captions)))]
            batch = to_device(collate(rows), "cpu")
            labels = batch.pop("labels")
            logits = model(**batch).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            target = labels[:, 1:]
            mask = target != -100
            picked = logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            out.extend((picked * mask).sum(-1).tolist())
    return np.asarray(out, dtype=np.float64)


# ------------------------------------------------------------------------------------------ phase 1: data
def _scenes(n_images: int, seed: int) -> list:
    from iccc.train.synthetic import sample_scene

    return [sample_scene(np.random.default_rng([seed, i])) for i in range(n_images)]


def prepare(cfg: StudyConfig, work: Path, log) -> dict:
    """Build every dataset, the tiny models and the probe in ``work``; returns a summary."""
    import iccc
    from iccc.base import ConceptBase
    from iccc.dataset import build_dataset
    from iccc.parsing import add_concepts
    from iccc.train import build_tiny_model
    from iccc.train.synthetic import make_shapes_dataset

    summary: dict = {"seeds": {}}
    common = dict(group_column="image_id", kinds=KINDS, correction_prompts=(CORRECTION_PROMPT,),
                  caption_prompts=(CAPTION_PROMPT,))
    # held-out images, the same for every seed and arm
    held = add_concepts(make_shapes_dataset(cfg.n_eval_images, seed=EVAL_SEED, image_size=cfg.image_size))
    scenes = _scenes(cfg.n_eval_images, EVAL_SEED)
    captions = list(held["caption"])
    image_ids = list(held["image_id"])
    assert all(caption_true(scenes[g], c) for c, g in zip(captions, image_ids)), "the shapes grammar reader is off"
    rng = np.random.default_rng([EVAL_SEED, 1])
    probe = [{"row": i, "image_id": g, "caption": c, "foils": probe_foils(c, scenes[g], rng)}
             for i, (c, g) in enumerate(zip(captions, image_ids))]
    (work / "probe.json").write_text(json.dumps(probe))
    held.remove_columns(["concepts", "parse_status"]).save_to_disk(str(work / "held_images"))
    summary["probe_items"] = {p: sum(p in item["foils"] for item in probe) for p in PHENOMENA}
    summary["probe_examples"] = probe[:4]

    embedder = None
    if "vision" in cfg.arm_list:
        from iccc.train.dual_encoder import train_shapes_encoder
        from iccc.vision import TransformersEmbedder

        start = time.perf_counter()
        encoder_dir = work / "encoder"
        training = train_shapes_encoder(encoder_dir, seed=0, steps=cfg.encoder_steps, n_images=cfg.encoder_images,
                                        batch_size=min(64, cfg.encoder_images),
                                        image_size=cfg.image_size, eval_images=min(200, cfg.n_eval_images), eval_seed=EVAL_SEED + 1)
        embedder = TransformersEmbedder(str(encoder_dir))
        summary["encoder"] = {"eval": training.get("eval"), "seconds": round(time.perf_counter() - start, 1)}
        log(f"dual encoder: {summary['encoder']}")

    for seed in cfg.seed_list:
        start = time.perf_counter()
        raw = make_shapes_dataset(cfg.n_train_images, seed=seed, image_size=cfg.image_size)
        train = add_concepts(raw)
        base = ConceptBase.from_dataset(train, group_column="image_id", above_mean=False)
        validation = build_dataset(held, p_correction=1.0, seed=EVAL_SEED, concepts=base, **common)
        validation.save_to_disk(str(work / f"seed{seed}" / "validation"))
        built = {}
        if "caption" in cfg.arm_list:
            built["caption"] = build_dataset(train, p_correction=0.0, seed=seed, concepts=base, **common)
        iccc_rows = build_dataset(train, p_correction=cfg.p_correction, seed=seed, concepts=base, keep_concepts=True,
                                  **common)
        if "iccc" in cfg.arm_list:
            built["iccc"] = iccc_rows
        if "reference" in cfg.arm_list:
            built["reference"] = reference_rows(iccc_rows, base, seed=seed)
        if "vision" in cfg.arm_list:
            from iccc.vision import ImagePrior, embed_dataset

            embeddings = embed_dataset(raw, embedder)
            parsed = iccc.parse(list(raw["caption"]))
            prior = ImagePrior.build(embeddings, encoder=embedder, parsed=parsed, p_scene=0.5, candidates=4)
            built["vision"] = build_dataset(train, p_correction=cfg.p_correction, seed=seed, concepts=base,
                                            vision=prior, **common)
        texts = []
        arms_summary = {}
        for arm, ds in built.items():
            keep = [c for c in ("image", "prompt", "target", "task", "operation", "concept_kind", "build_status")
                    if c in ds.column_names]
            ds = ds.select_columns(keep)
            ds.save_to_disk(str(work / f"seed{seed}" / arm))
            tasks = list(ds["task"])
            prompts, targets = list(ds["prompt"]), list(ds["target"])
            texts += [t for t in prompts + targets if t]
            ops = [f"{o}/{k}" for o, k, t in zip(ds["operation"], ds["concept_kind"], tasks) if t == "correction"]
            arms_summary[arm] = {"rows": len(ds), "corrections": tasks.count("correction"),
                                 "correction_share": tasks.count("correction") / len(ds),
                                 "types": {k: ops.count(k) for k in sorted(set(ops))},
                                 "examples": [(p, t) for p, t, k in zip(prompts, targets, tasks)
                                              if k == "correction"][:4],
                                 "mean_chars_per_sample": float(np.mean([len(p) + len(t) for p, t in
                                                                         zip(prompts, targets)]))}
        texts += list(validation["prompt"]) + list(validation["target"]) + [c for it in probe for c in
                                                                          [it["caption"], *it["foils"].values()]]
        build_tiny_model("llava", str(work / f"seed{seed}" / "model"), texts=texts, image_size=cfg.image_size, seed=seed,
                         hidden_size=cfg.hidden_size, num_layers=cfg.num_layers)
        summary["seeds"][seed] = {"arms": arms_summary, "seconds": round(time.perf_counter() - start, 1)}
        log(f"seed {seed}: data and model in {summary['seeds'][seed]['seconds']}s; "
            + ", ".join(f"{a} {s['corrections']}/{s['rows']} corrections" for a, s in arms_summary.items()))
    return summary


# ------------------------------------------------------------------------------------------ phase 2: one run
def run_arm(job: dict) -> dict:
    """Train one arm of one seed from the prepared data and evaluate it (runs in a worker process)."""
    import torch

    torch.set_num_threads(1)
    from datasets import DatasetDict, load_from_disk

    from iccc.train.config import TrainConfig
    from iccc.train.data import open_image
    from iccc.train.demo import blank_images, evaluate_by_kind
    from iccc.train.generation import generate_texts
    from iccc.train.loop import train

    cfg = StudyConfig(**job["config"])
    work, seed, arm = Path(job["work"]), job["seed"], job["arm"]
    data = load_from_disk(str(work / f"seed{seed}" / arm))
    config = TrainConfig(model=str(work / f"seed{seed}" / "model"), data=DatasetDict({"train": data}),
                         output_dir=str(work / f"seed{seed}" / f"out_{arm}"), lora=False,
                         learning_rate=cfg.learning_rate, warmup_steps=cfg.warmup_steps, lr_scheduler="linear",
                         max_steps=cfg.max_steps, per_device_batch_size=cfg.batch_size, max_grad_norm=1.0,
                         eval_split=None, save_steps=None, save_total_limit=1,
                         logging_steps=max(cfg.max_steps // 10, 1), seed=seed,
                         correction_template=CORRECTION_PROMPT, precision="fp32")
    wall, cpu = time.perf_counter(), time.process_time()
    result = train(config)
    train_seconds = {"wall": round(time.perf_counter() - wall, 1), "cpu": round(time.process_time() - cpu, 1)}
    model, processor = result.model, result.processor
    tokenizer = processor.tokenizer
    sample = data.select(range(min(len(data), 2000)))
    tokens_per_sample = float(np.mean([len(tokenizer(p + " " + t)["input_ids"]) for p, t in
                                       zip(sample["prompt"], sample["target"])]))

    held = load_from_disk(str(work / "held_images"))
    scenes = _scenes(cfg.n_eval_images, EVAL_SEED)
    images = [open_image(x) for x in held["image"]]
    blank = open_image(blank_images(held.select([0]), cfg.image_size)[0]["image"])
    probe = json.loads((work / "probe.json").read_text())

    # (a) probe by likelihood, with the images and with blank images
    probe_out = {}
    for name, imgs in (("image", images), ("blank", [blank] * len(images))):
        texts, owners = [], []
        for item in probe:
            texts.append(item["caption"])
            owners.append(item["row"])
            for p in PHENOMENA:
                if p in item["foils"]:
                    texts.append(item["foils"][p])
                    owners.append(item["row"])
        scores = caption_logprobs(model, processor, [imgs[o] for o in owners], texts)
        at, per_item = 0, {p: [] for p in PHENOMENA}
        for item in probe:
            true_score = scores[at]
            at += 1
            for p in PHENOMENA:
                if p in item["foils"]:
                    per_item[p].append(float(true_score > scores[at]))
                    at += 1
        probe_out[name] = {"items": {p: bits(v) for p, v in per_item.items()},
                           "accuracy": {p: float(np.mean(v)) if v else None for p, v in per_item.items()}}
        allv = [x for v in per_item.values() for x in v]
        probe_out[name]["accuracy"]["all"] = float(np.mean(allv)) if allv else None

    # (b) captioning quality: one greedy caption per held-out image
    firsts = sorted({g: i for i, g in reversed(list(enumerate(held["image_id"])))}.items())
    references: dict[int, set] = {}
    for c, g in zip(held["caption"], held["image_id"]):
        references.setdefault(g, set()).add(c.strip().lower())
    generated = generate_texts(model, processor, [{"image": images[i], "prompt": CAPTION_PROMPT} for _, i in firsts],
                               batch_size=32, max_new_tokens=24)
    per_caption = {m: [] for m in CAPTION_METRICS}
    objects = right = 0
    for (g, _), text in zip(firsts, generated):
        judged = judge_caption(scenes[g], text)
        per_caption["exact"].append(float(text.strip().lower() in references[g]))
        per_caption["correct"].append(float(judged["correct"]))
        objects += judged["objects"]
        right += judged["objects_right"]
        per_caption["attribute"].append(judged["objects_right"] / judged["objects"] if judged["objects"] else 0.0)
        if len(scenes[g].objects) == 2:
            per_caption["relation"].append(float(bool(judged["relation_right"])))
    captioning = {"items": per_caption, "scores": {m: float(np.mean(v)) if v else None for m, v in per_caption.items()},
                  "objects_named_right": right / objects if objects else None,
                  "parsed": float(np.mean([read_caption(t) is not None for t in generated])),
                  "examples": list(zip([sorted(references[g])[0] for g, _ in firsts[:6]], generated[:6]))}

    # (c) correction, and the blind control (same model, blank images)
    validation = load_from_disk(str(work / f"seed{seed}" / "validation"))
    correction = evaluate_by_kind(model, processor, validation, eval_samples=cfg.eval_corrections)
    blind = evaluate_by_kind(model, processor, blank_images(validation, cfg.image_size),
                             eval_samples=cfg.eval_corrections)
    return {"seed": seed, "arm": arm, "train_seconds": train_seconds, "steps": result.global_step,
            "loss_first10": float(np.mean(result.losses[:10])), "loss_last10": float(np.mean(result.losses[-10:])),
            "tokens_per_sample": tokens_per_sample, "tokens_per_step": tokens_per_sample * cfg.batch_size,
            "probe": probe_out, "captioning": captioning,
            "correction": {k: v for k, v in correction.items()}, "correction_blind": blind["all"],
            "cpu_seconds": round(time.process_time(), 1)}


# ------------------------------------------------------------------------------------------ phase 3: stats
def metric_table(runs: list[dict]) -> dict:
    """``{metric: value}`` of one run: probe accuracy per phenomenon (image and blank), captioning, correction."""
    out = {}
    for p, v in runs["probe"]["image"]["accuracy"].items():
        out[f"probe/{p}"] = v
    out["probe_blank/all"] = runs["probe"]["blank"]["accuracy"]["all"]
    for m, v in runs["captioning"]["scores"].items():
        out[f"caption/{m}"] = v
    out["correction/exact"] = runs["correction"]["all"]["correction_exact"]
    out["correction/span"] = runs["correction"]["all"]["span_identified"]
    out["correction_blind/exact"] = runs["correction_blind"]["correction_exact"]
    return out


def bits(values) -> str:
    """0/1 scores as a string of ``0`` and ``1`` (compact in the JSON); a string is returned as it is.

    >>> bits([1.0, 0.0, 1.0]), unbits("101").tolist()
    ('101', [1.0, 0.0, 1.0])
    """
    return values if isinstance(values, str) else "".join("1" if v else "0" for v in values)


def unbits(values) -> np.ndarray:
    """The inverse of :func:`bits` (a list passes through as floats)."""
    return np.asarray([c == "1" for c in values] if isinstance(values, str) else values, dtype=float)


def item_vectors(run: dict) -> dict:
    """Per-item 0/1 scores of one run (probe items per phenomenon and all, captions) for the paired test."""
    items = run["probe"]["image"]["items"]
    out = {f"probe/{p}": unbits(v) for p, v in items.items()}
    out["probe/all"] = np.concatenate([unbits(items[p]) for p in PHENOMENA])
    for m, v in run["captioning"]["items"].items():
        out[f"caption/{m}"] = np.asarray(v, dtype=float)
    return out


def paired_permutation(a: np.ndarray, b: np.ndarray, *, n: int, seed: int = 0) -> float:
    """Two-sided p-value of mean(a - b) = 0 by random sign flips of the paired differences."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size == 0 or not np.any(d):
        return 1.0
    rng = np.random.default_rng(seed)
    observed = abs(d.mean())
    signs = rng.choice([-1.0, 1.0], size=(n, d.size))
    null = np.abs((signs * d).mean(axis=1))
    return float((1 + np.sum(null >= observed - 1e-12)) / (n + 1))


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by its continued fraction (modified Lentz)."""
    import math

    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):  # the fraction converges fast below the mean; use the symmetry above it
        return 1.0 - _incomplete_beta(1.0 - x, b, a)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    value = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            value *= c * d
        if abs(c * d - 1.0) < 1e-14:
            break
    return front * value


def welch(a, b):
    """Two-sided Welch t-test p-value over seeds (numpy only; ``None`` with fewer than two values per arm).

    >>> round(welch([0.1, 0.2, 0.3], [0.4, 0.5, 0.6]), 4)   # t = -3.674, 4 degrees of freedom
    0.0213
    """
    a = np.asarray([x for x in a if x is not None], dtype=float)
    b = np.asarray([x for x in b if x is not None], dtype=float)
    if a.size < 2 or b.size < 2:
        return None
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = a.mean() - b.mean()
    if va + vb == 0:
        return 1.0 if diff == 0 else 0.0
    t = diff / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    return float(_incomplete_beta(df / (df + t * t), df / 2.0, 0.5))


def summarise(cfg: StudyConfig, runs: list[dict]) -> dict:
    arms = [a for a in ARMS if any(r["arm"] == a for r in runs)]
    per_arm = {}
    for arm in arms:
        tables = [metric_table(r) for r in runs if r["arm"] == arm]
        metrics = sorted({k for t in tables for k in t})
        per_arm[arm] = {}
        for m in metrics:
            values = [t.get(m) for t in tables]
            vals = [v for v in values if v is not None]
            per_arm[arm][m] = {"per_seed": values, "mean": float(np.mean(vals)) if vals else None,
                               "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0}
    tests = {}
    pairs = [(a, "caption") for a in arms if a != "caption" and "caption" in arms]
    pairs += [(a, "iccc") for a in ("reference", "vision") if a in arms and "iccc" in arms]
    for a, b in pairs:
        key = f"{a}_vs_{b}"
        tests[key] = {}
        vec_a = [item_vectors(r) for r in sorted(runs, key=lambda r: r["seed"]) if r["arm"] == a]
        vec_b = [item_vectors(r) for r in sorted(runs, key=lambda r: r["seed"]) if r["arm"] == b]
        for m in per_arm[a]:
            entry = {"difference": (None if per_arm[a][m]["mean"] is None or per_arm[b].get(m, {}).get("mean") is None
                                    else per_arm[a][m]["mean"] - per_arm[b][m]["mean"]),
                     "welch_p": welch(per_arm[a][m]["per_seed"], per_arm[b].get(m, {}).get("per_seed", []))}
            if vec_a and m in vec_a[0] and len(vec_a) == len(vec_b):
                ia = np.mean([v[m] for v in vec_a], axis=0)
                ib = np.mean([v[m] for v in vec_b], axis=0)
                entry["paired_permutation_p"] = paired_permutation(ia, ib, n=cfg.permutations)
                entry["items"] = int(ia.size)
            tests[key][m] = entry
    return {"per_arm": per_arm, "tests": tests}


HEADLINE = ["probe/all", "probe/binding", "probe/relation", "probe/colour", "probe/shape", "probe/size",
            "probe/existence", "probe_blank/all", "caption/exact", "caption/correct", "caption/attribute",
            "caption/relation", "correction/exact", "correction_blind/exact"]


def format_table(summary: dict) -> str:
    per_arm = summary["per_arm"]
    arms = list(per_arm)
    lines = [f"{'metric':<24}" + "".join(f"{a:>17}" for a in arms), "-" * (24 + 17 * len(arms))]
    for m in HEADLINE:
        cells = []
        for a in arms:
            e = per_arm[a].get(m)
            cells.append("-" if not e or e["mean"] is None else f"{e['mean']:.3f} ± {e['std']:.3f}")
        lines.append(f"{m:<24}" + "".join(f"{c:>17}" for c in cells))
    lines.append("")
    for key, t in summary["tests"].items():
        shown = ", ".join(f"{m} {t[m]['difference']:+.3f} (Welch {_p(t[m].get('welch_p'))}, paired "
                          f"{_p(t[m].get('paired_permutation_p'))})" for m in HEADLINE
                          if m in t and t[m]["difference"] is not None and m in ("probe/all", "caption/correct",
                                                                                   "correction/exact"))
        lines.append(f"{key}: {shown}")
    return "\n".join(lines)


def _p(p):
    return "-" if p is None else f"p={p:.3g}"


def plot(summary: dict, path: Path) -> bool:
    """Bar chart of the headline metrics per arm (mean ± std); False when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    per_arm = summary["per_arm"]
    arms = list(per_arm)
    metrics = [m for m in HEADLINE if any(m in per_arm[a] and per_arm[a][m]["mean"] is not None for a in arms)]
    fig, ax = plt.subplots(figsize=(13, 4.2))
    width = 0.8 / max(len(arms), 1)
    x = np.arange(len(metrics))
    for i, arm in enumerate(arms):
        means = [per_arm[arm].get(m, {}).get("mean") or 0.0 for m in metrics]
        stds = [per_arm[arm].get(m, {}).get("std") or 0.0 for m in metrics]
        ax.bar(x + (i - (len(arms) - 1) / 2) * width, means, width, yerr=stds, capsize=2, label=arm)
    ax.set_xticks(x)
    ax.set_xticklabels(metrics, rotation=35, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy (mean ± std over seeds)")
    ax.set_title("ICCC study on held-out shapes images: probe (likelihood), captioning, correction")
    ax.legend(fontsize=8, ncol=len(arms))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def machine() -> dict:
    import subprocess

    try:
        import iccc

        repo = Path(iccc.__file__).resolve().parents[1]
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d"), "git_commit": commit}


def run_study(cfg: StudyConfig, work: Path, log=print) -> dict:
    import torch

    torch.set_num_threads(1)  # the shapes dual encoder trains in this process; runs set theirs
    started, cpu0 = time.perf_counter(), time.process_time()
    prep = prepare(cfg, work, log)
    prep_seconds = time.perf_counter() - started
    jobs = [{"config": asdict(cfg), "work": str(work), "seed": s, "arm": a} for s in cfg.seed_list
            for a in cfg.arm_list]
    runs = []

    def keep(run):  # every finished run is saved at once: a crash later loses nothing
        runs.append(run)
        with open(work / "runs.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(run) + "\n")

    if cfg.workers <= 1:
        for job in jobs:
            keep(run_arm(job))
            log(f"  {job['arm']} seed {job['seed']}: {_brief(runs[-1])}")
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(cfg.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_arm, job): job for job in jobs}
            for future in as_completed(futures):
                keep(future.result())
                log(f"  {runs[-1]['arm']} seed {runs[-1]['seed']}: {_brief(runs[-1])}")
    runs.sort(key=lambda r: (ARMS.index(r["arm"]), r["seed"]))
    summary = summarise(cfg, runs)
    worker_cpu = sum(r["cpu_seconds"] for r in runs) if cfg.workers > 1 else 0.0
    return {"config": asdict(cfg), "machine": machine(), "data": prep, "summary": summary,
            "runs": runs, "seconds": {"wall": round(time.perf_counter() - started, 1), "prepare": round(prep_seconds, 1),
                                      "cpu": round(time.process_time() - cpu0 + worker_cpu, 1)}}


def _brief(run: dict) -> str:
    return (f"probe {run['probe']['image']['accuracy']['all']:.3f} (blank {run['probe']['blank']['accuracy']['all']:.3f}), "
            f"caption correct {run['captioning']['scores']['correct']:.3f}, correction "
            f"{run['correction']['all']['correction_exact']:.3f} (blind {run['correction_blind']['correction_exact']:.3f}), "
            f"train {run['train_seconds']['wall']}s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke-run sizes (well under a minute)")
    parser.add_argument("--out", default=None, help="JSON path (default results/study[_quick].json)")
    parser.add_argument("--figure", default=None, help="figure path (default study_iccc.png; none with --quick)")
    parser.add_argument("--work", default=None, help="working directory (default: a temporary one)")
    for f in fields(StudyConfig):
        kind = {"int": int, "float": float}.get(type(f.default).__name__, str)
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=kind, default=None,
                            help=f.metadata.get("help"))
    parser.add_argument("--resummarise", metavar="PATH", default=None,
                        help="recompute the statistics, table and figure from a saved report (.json) or from the "
                             "runs.jsonl of a working directory (sizes then from the options), without training")
    args = parser.parse_args(argv)
    overrides = {f.name: getattr(args, f.name) for f in fields(StudyConfig) if getattr(args, f.name) is not None}
    cfg = StudyConfig.quick(**overrides) if args.quick else StudyConfig(**overrides)
    out = Path(args.out) if args.out else HERE / "results" / ("study_quick.json" if args.quick else "study.json")
    if args.resummarise:
        source = Path(args.resummarise)
        if source.suffix == ".jsonl":
            runs = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
            report = {"config": asdict(cfg), "machine": machine(), "runs": runs,
                      "seconds": {"cpu": round(sum(r["cpu_seconds"] for r in runs), 1)}}
        else:
            report = json.loads(source.read_text())
            cfg = StudyConfig(**report["config"])
        report["runs"].sort(key=lambda r: (ARMS.index(r["arm"]), r["seed"]))
        for run in report["runs"]:  # reports written before the items were stored as bits
            for probe in run["probe"].values():
                probe["items"] = {p: bits(v) for p, v in probe["items"].items()}
        report["summary"] = summarise(cfg, report["runs"])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(args.work) if args.work else Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            report = run_study(cfg, work)
        report["mode"] = "quick" if args.quick else "full"
    report["table"] = format_table(report["summary"])
    figure = Path(args.figure) if args.figure else (None if args.quick else HERE / "study_iccc.png")
    report["figure"] = str(figure.name) if figure and plot(report["summary"], figure) else None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(report["table"])
    print(f"time: {report['seconds']}; wrote {out}" + (f" and {figure}" if report["figure"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
