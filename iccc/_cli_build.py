"""``iccc build``: captions (+ images) in, an ICCC training dataset (``save_to_disk``) out.

Usage::

    iccc build                                           # the built-in sample; prints the summary
    iccc build captions_val2017.json -o iccc_val2017     # COCO, grouped by image
    iccc build data.jsonl -o out --image-root /data/images --p-correction 0.3 --num-proc 4
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("input", nargs="?",
                   help="caption file or folder (COCO captions_*.json, Karpathy/LAVIS list, .jsonl/.csv/.tsv/.txt, "
                        "a folder of images with a captions file, a save_to_disk folder); default: the built-in sample")
    p.add_argument("-o", "--output", help="folder to write the dataset to (Dataset.save_to_disk); "
                   "without it only the summary is printed")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT when it exists")
    p.add_argument("--seed", type=int, default=0, help="same seed, same samples (default 0)")
    p.add_argument("--epoch", type=int, default=0, help="draw the samples of this epoch (default 0)")
    p.add_argument("--p-correction", type=float, default=0.3, help="share of correction samples (paper: 0.3)")
    p.add_argument("--p-swap", type=float, default=0.15, help="share of corrections tried as swaps first (paper: 0.15)")
    p.add_argument("--p-correct-caption", type=float, default=0.0,
                   help="share of correction prompts showing the correct caption (default 0)")
    p.add_argument("--target-format", default="statement", choices=("statement", "caption", "both"),
                   help="correction target: the paper's statement, the corrected caption, or both")
    p.add_argument("--operations", default="replace,swap", help="comma-separated: replace,swap,add")
    p.add_argument("--kinds", default=None, help="comma-separated concept kinds to corrupt (default: all)")
    p.add_argument("--caption-column", default="caption", help="caption field of the input")
    p.add_argument("--image-column", default=None, help="image field of the input (default: found by name)")
    p.add_argument("--group-column", default=None,
                   help="field with the image id grouping sibling captions (default: image_id/cocoid/the image)")
    p.add_argument("--image-root", default=None, help="folder the image paths are relative to")
    p.add_argument("--limit", type=int, default=None, help="build from the first N rows only (a quick try)")
    p.add_argument("--base", default=None, help="use this saved ConceptBase (.json/.json.gz) instead of building one")
    p.add_argument("--save-base", default=None, help="save the ConceptBase built from the input here")
    p.add_argument("--no-balance", action="store_true", help="skip frequency balancing of inserted words")
    p.add_argument("--model", default=None, help="spaCy pipeline name or path")
    p.add_argument("--num-proc", type=int, default=None, help="processes for parsing, building and saving")
    p.add_argument("--batch-size", type=int, default=1000, help="rows per map batch")
    p.add_argument("--show", type=int, default=4, help="correction examples to print")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _load(args):
    from datasets import Dataset

    from .samples import sample_captions

    if args.input is None:
        return Dataset.from_list(sample_captions())
    from .dataset._inputs import load_captions

    return load_captions(args.input, caption_column=args.caption_column, image_column=args.image_column,
                         image_root=args.image_root, group_column=args.group_column)


def _first(ds, n):
    from datasets import DatasetDict

    if isinstance(ds, DatasetDict):
        return DatasetDict({k: v.select(range(min(n, len(v)))) for k, v in ds.items()})
    return ds.select(range(min(n, len(ds))))


def _splits(ds) -> list:
    from datasets import DatasetDict

    return list(ds.values()) if isinstance(ds, DatasetDict) else [ds]


def run(args) -> int:
    import datasets

    from . import columns
    from .base import ConceptBase
    from .dataset import build_dataset, build_summary, concept_base, format_summary
    from .parsing import add_concepts

    for name in ("limit", "num_proc"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"`--{name.replace('_', '-')}` should be a positive integer, got {value!r}.")
    if args.base and args.save_base:
        raise ValueError("--save-base saves the base built from the input; it cannot be combined with --base.")
    out = Path(args.output) if args.output else None
    if out is not None and out.exists():
        if not out.is_dir():
            raise ValueError(f"Output {str(out)!r} exists and is not a folder.")
        if any(out.iterdir()) and not args.overwrite:
            raise FileExistsError(f"Output folder {str(out)!r} exists and is not empty; pass --overwrite to replace it.")
    if args.quiet:
        datasets.disable_progress_bars()
    start = time.perf_counter()
    ds = _load(args)
    if args.limit is not None:
        ds = _first(ds, args.limit)
    operations = [o for o in args.operations.split(",") if o]
    kinds = [k for k in args.kinds.split(",") if k] if args.kinds else None
    group = "image_id"
    # Parse and build the base here (what build_dataset does inside) so that --save-base can save it.
    ds = add_concepts(ds, column="caption", nlp=args.model, batch_size=args.batch_size, num_proc=args.num_proc)
    if args.base:
        concepts = ConceptBase.load(args.base)
    else:
        concepts = concept_base(_splits(ds), caption_column="caption", group_column=group,
                                balance=not args.no_balance and args.p_correction > 0, seed=args.seed,
                                corrupt_config=dict(operations=operations, kinds=kinds, p_swap=args.p_swap))
        if args.save_base:
            concepts.save(args.save_base)
    built = build_dataset(
        ds, caption_column="caption", image_column="image", group_column=group, concepts=concepts,
        seed=args.seed, epoch=args.epoch, p_correction=args.p_correction, p_swap=args.p_swap,
        p_correct_caption=args.p_correct_caption, target_format=args.target_format, operations=operations,
        kinds=kinds, num_proc=args.num_proc, batch_size=args.batch_size,
    ).remove_columns([columns.CONCEPTS, columns.PARSE_STATUS])
    seconds = time.perf_counter() - start
    if out is not None:
        if out.exists() and args.overwrite:
            shutil.rmtree(out)
        built.save_to_disk(str(out), num_proc=args.num_proc)
    print(f"Built ICCC samples from {args.input or 'the built-in sample'} in {seconds:.1f}s "
          f"(concept base: {concepts.n_captions} captions, {len(concepts.groups)} images).")
    print(format_summary(build_summary(built, examples=args.show)))
    if out is not None:
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"Wrote {out} ({size / 1e6:.1f} MB); load it with datasets.load_from_disk({str(out)!r}).")
    if args.save_base:
        print(f"Saved the concept base to {args.save_base}")
    sys.stdout.flush()
    return 0
