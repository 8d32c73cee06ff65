"""Negative quality: can (real, negative) caption pairs be told apart *without the image*?

ICCC negatives should be wrong for the image yet look like real captions; if a text-only model
can pick the real caption, a VLM trained on them learns that shortcut. For each source of
(real, negative, type) triples this script reports the pairwise accuracy of three blind detectors
from :mod:`iccc.detectors` (0.5 = undetectable, 1.0 = trivially detectable):

* **LM total / LM per-token**: a trigram Kneser-Ney LM over lowercased words and punctuation
  (spacing ignored) prefers the real caption (total log-probability, as SugarCrepe's blind test
  does; and per-token log-probability, which cancels most of the length effect). Content only.
* **LM cased**: the same LM but case- and spacing-sensitive (``lowercase=False,
  mark_spacing=True``), total log-probability: content *and* typography.
* **classifier**: a linear model over hashed word/bigram/character n-gram/length features,
  trained on half of the pairs and tested on the other half (both ways; pairs sharing a caption
  stay on one side). It learns whatever surface artefact separates the negatives.

``±95%`` is the half-width of a 95% binomial interval at p = 0.5 for that many pairs.

Sources (pluggable: a dict name -> zero-argument function returning (real, negative, type) triples):

* ``sugarcrepe``: SugarCrepe's 7 types, LLM-written and human-checked (rows per type, too).
* ``negclip``: NegCLIP/ARO validation word-order negatives (rule-based swaps; re-tokenised text).
* ``reference_rules``: a re-implementation of ICCC's reference corruption rules as a baseline:
  lowercase and re-tokenise the caption (spaCy tokens joined by spaces: "dog ." "man 's"), then
  replace one random NOUN or ADJ token with a word of that class drawn in proportion to its
  frequency (top 1,000) in the corrupted captions themselves. The "adjective" list takes every adjectival
  or compound modifier (``amod``, ``compound``) and every ADJ, so nouns such as "tennis" or "fire"
  land in adjective slots, as in the reference code. Reals: the distinct SugarCrepe positives.

* ``null_control``: real val2017 captions paired with real captions of other images, a check
  that the detectors and this harness have no bias of their own (expected 0.5 everywhere).

Rows marked ``[norm]`` apply :func:`surface_normalise` to both captions first (outer whitespace
stripped, space before punctuation removed, first letter upper-case, final period): what is left
is detectable from content, not typography.

LM training data: never the evaluated captions. COCO Karpathy test captions (5,000 val2014
images), minus the 593 images that are also in val2017 (SugarCrepe's images: their other four
captions would describe the same scene) and minus any image with a caption equal, after
tokenisation, to an evaluated real or negative; plus SCAN's Karpathy-val ``dev_caps.txt``
(detokenised), minus every 5-caption image block that holds an evaluated caption (NegCLIP's
reals are Karpathy-val captions, so 964 of its 1,000 images drop out). ``--corpus ...,factual``
adds FACTUAL train region captions (Visual Genome, whose images partly overlap COCO; that overlap
cannot be checked here, so it is off by default).

Usage::

    python benchmarks/bench_quality.py            # all pairs -> results/quality.json (about a minute)
    python benchmarks/bench_quality.py --quick    # a few hundred pairs per source -> results/quality_quick.json

From a notebook or another benchmark::

    from bench_quality import evaluate, fit_lms, format_table, texts_of
    lm, cased, info = fit_lms(exclude=texts_of({"mine": my_pairs}))
    print(format_table(evaluate({"mine": lambda: my_pairs}, lm=lm, surface_lm=cased, seed=0)))
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as _dt
import gzip
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ICCC_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"

sys.path.insert(0, str(ROOT))
from iccc.detectors import (  # noqa: E402
    NgramLM,
    classifier_pairwise_accuracy,
    lm_pairwise_accuracy,
    tokenize,
)

SUGARCREPE_TYPES = ("replace_obj", "replace_att", "replace_rel", "swap_obj", "swap_att", "add_obj", "add_att")
CORPUS_PARTS = ("coco", "scan", "factual")

Triple = tuple  # (real, negative, type)
Source = Union[Callable[[], Sequence[Triple]], Sequence[Triple]]


def _need(path: Path) -> Path:
    if not path.exists():
        sys.exit(
            f"Data file not found: {path}. Put the project's shared data at {DATA} (or set ICCC_SHARED_DATA)."
        )
    return path


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------


def sugarcrepe_pairs(types: Iterable[str] = SUGARCREPE_TYPES) -> list[Triple]:
    """SugarCrepe (caption, negative_caption, type, image id) tuples, file order."""
    out = []
    for name in types:
        with open(_need(DATA / "sugarcrepe" / f"{name}.json"), encoding="utf-8") as f:
            records = json.load(f)
        out += [
            (r["caption"], r["negative_caption"], name, int(r["filename"].split(".")[0]))
            for _, r in sorted(records.items(), key=lambda kv: int(kv[0]))
        ]
    return out


def negclip_pairs() -> list[Triple]:
    """NegCLIP validation (title, each of its negatives, "swap") triples."""
    out = []
    with gzip.open(
        _need(DATA / "negclip_coco" / "valid_neg_clip.tsv.gz"), "rt", encoding="utf-8", newline=""
    ) as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader)
        col_t, col_n = header.index("title"), header.index("neg_caption")
        for row in reader:
            out += [(row[col_t], neg, "swap") for neg in ast.literal_eval(row[col_n])]
    return out


def reference_rules_pairs(
    captions: Sequence[str],
    *,
    seed: int = 0,
    nlp=None,
    top_k: int = 1000,
    weighting: str = "frequency",
    batch_size: int = 256,
) -> list[Triple]:
    """Baseline negatives made the way ICCC's reference rules make them (see module docstring).

    Args:
        captions: real captions to corrupt (one negative each; captions with no NOUN/ADJ are skipped).
        seed: seed of the slot and word choices.
        nlp: a spaCy pipeline (default ``iccc.load_parser()``).
        top_k: size of each frequency list (most frequent words of the class in ``captions``).
        weighting: ``"frequency"`` draws a replacement in proportion to its count, ``"uniform"``
            draws uniformly from the list (rarer words, easier to detect).
    """
    import iccc

    if weighting not in ("frequency", "uniform"):
        raise ValueError(f"Unknown weighting {weighting!r}. Available: 'frequency', 'uniform'.")

    nlp = iccc.load_parser(nlp)
    docs = list(nlp.pipe(captions, batch_size=batch_size))
    nouns, adjs = Counter(), Counter()
    for doc in docs:
        for tok in doc:
            if not tok.is_alpha:
                continue
            word = tok.text.lower()
            if tok.pos_ == "ADJ" or tok.dep_ in ("amod", "compound"):
                adjs[word] += 1
            elif tok.pos_ == "NOUN":
                nouns[word] += 1
    pools = {"NOUN": nouns.most_common(top_k), "ADJ": adjs.most_common(top_k)}
    rng = np.random.default_rng(seed)
    out = []
    for caption, doc in zip(captions, docs):
        toks = [t for t in doc if not t.is_space]
        words = [t.text.lower() for t in toks]
        slots = [i for i, t in enumerate(toks) if t.pos_ in ("NOUN", "ADJ") and t.is_alpha]
        if not slots:
            continue
        i = slots[int(rng.integers(len(slots)))]
        pos = toks[i].pos_
        pool = [(w, c) for w, c in pools[pos] if w != words[i]]
        if not pool:
            continue
        if weighting == "frequency":
            weights = np.array([c for _, c in pool], dtype=float)
            words[i] = pool[int(rng.choice(len(pool), p=weights / weights.sum()))][0]
        else:
            words[i] = pool[int(rng.integers(len(pool)))][0]
        out.append((caption, " ".join(words), f"replace_{'noun' if pos == 'NOUN' else 'adj'}"))
    return out


def null_control_pairs(n: int = 4000, *, seed: int = 0) -> list[Triple]:
    """Real captions paired with real captions of other val2017 images: every detector should score 0.5."""
    with gzip.open(_need(DATA / "coco_captions" / "captions_val2017.json.gz"), "rt", encoding="utf-8") as f:
        annotations = json.load(f)["annotations"]
    order = np.random.default_rng(seed).permutation(len(annotations))
    out = []
    for i, j in zip(order[:n], order[n : 2 * n]):
        a, b = annotations[i], annotations[j]
        if a["image_id"] != b["image_id"]:
            out.append((a["caption"], b["caption"], "null"))
    return out


# --------------------------------------------------------------------------------------------
# iccc's own negatives
# --------------------------------------------------------------------------------------------

_ICCC_CACHE = ROOT / "benchmarks" / ".cache"


def coco_val2017() -> list[dict]:
    """val2017 caption annotations: ``{"image_id", "id", "caption"}``."""
    with gzip.open(_need(DATA / "coco_captions" / "captions_val2017.json.gz"), "rt", encoding="utf-8") as f:
        return json.load(f)["annotations"]


def parsed_val2017(n_images: Optional[int] = None):
    """val2017 captions parsed with iccc (cached on disk, keyed by the extraction code's hash)."""
    import hashlib

    import iccc
    from iccc import ParsedCaption

    anns = coco_val2017()
    if n_images is not None:
        keep = set(sorted({a["image_id"] for a in anns})[:n_images])
        anns = [a for a in anns if a["image_id"] in keep]
    # the cache is keyed by the parser's code: every file of iccc/parsing, whatever its layout
    code = b"".join(p.read_bytes() for p in sorted((ROOT / "iccc" / "parsing").rglob("*.py")))
    key = hashlib.sha1(code + str(n_images).encode()).hexdigest()[:12]
    cache = _ICCC_CACHE / f"val2017_parsed_{key}.jsonl.gz"
    if cache.is_file():
        with gzip.open(cache, "rt", encoding="utf-8") as f:
            parsed = [ParsedCaption.from_dict(json.loads(line)) for line in f]
    else:
        parsed = iccc.parse([a["caption"] for a in anns])
        cache.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(cache, "wt", encoding="utf-8") as f:
            for p in parsed:
                f.write(json.dumps(p.to_dict()) + "\n")
    return anns, parsed


#: The mix plan (requested share, rate, feasible share, expected share per operation) of each
#: iccc engine built by :func:`iccc_records` in this process: "feasible" is the share of the
#: captions an operation can edit, the ceiling of its achieved share (saved as ``mix_plans``).
MIX_PLANS: dict[str, dict] = {}


def iccc_records(*, quick: bool = False, seed: int = 0, balance: bool = True, balance_rows: int | None = None,
                 **config):
    """Corrupt every val2017 caption with iccc's defaults (concept base built from the same
    captions, grouped by image for the sibling-caption guard, frequency-balanced on them unless
    ``balance=False``, as a user would on their own data). ``balance_rows``: balance on an even
    sample of at most that many captions (every k-th, as :func:`iccc.dataset.concept_base`
    samples), not on all of them.

    Returns ``(anns, records)`` with one record (or ``None``) per caption.
    """
    import iccc
    from iccc.balance import balance_insertions

    anns, parsed = parsed_val2017(300 if quick else None)
    groups = [a["image_id"] for a in anns]
    base = iccc.ConceptBase.from_parsed(parsed, groups=groups)
    if balance:  # the recommended pipeline: insertions as frequent as the words they replace
        sample, sample_groups = parsed, groups
        if balance_rows is not None:
            stride = max(1, -(-len(parsed) // balance_rows))
            keep = [i for i in range(0, len(parsed), stride) if parsed[i].concepts][:balance_rows]
            sample, sample_groups = [parsed[i] for i in keep], [groups[i] for i in keep]
        balance_insertions(base, sample, groups=sample_groups, seed=seed, **config)
    engine = iccc.Corruptor(base, **config)
    label = "balanced" if balance else "unbalanced"
    MIX_PLANS[label if balance_rows is None else f"{label}_{balance_rows}"] = engine.mix.to_dict()
    # the records of engine.one(p, rng=np.random.default_rng([seed, i]), group=...) row by row, faster
    records = engine.many(parsed, [np.random.default_rng([seed, i]) for i in range(len(parsed))], groups)
    return anns, records


def iccc_pairs(*, quick: bool = False, seed: int = 0, balance: bool = True, balance_rows: int | None = None,
               **config) -> list[Triple]:
    """(real, negative, ``{operation}_{kind}``, image id) of every val2017 caption iccc corrupts."""
    anns, records = iccc_records(quick=quick, seed=seed, balance=balance, balance_rows=balance_rows, **config)
    return [(r.caption, r.corrupted_caption, f"{r.operation}_{r.concept_kind}", a["image_id"])
            for a, r in zip(anns, records) if r is not None]


_STOP = frozenset(
    """a an the of in on at with and or is are was were be to by for from over under his her its
    their this that these those there some it he she they up down into onto while who which has
    have near next top front side out off as one two three""".split()
)


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP}


def _stem(w: str) -> str:
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def possibly_true_rate(pairs_with_image: Sequence[tuple[str, str, object]], captions_by_image: Mapping,
                       *, stem: bool = True) -> dict:
    """Share of negatives whose *inserted* content words (in the negative, not in the real
    caption) all... any of them appears in another caption of the same image: the negative may
    then be true of the image. Words are compared lower-cased with a plural ``s`` stripped
    (``stem=False``: as written, for number edits, where "dog" and "dogs" are the change)."""
    _stem_or_not = _stem if stem else (lambda w: w)
    n = hits = 0
    for real, negative, image in pairs_with_image:
        inserted = {_stem_or_not(w) for w in _content(negative) - _content(real)}
        if not inserted:
            continue
        siblings = set()
        for other in captions_by_image.get(image, ()):
            if other.strip() != real.strip():
                siblings |= {_stem_or_not(w) for w in _content(other)}
        n += 1
        hits += bool(inserted & siblings)
    return {"n": n, "possibly_true": hits / n if n else None}


_A_VOWEL = re.compile(r"\b[aA] (?!u[nst]|one|uni|eu|use|usu|ut)[aeiouAEIOU]\w*")
_AN_CONSONANT = re.compile(r"\b[aA]n (?!h(?:our|onest|onou?r|eir))[b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z]\w*")


def grammar_checks(pairs: Sequence[Triple]) -> dict:
    """Surface checks on negatives that their real caption passes: a/an disagreement introduced,
    doubled or lost spaces, first-letter case changed, trailing whitespace/period changed."""
    def article_errors(t):
        return len(_A_VOWEL.findall(t)) + len(_AN_CONSONANT.findall(t))

    counts = Counter()
    for real, neg, *_ in pairs:
        counts["article"] += article_errors(neg) > article_errors(real)
        counts["spacing"] += neg.count("  ") != real.count("  ") or (neg != neg.strip()) != (real != real.strip())
        counts["first_case"] += bool(real[:1] and neg[:1]) and real[:1].isupper() != neg[:1].isupper()
        counts["final_period"] += real.rstrip().endswith(".") != neg.rstrip().endswith(".")
        counts["no_op"] += caption_key(real) == caption_key(neg)
    n = max(len(pairs), 1)
    return {k: counts[k] / n for k in ("article", "spacing", "first_case", "final_period", "no_op")}


def negative_report(*, quick: bool = False, seed: int = 0) -> dict:
    """Coverage, per-operation shares, grammar checks and possibly-true rates of iccc's negatives,
    beside the same checks on SugarCrepe (whose images are val2017 too)."""
    anns, records = iccc_records(quick=quick, seed=seed)
    by_image: dict = {}
    for a in coco_val2017():
        by_image.setdefault(a["image_id"], []).append(a["caption"])
    ok = [(a, r) for a, r in zip(anns, records) if r is not None]
    ops = Counter(f"{r.operation}_{r.concept_kind}" for _, r in ok)
    iccc_pairs_ = [(r.caption, r.corrupted_caption, a["image_id"]) for a, r in ok]
    report = {
        "iccc": {
            "captions": len(anns),
            "coverage": len(ok) / max(len(anns), 1),
            "operations": {k: v / max(len(ok), 1) for k, v in sorted(ops.items())},
            "grammar": grammar_checks(iccc_pairs_),
            **possibly_true_rate(iccc_pairs_, by_image),
        }
    }
    sc = []
    for t in SUGARCREPE_TYPES:
        with open(_need(DATA / "sugarcrepe" / f"{t}.json"), encoding="utf-8") as f:
            for rec in json.load(f).values():
                sc.append((rec["caption"], rec["negative_caption"], int(rec["filename"].split(".")[0])))
    report["sugarcrepe"] = {"grammar": grammar_checks(sc), **possibly_true_rate(sc, by_image)}
    return report


def default_sources(*, quick: bool = False, seed: int = 0) -> dict[str, Callable[[], list[Triple]]]:
    """The sources this benchmark reports: iccc, SugarCrepe, NegCLIP, reference rules, a null control."""

    def rules() -> list[Triple]:
        reals = list(dict.fromkeys(p[0] for p in sugarcrepe_pairs()))
        if quick:
            reals = [reals[i] for i in sorted(np.random.default_rng(seed).permutation(len(reals))[:300])]
        return reference_rules_pairs(reals, seed=seed)

    return {
        "iccc": lambda: iccc_pairs(quick=quick, seed=seed),
        "iccc_unbalanced": lambda: iccc_pairs(quick=quick, seed=seed, balance=False),
        # balanced on an even 40% sample (10k of 25k captions; 120 of 300 with --quick): how
        # large the build's balancing sample must be (iccc.dataset.BALANCE_ROWS)
        "iccc_balance_sample": lambda: iccc_pairs(quick=quick, seed=seed, balance_rows=120 if quick else 10_000),
        "sugarcrepe": sugarcrepe_pairs,
        "negclip": negclip_pairs,
        "reference_rules": rules,
        "null_control": lambda: null_control_pairs(seed=seed),
    }


# --------------------------------------------------------------------------------------------
# LM training corpus
# --------------------------------------------------------------------------------------------


def caption_key(text: str) -> str:
    """Case- and spacing-insensitive identity of a caption, for excluding evaluated captions."""
    return " ".join(tokenize(text))


def texts_of(pairs_by_source: Mapping[str, Sequence[Triple]]) -> set[str]:
    """Every real and negative caption of the given pairs."""
    return {t for pairs in pairs_by_source.values() for p in pairs for t in p[:2]}


_DETACHED = re.compile(r"\s+(?=[.,!?;:)]|'s\b|'re\b|'ve\b|'ll\b|'d\b|'m\b|n't\b)")


def detokenise(text: str) -> str:
    """Undo SCAN-style tokenisation: ``"a man 's dog ."`` -> ``"a man's dog."``."""
    return _DETACHED.sub("", text.strip())


def lm_corpus(exclude: Iterable[str] = (), parts: Sequence[str] = ("coco", "scan")) -> tuple[list[str], dict]:
    """Training captions for the blind LMs, without the evaluated ones (see module docstring).

    Args:
        exclude: captions being evaluated; whole images holding one of them are dropped.
        parts: any of ``"coco"`` (Karpathy test), ``"scan"`` (SCAN Karpathy-val dev), ``"factual"``.

    Returns:
        The captions and a dict of counts per part, for the results file.
    """
    bad = [p for p in parts if p not in CORPUS_PARTS]
    if bad:
        raise ValueError(f"Unknown corpus part(s) {bad!r}. Available: {', '.join(map(repr, CORPUS_PARTS))}.")
    keys = {caption_key(t) for t in exclude}
    texts: list[str] = []
    info: dict = {}
    if "coco" in parts:
        with gzip.open(
            _need(DATA / "coco_captions" / "captions_val2017.json.gz"), "rt", encoding="utf-8"
        ) as f:
            val2017 = {im["id"] for im in json.load(f)["images"]}
        with gzip.open(
            _need(DATA / "coco_captions" / "coco_karpathy_test.json.gz"), "rt", encoding="utf-8"
        ) as f:
            karpathy = json.load(f)
        kept = dropped_2017 = dropped_eval = 0
        for rec in karpathy:
            image_id = int(re.search(r"(\d+)\.jpg$", rec["image"]).group(1))
            caps = [c.strip() for c in rec["caption"]]
            if image_id in val2017:
                dropped_2017 += 1
            elif any(caption_key(c) in keys for c in caps):
                dropped_eval += 1
            else:
                kept += 1
                texts += caps
        info["coco_karpathy_test"] = {
            "images_kept": kept,
            "images_dropped_in_val2017": dropped_2017,
            "images_dropped_evaluated_caption": dropped_eval,
        }
    if "scan" in parts:
        lines = (
            _need(DATA / "coco_captions" / "scan_coco_precomp" / "dev_caps.txt")
            .read_text("utf-8")
            .splitlines()
        )
        blocks = [[detokenise(s) for s in lines[i : i + 5]] for i in range(0, len(lines), 5)]
        kept_blocks = [b for b in blocks if not any(caption_key(c) in keys for c in b)]
        texts += [c for b in kept_blocks for c in b]
        info["scan_dev"] = {
            "images_kept": len(kept_blocks),
            "images_dropped_evaluated_caption": len(blocks) - len(kept_blocks),
        }
    if "factual" in parts:
        with gzip.open(
            _need(DATA / "factual" / "factual_sg" / "random" / "train.csv.gz"), "rt", encoding="utf-8"
        ) as f:
            caps = [row["caption"].strip() for row in csv.DictReader(f)]
        kept_caps = [c for c in caps if caption_key(c) not in keys]
        texts += kept_caps
        info["factual_train"] = {
            "captions_kept": len(kept_caps),
            "captions_dropped": len(caps) - len(kept_caps),
        }
    info["captions"] = len(texts)
    return texts, info


def fit_lms(
    exclude: Iterable[str] = (), *, parts: Sequence[str] = ("coco", "scan"), order: int = 3
) -> tuple[NgramLM, NgramLM, dict]:
    """The content LM (lowercased, spacing ignored) and the cased, spacing-aware LM, on :func:`lm_corpus`."""
    texts, info = lm_corpus(exclude, parts)
    lm = NgramLM(order).fit(texts)
    cased = NgramLM(order, lowercase=False, mark_spacing=True).fit(texts)
    return lm, cased, info


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------

_SPACE_BEFORE_PUNCT = re.compile(r"\s+(?=[.,!?;:]|'s\b|n't\b)")


def surface_normalise(text: str) -> str:
    """Strip, collapse spaces, attach punctuation, capitalise the first letter, end with a period."""
    text = _SPACE_BEFORE_PUNCT.sub("", " ".join(text.split()))
    if text and text[0].isalpha():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?":
        text += "."
    return text


def _ci95(n: int) -> float:
    return 1.96 * 0.5 / math.sqrt(n) if n else float("nan")


def _row(name: str, pairs: list[Triple], *, lm, surface_lm, seed: int, n_folds: int) -> dict:
    two = [(p[0], p[1]) for p in pairs]
    groups = len({p[0] for p in two})
    row = {
        "source": name,
        "n_pairs": len(two),
        "ci95": _ci95(len(two)),
        "lm_total": lm_pairwise_accuracy(lm, two),
        "lm_per_token": lm_pairwise_accuracy(lm, two, per_token=True),
        "lm_cased_total": lm_pairwise_accuracy(surface_lm, two) if surface_lm is not None else None,
        "classifier": classifier_pairwise_accuracy(two, seed=seed, n_folds=n_folds)
        if groups >= n_folds
        else None,
        "same_tokens": sum(caption_key(r) == caption_key(n) for r, n in two),
    }
    return row


def evaluate(
    sources: Mapping[str, Source],
    *,
    lm: NgramLM,
    seed: int = 0,
    surface_lm: Optional[NgramLM] = None,
    n_folds: int = 2,
    max_pairs: Optional[int] = None,
    normalised: bool = True,
) -> dict:
    """Blind-detector accuracies of each source, overall and per type.

    Args:
        sources: name -> (real, negative, type) triples, or a zero-argument function returning them.
        lm: fitted content LM (trained on captions that are not evaluated here).
        seed: seed of subsampling and of the classifier's train/test split.
        surface_lm: optional cased/spacing-aware LM for the ``lm_cased_total`` column.
        n_folds: classifier cross-validation folds (2 = train on half, test on the other half).
        max_pairs: subsample each source to at most this many pairs (stratified by nothing; seeded).
        normalised: add a ``[norm]`` row per source with :func:`surface_normalise` on both sides.

    Returns:
        ``{"rows": [...], "seconds": ...}``; each row has ``source``, ``n_pairs``, ``ci95``,
        ``lm_total``, ``lm_per_token``, ``lm_cased_total``, ``classifier`` and ``same_tokens`` (pairs
        whose captions tokenise alike, i.e. differ only in case or spacing: no real corruption).
    """
    t0 = time.perf_counter()
    rows = []
    for name, source in sources.items():
        pairs = list(source() if callable(source) else source)
        if max_pairs is not None and len(pairs) > max_pairs:
            keep = np.sort(np.random.default_rng(seed).permutation(len(pairs))[:max_pairs])
            pairs = [pairs[i] for i in keep]
        if not pairs:
            rows.append({"source": name, "n_pairs": 0})
            continue
        kw = {"lm": lm, "surface_lm": surface_lm, "seed": seed, "n_folds": n_folds}
        rows.append(_row(name, pairs, **kw))
        types = sorted({p[2] for p in pairs if len(p) > 2})
        if len(types) > 1:
            for t in types:
                rows.append(_row(f"{name}/{t}", [p for p in pairs if len(p) > 2 and p[2] == t], **kw))
        if normalised:
            norm = [(surface_normalise(p[0]), surface_normalise(p[1])) for p in pairs]
            rows.append(_row(f"{name} [norm]", norm, **kw))
    return {"rows": rows, "seconds": round(time.perf_counter() - t0, 2)}


#: The phenomena the compositionality benchmarks test, and the iccc and SugarCrepe types that make each.
PHENOMENA = {
    "object": ("replace_noun", "replace_entity", "replace_obj"),
    "attribute": ("replace_attribute", "replace_att"),
    "action": ("replace_verb",),
    "relation": ("replace_relation", "replace_rel"),
    "count": ("replace_count",),
    "number": ("number_noun", "number_entity", "number_count"),
    "existence": ("existence_entity", "existence_relation", "existence_noun"),
    "object swap": ("swap_noun", "swap_obj"),
    "binding swap": ("swap_attribute", "swap_att"),
    "actant swap": ("swap_relation",),
    "addition": ("add_attribute", "add_entity", "add_obj", "add_att"),
}


def phenomenon_of(kind: str) -> str:
    """The phenomenon of a ``{operation}_{concept_kind}`` (or SugarCrepe) type; its own name if unknown."""
    for name, types in PHENOMENA.items():
        if kind in types:
            return name
    return kind


#: Phenomena with fewer pairs than this get the classifier's accuracy averaged over
#: :data:`SMALL_SPLITS` fold splits (seeds ``seed .. seed + SMALL_SPLITS - 1``): on 78 existence
#: pairs one 2-fold split gave anything from 0.59 to 0.76 depending on its seed.
SMALL_ROW = 2000
SMALL_SPLITS = 8


def _classifier(two: list, *, seed: int, n_folds: int) -> tuple[float, int]:
    """The classifier's held-out accuracy on ``two`` and the number of splits it is averaged over."""
    splits = SMALL_SPLITS if len(two) < SMALL_ROW else 1
    return float(np.mean([classifier_pairwise_accuracy(two, seed=seed + k, n_folds=n_folds)
                          for k in range(splits)])), splits


def phenomenon_table(pairs: Mapping[str, Sequence[Triple]], *, lm, seed: int = 0, n_folds: int = 2,
                     sources: Sequence[str] = ("iccc", "sugarcrepe"),
                     captions_by_image: Optional[Mapping] = None) -> list[dict]:
    """Per source and phenomenon (:data:`PHENOMENA`): pairs, share of the source's negatives, blind
    LM (total and per token) and classifier accuracy (the mean over :data:`SMALL_SPLITS` fold
    splits where there are fewer than :data:`SMALL_ROW` pairs; ``classifier_splits`` says how
    many) and, when the pairs carry an image id (4th item) and ``captions_by_image`` maps image
    ids to captions, the possibly-true rate."""
    rows = []
    for source in sources:
        found = list(pairs.get(source, ()))
        if not found:
            continue
        by: dict = {}
        for k, triple in enumerate(found):
            by.setdefault(phenomenon_of(triple[2]), []).append(k)
        for name in [*PHENOMENA, *sorted(set(by) - set(PHENOMENA))]:
            ks = by.get(name)
            if not ks:
                continue
            two = [(found[k][0], found[k][1]) for k in ks]
            row = {"source": source, "phenomenon": name, "n_pairs": len(two), "share": len(two) / len(found),
                   "lm_total": lm_pairwise_accuracy(lm, two), "lm_per_token": lm_pairwise_accuracy(lm, two, per_token=True),
                   "classifier": None, "classifier_splits": 0}
            if len({r for r, _ in two}) >= max(n_folds, 20):
                row["classifier"], row["classifier_splits"] = _classifier(two, seed=seed, n_folds=n_folds)
            if captions_by_image is not None and all(len(found[k]) > 3 for k in ks):
                row["possibly_true"] = possibly_true_rate([(found[k][0], found[k][1], found[k][3]) for k in ks],
                                                          captions_by_image, stem=name != "number")["possibly_true"]
            rows.append(row)
    return rows


def format_phenomena(rows: Sequence[dict]) -> str:
    """Markdown table of :func:`phenomenon_table`'s rows."""

    def f(v, pct=False):
        return "–" if v is None else (f"{100 * v:.1f}%" if pct else f"{v:.3f}")

    lines = ["| source | phenomenon | pairs | share | LM total | LM per-token | classifier | possibly true |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['source']} | {r['phenomenon']} | {r['n_pairs']:,} | {f(r['share'], True)} "
                     f"| {f(r['lm_total'])} | {f(r['lm_per_token'])} | {f(r['classifier'])} "
                     f"| {f(r.get('possibly_true'), True)} |")
    return "\n".join(lines)


def format_table(results: dict) -> str:
    """Markdown table of :func:`evaluate`'s rows."""

    def f(v):
        return "–" if v is None else f"{v:.3f}"

    lines = [
        "| source | pairs | ±95% | LM total | LM per-token | LM cased | classifier |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        if not r.get("n_pairs"):
            lines.append(f"| {r['source']} | 0 | | | | | |")
            continue
        lines.append(
            f"| {r['source']} | {r['n_pairs']:,} | {r['ci95']:.3f} | {f(r['lm_total'])} | {f(r['lm_per_token'])} "
            f"| {f(r['lm_cased_total'])} | {f(r['classifier'])} |"
        )
    return "\n".join(lines)


def _machine() -> dict:
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "git_commit": commit,
    }


def main(argv: Optional[Sequence[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred pairs per source (CI)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--order", type=int, default=3, help="n-gram order of the LMs")
    parser.add_argument("--n-folds", type=int, default=2, help="classifier cross-validation folds")
    parser.add_argument(
        "--corpus", default="coco,scan", help=f"LM training parts, from {','.join(CORPUS_PARTS)}"
    )
    parser.add_argument("--sources", default=None, help="comma-separated subset of sources to run")
    parser.add_argument(
        "--out", type=Path, default=None, help="results JSON (default results/quality[_quick].json)"
    )
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    sources = default_sources(quick=args.quick, seed=args.seed)
    if args.sources:
        wanted = args.sources.split(",")
        unknown = [s for s in wanted if s not in sources]
        if unknown:
            parser.error(f"unknown source(s) {unknown!r}; available: {', '.join(sources)}")
        sources = {k: v for k, v in sources.items() if k in wanted}
    max_pairs = 300 if args.quick else None
    pairs = {}
    for name, fn in sources.items():
        t = time.perf_counter()
        pairs[name] = list(fn())
        print(f"{name}: {len(pairs[name]):,} pairs ({time.perf_counter() - t:.1f}s)", file=sys.stderr)

    t = time.perf_counter()
    parts = [p for p in args.corpus.split(",") if p]
    lm, cased, corpus_info = fit_lms(texts_of(pairs), parts=parts, order=args.order)
    print(
        f"LMs fitted on {corpus_info['captions']:,} captions ({time.perf_counter() - t:.1f}s)",
        file=sys.stderr,
    )

    results = evaluate(
        pairs, lm=lm, surface_lm=cased, seed=args.seed, n_folds=args.n_folds, max_pairs=max_pairs
    )
    table = format_table(results)
    print(table)
    by_image: dict = {}
    for a in coco_val2017():
        by_image.setdefault(a["image_id"], []).append(a["caption"])
    phenomena = phenomenon_table(pairs, lm=lm, seed=args.seed, n_folds=args.n_folds, captions_by_image=by_image)
    phenomena_table = format_phenomena(phenomena)
    print(phenomena_table)
    checks = None
    if "iccc" in sources:
        checks = negative_report(quick=args.quick, seed=args.seed)
        print(json.dumps(checks, indent=1))
    out = {
        "benchmark": "quality",
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "seed": args.seed,
        "lm": {"order": args.order, "corpus": corpus_info, "parts": parts, "vocab": len(lm.vocab)},
        "classifier": {"n_folds": args.n_folds},
        "max_pairs_per_source": max_pairs,
        "machine": _machine(),
        "seconds_total": round(time.perf_counter() - t0, 2),
        **results,
        "negative_checks": checks,
        "mix_plans": MIX_PLANS,
        "phenomena": phenomena,
        "table_markdown": table,
        "phenomena_markdown": phenomena_table,
    }
    path = args.out or RESULTS / ("quality_quick.json" if args.quick else "quality.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"saved {path} ({out['seconds_total']:.1f}s)", file=sys.stderr)
    return out


if __name__ == "__main__":
    main()
