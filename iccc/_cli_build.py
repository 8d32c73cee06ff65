"""``iccc build``: captions (+ images) in, an ICCC training dataset (``save_to_disk``) out.

Usage::

    iccc build                                           # the built-in sample; prints the summary
    iccc build captions_val2017.json -o iccc_val2017     # COCO, grouped by image
    iccc build data.jsonl -o out --image-root /data/images --p-correction 0.3 --num-proc 4
    iccc build data.jsonl -o out --vision emb.npz        # image-conditioned negatives (iccc embed wrote emb.npz)
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

# argparse types: argparse answers "iccc build: error: argument --seed: ...", exit 2, before any work
from ._cli_args import (
    INPUT_HELP,
    MODEL_HELP,
    default_of,
    mix_shares,
    non_negative_int,
    positive_int,
    probability,
)
from .columns import CAPTION, CONCEPTS, IMAGE, IMAGE_ID, PARSE_STATUS
from .corrupt import DEFAULT_MIX, DEFAULT_OPERATIONS, DEFAULT_P_SWAP
from .dataset import TARGET_FORMATS, build_dataset
from .io import FOLDER, OUTPUT_KINDS, describe
from .operators import OPERATIONS


def add_arguments(p) -> None:
    p.add_argument("input", nargs="?", help=INPUT_HELP + ", a save_to_disk folder (default: the built-in sample)")
    p.add_argument("-o", "--output", help="where to write the dataset, in the format its name says: "
                   f"{describe(OUTPUT_KINDS)} (a folder is what iccc train and iccc export read fastest); without "
                   "it only the summary is printed")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT when it exists")
    p.add_argument("--seed", type=non_negative_int, default=0, help="same seed, same samples (default 0)")
    p.add_argument("--epoch", type=non_negative_int, default=0, help="draw the samples of this epoch (default 0)")
    p_correction = default_of(build_dataset, "p_correction")
    p.add_argument("--p-correction", type=probability, default=p_correction,
                   help=f"share of correction samples (paper: {p_correction})")
    p.add_argument("--p-swap", type=probability, default=DEFAULT_P_SWAP,
                   help=f"share of the corrections that are swaps, as far as the captions allow (paper: {DEFAULT_P_SWAP})")
    p_correct_caption = default_of(build_dataset, "p_correct_caption")
    p.add_argument("--p-correct-caption", type=probability, default=p_correct_caption,
                   help=f"share of correction prompts showing the correct caption (default {p_correct_caption})")
    p.add_argument("--target-format", default=default_of(build_dataset, "target_format"), choices=TARGET_FORMATS,
                   help="correction target: the paper's statement, the corrected caption, or both")
    p.add_argument("--operations", default=",".join(DEFAULT_OPERATIONS),
                   help=f"comma-separated, from {','.join(OPERATIONS)} (default: all)")
    p.add_argument("--mix", type=mix_shares, default=None,
                   help="shares of the corrections per operation, e.g. number=0.2,existence=0 (default: "
                        + ",".join(f"{k}={v:g}" for k, v in DEFAULT_MIX.items()) + "; replace takes the rest)")
    p.add_argument("--kinds", default=None, help="comma-separated concept kinds to corrupt (default: all)")
    p.add_argument("--caption-column", default=CAPTION, help="caption field of the input")
    p.add_argument("--image-column", default=None, help="image field of the input (default: found by name)")
    p.add_argument("--group-column", default=None,
                   help="field with the image id grouping sibling captions (default: image_id/cocoid/the image)")
    p.add_argument("--image-root", default=None, help="folder the image paths are relative to (stored as absolute "
                   "paths, so later stages work from any folder)")
    p.add_argument("--embed-images", action="store_true",
                   help="store the image files themselves in the dataset (a datasets.Image column, bytes embedded on "
                        "save; needs a folder OUTPUT and every image file present)")
    p.add_argument("--drop-unusable", action="store_true",
                   help="leave out rows without a usable caption (missing, empty, not a string); counted in the "
                        "summary (iccc train skips them anyway)")
    p.add_argument("--limit", type=positive_int, default=None, help="build from the first N rows only (a quick try)")
    p.add_argument("--base", default=None, help="use this saved ConceptBase (.json/.json.gz) instead of building one")
    p.add_argument("--save-base", default=None, help="save the ConceptBase built from the input here")
    p.add_argument("--no-balance", action="store_true", help="skip frequency balancing of inserted words")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--num-proc", type=positive_int, default=None, help="processes for parsing, the concept base (counting, balancing), building and saving")
    p.add_argument("--batch-size", type=positive_int, default=default_of(build_dataset, "batch_size"),
                   help="rows per map batch")
    vision = p.add_argument_group("image-conditioned negatives (needs the vision extra)")
    vision.add_argument("--vision", default=None, metavar="EMB",
                        help="embeddings file written by iccc embed (.npz/.parquet): replacements and additions favour "
                             "concepts of the image's scene and are checked against the image")
    vision.add_argument("--vision-model", default=None,
                        help="the dual encoder whose text tower checks negatives against the image (default: the model "
                             "recorded in EMB when it is a local folder; 'none': no check, scene concepts only)")
    vision.add_argument("--p-scene", type=probability, default=None,
                        help="share of a slot's candidate weight given to the image's scene concepts (default 0.5)")
    vision.add_argument("--vision-candidates", type=positive_int, default=None,
                        help="negatives the image check ranks per row (default 4)")
    vision.add_argument("--vision-margin", default="auto",
                        help="similarity margin below the caption a negative must reach ('auto': calibrated on EMB)")
    ray = p.add_argument_group("engine (the ray engine needs the ray extra)")
    ray.add_argument("--engine", choices=("local", "ray"), default="local",
                     help="local: datasets maps on this machine; ray: Ray Data on a cluster (or a local one), OUTPUT "
                          "a folder of parquet files")
    ray.add_argument("--address", default=None, help="ray engine: the cluster to join (default: start a local one)")
    ray.add_argument("--num-workers", type=positive_int, default=None,
                     help="ray engine: actors per stage (default: the cluster's CPUs)")
    ray.add_argument("--id-column", default=None,
                     help="ray engine: integer row-id column keying each row's draws (default: the row index of "
                          "files iccc loads, a content key of caption + image id for parquet input)")
    p.add_argument("--show", type=non_negative_int, default=4, help="correction examples to print")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _load(args):
    from datasets import Dataset

    from .samples import sample_captions

    if args.input is None:
        return Dataset.from_list(sample_captions())
    from .dataset import load_captions

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


def _rows(ds) -> int:
    return sum(len(split) for split in _splits(ds))


def check_output(output, overwrite: bool, kinds=OUTPUT_KINDS, what: str = "iccc build output") -> tuple:
    """``(path, kind)`` of ``-o`` (``(None, None)`` without one), refused early when its name asks
    for a format not in ``kinds`` or when it exists (without ``--overwrite``)."""
    from .io import output_kind

    if not output:
        return None, None
    kind = output_kind(output, kinds, what=what)
    out = Path(output)
    if out.exists():
        if kind == FOLDER:
            if not out.is_dir():
                raise ValueError(f"Output {str(out)!r} exists and is not a folder.")
            if any(out.iterdir()) and not overwrite:
                raise FileExistsError(f"Output folder {str(out)!r} exists and is not empty; pass --overwrite to "
                                      "replace it.")
        elif out.is_dir():
            raise ValueError(f"Output {str(out)!r} is a folder, but its name asks for a {kind} file.")
        elif not overwrite:
            raise FileExistsError(f"Output file {str(out)!r} exists; pass --overwrite to replace it.")
    return out, kind


def replace_output(out: Path, kind: str) -> None:
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()


def _embed_images(built):
    """The ``image`` column as a ``datasets.Image()`` feature (its files embedded on save)."""
    from datasets import DatasetDict, Image, Value

    from .dataset import image_check

    def one(split, name):
        where = f" in split {name!r}" if name else ""
        if IMAGE not in split.column_names:
            raise ValueError(f"--embed-images: the dataset has no {IMAGE!r} column{where}.")
        feature = split.features[IMAGE]
        if isinstance(feature, Image):
            return split
        if not (isinstance(feature, Value) and feature.dtype in ("string", "large_string")):
            raise ValueError(f"--embed-images: the {IMAGE!r} column{where} holds {feature}, not image paths.")
        found = image_check(split)
        if found["missing"] or found["none"]:
            raise ValueError(
                f"--embed-images needs every image file{where}: {found['missing']} of {found['rows']} are missing "
                f"(first: {found['first_missing']!r}) and {found['none']} rows have no image. Check --image-root, "
                "or build without --embed-images (paths are kept and counted)."
            )
        return split.cast_column(IMAGE, Image())

    if isinstance(built, DatasetDict):
        return DatasetDict({name: one(split, name) for name, split in built.items()})
    return one(built, None)


def load_prior(args):
    """The :class:`iccc.vision.ImagePrior` of ``--vision`` (``None`` without it)."""
    if not args.vision:
        return None
    from .vision import ImagePrior, load_embeddings
    from .vision.prior import DEFAULT_CANDIDATES, DEFAULT_P_SCENE

    path = Path(args.vision)
    if not path.is_file():
        raise FileNotFoundError(f"--vision {args.vision!r}: no such file (write one with iccc embed).")
    embeddings = load_embeddings(path)
    model = args.vision_model if args.vision_model is not None else embeddings.model
    encoder = None
    if model and model.lower() != "none":
        if not Path(model).is_dir():
            if args.vision_model is not None:
                raise FileNotFoundError(f"--vision-model {model!r}: no such folder (a local checkpoint is needed).")
            print(f"The model recorded in {args.vision} ({model!r}) is not a local folder: no image check "
                  "(pass --vision-model).", file=sys.stderr)
        else:
            from .vision import TransformersEmbedder

            encoder = TransformersEmbedder(model)
    margin = args.vision_margin
    if margin != "auto":
        try:
            margin = float(margin)
        except ValueError:
            raise ValueError(f"--vision-margin should be 'auto' or a number, got {args.vision_margin!r}.") from None
    return ImagePrior.build(embeddings, encoder=encoder, margin=margin,
                            p_scene=DEFAULT_P_SCENE if args.p_scene is None else args.p_scene,
                            candidates=args.vision_candidates or DEFAULT_CANDIDATES, nlp=args.model)


def run(args) -> int:
    if args.engine == "ray":
        from .distributed._cli import run as run_ray

        return run_ray(args)
    import datasets

    from .base import ConceptBase
    from .dataset import build_summary, concept_base
    from .io import write_dataset
    from .parsing import add_concepts

    if args.base and args.save_base:
        raise ValueError("--save-base saves the base built from the input; it cannot be combined with --base.")
    out, kind = check_output(args.output, args.overwrite)
    if args.embed_images and kind not in (None, FOLDER):
        raise ValueError(f"--embed-images stores image bytes in a save_to_disk folder; `-o` {args.output!r} names a "
                         f"{kind} file. Name a folder (no suffix), or drop --embed-images.")
    if args.quiet:
        datasets.disable_progress_bars()
    start = time.perf_counter()
    prior = load_prior(args)
    ds = _load(args)
    if _rows(ds) == 0:
        raise ValueError(f"{args.input!r}: the input has no rows (no captions to build from).")
    if args.limit is not None:
        ds = _first(ds, args.limit)
    n_rows = _rows(ds)
    operations = [o for o in args.operations.split(",") if o]
    kinds = [k for k in args.kinds.split(",") if k] if args.kinds else None
    # Parse and build the base here (what build_dataset does inside) so that --save-base can save it.
    ds = add_concepts(ds, caption_column=CAPTION, nlp=args.model, batch_size=args.batch_size,
                      num_proc=args.num_proc)
    if args.base:
        concepts = ConceptBase.load(args.base)
    else:
        concepts = concept_base(_splits(ds), caption_column=CAPTION, group_column=IMAGE_ID,
                                balance=not args.no_balance and args.p_correction > 0, seed=args.seed,
                                corrupt_config=dict(operations=operations, kinds=kinds, p_swap=args.p_swap, mix=args.mix),
                                num_proc=args.num_proc)
        if args.save_base:
            concepts.save(args.save_base)
    built = build_dataset(
        ds, caption_column=CAPTION, image_column=IMAGE, group_column=IMAGE_ID, concepts=concepts,
        seed=args.seed, epoch=args.epoch, p_correction=args.p_correction, p_swap=args.p_swap,
        p_correct_caption=args.p_correct_caption, target_format=args.target_format, operations=operations,
        kinds=kinds, mix=args.mix, num_proc=args.num_proc, batch_size=args.batch_size,
        drop_unusable=args.drop_unusable, vision=prior,
    ).remove_columns([CONCEPTS, PARSE_STATUS])
    if args.embed_images:
        built = _embed_images(built)
    seconds = time.perf_counter() - start
    if out is not None:
        if args.overwrite:
            replace_output(out, kind)
        if isinstance(built, datasets.DatasetDict) and kind != FOLDER:
            raise ValueError(f"The input has several splits {sorted(built)}; write them to a folder (a name without "
                             "a suffix), not one {kind} file.")
        write_dataset(built, out, kind, num_proc=args.num_proc)
    print(f"Built ICCC samples from {args.input or 'the built-in sample'} in {seconds:.1f}s "
          f"(concept base: {concepts.n_captions} captions, {len(concepts.groups)} images).")
    if prior is not None:
        print(f"Image prior: {prior!r}")
    mix = None
    if args.p_correction > 0 and concepts.kinds():
        from .corrupt import Corruptor

        mix = Corruptor(concepts, operations=operations, kinds=kinds, p_swap=args.p_swap, mix=args.mix).mix
    summary = build_summary(built, examples=args.show, mix=mix)
    if args.drop_unusable:
        summary["dropped"] = n_rows - _rows(built)
    print(summary)
    if args.drop_unusable and "splits" in summary and summary["dropped"]:
        print(f"Rows dropped without a usable caption (--drop-unusable): {summary['dropped']}")
    if out is not None:
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) if out.is_dir() else out.stat().st_size
        how = (f"load it with datasets.load_from_disk({str(out)!r})" if kind == FOLDER else
               "iccc train and iccc export read it")
        print(f"Wrote {out} ({size / 1e6:.1f} MB); {how}.")
    if args.save_base:
        print(f"Saved the concept base to {args.save_base}")
    sys.stdout.flush()
    return 0
