"""``iccc export``: the same corruptions for other training recipes (DPO pairs, SFT, NegCLIP, SugarCrepe).

Usage::

    iccc export dpo captions_val2017.json -o dpo_val2017            # a save_to_disk folder (or .jsonl/.json/.parquet)
    iccc export sft iccc_val2017 -o sft.jsonl --sft-format messages  # TRL SFT rows from `iccc build` output
    iccc export negclip coco_karpathy_test.json -o neg.tsv --n-negatives 3
    iccc export sugarcrepe captions_val2017.json -o my_sugarcrepe/ --operations replace,swap,add --p-add 0.1
    iccc export dpo iccc_val2017 -o dpo                               # a dataset written by `iccc build`
    iccc export dpo shapes_data -o dpo_hard --rank-by clip_dir --n-candidates 4   # the hardest of 4 negatives

``-o`` is written in the format its name says, or refused with the accepted names: dpo and sft
take a folder name without a suffix (save_to_disk), ``.jsonl``, ``.jsonl.gz``, ``.json`` or
``.parquet``; negclip ``.tsv``/``.csv`` (optionally ``.gz``); sugarcrepe a folder.

INPUT is anything :func:`iccc.dataset.load_captions` reads. Captions are parsed, a concept base
is built from them and every caption is corrupted with ``--seed``, unless the input already has
a ``corrupted_caption`` column (e.g. ``iccc build`` output), whose corruptions are used as they are
(``--recorrupt`` draws new ones for every row). Rows without a negative are skipped and counted.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

from ._cli_args import INPUT_HELP, MODEL_HELP, default_of, non_negative_int, positive_int, probability
from .columns import CAPTION, CONCEPTS, IMAGE, IMAGE_ID, PARSE_STATUS
from .corrupt import DEFAULT_OPERATIONS, DEFAULT_P_SWAP, RECORD_COLUMNS, STATUS_COLUMN, Corruptor
from .dataset import DEFAULT_IMAGE_TOKEN, SFT_FORMATS, build_dataset, to_dpo, to_negclip, to_sft
from .io import FOLDER, describe

FORMATS = ("dpo", "sft", "negclip", "sugarcrepe")
#: What ``-o`` may name, per format (see iccc.io.output_kind).
OUTPUTS = {"dpo": (FOLDER, "jsonl", "json", "parquet"), "sft": (FOLDER, "jsonl", "json", "parquet"),
           "negclip": ("tsv", "csv"), "sugarcrepe": (FOLDER,)}
#: Columns a corruption map adds; dropped with --recorrupt before corrupting again.
_CORRUPTION_COLUMNS = RECORD_COLUMNS + (STATUS_COLUMN,)


def add_arguments(p) -> None:
    p.add_argument("format", choices=FORMATS, help="dpo: TRL preference pairs; sft: TRL supervised rows "
                   "(prompt/completion or messages); negclip: hard-negative TSV; sugarcrepe: one JSON per negative type")
    p.add_argument("input", help=INPUT_HELP + ", a save_to_disk folder such as `iccc build` output")
    p.add_argument("-o", "--output", required=True,
                   help="; ".join(f"{name}: {describe(kinds)}" for name, kinds in OUTPUTS.items()))
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT when it exists")
    p.add_argument("--seed", type=non_negative_int, default=0, help="same seed, same negatives (default 0)")
    p.add_argument("--split", default=None, help="split of a DatasetDict input, or rows of a 'split' field")
    p.add_argument("--caption-column", default=CAPTION, help="field of the input holding the caption")
    p.add_argument("--image-column", default=None, help="image field of the input (default: found by name)")
    p.add_argument("--image-root", default=None, help="folder the image paths are relative to")
    p.add_argument("--group-column", default=None, help="field with the image id (default: image_id or the image)")
    p.add_argument("--limit", type=positive_int, default=None, help="export from the first N rows only")
    p.add_argument("--recorrupt", action="store_true",
                   help="ignore corruptions already in the input and corrupt every caption anew")
    p.add_argument("--operations", default=",".join(DEFAULT_OPERATIONS), help="comma-separated: replace,swap,add")
    p.add_argument("--kinds", default=None, help="comma-separated concept kinds (default: all)")
    p.add_argument("--p-swap", type=probability, default=DEFAULT_P_SWAP,
                   help="share of the corrections that are swaps, as far as the captions allow")
    p.add_argument("--p-add", type=probability, default=default_of(Corruptor, "p_add"),
                   help="share of corrections tried as additions first")
    p_correction = default_of(build_dataset, "p_correction")
    p.add_argument("--p-correction", type=probability, default=p_correction,
                   help=f"sft from captions: share of correction samples of the build made on the fly "
                        f"(paper: {p_correction})")
    p.add_argument("--base", default=None, help="use this saved ConceptBase (.json/.json.gz) instead of building one")
    p.add_argument("--no-balance", action="store_true", help="skip frequency balancing of inserted words")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--num-proc", type=positive_int, default=None, help="processes for parsing and corrupting")
    p.add_argument("--prompt", default=None, help="dpo: the captioning instruction")
    p.add_argument("--standard", action="store_true",
                   help="dpo, sft: plain strings instead of conversational messages (with images the prompt starts "
                        "with --image-token)")
    p.add_argument("--image-token", default=None,
                   help="dpo, sft with --standard: the processor's image placeholder put in front of prompts with an "
                        f"image (default {DEFAULT_IMAGE_TOKEN!r}; e.g. '<|image_pad|>' for Qwen2-VL)")
    p.add_argument("--rank-by", default=None, metavar="DUAL_ENCODER_DIR",
                   help="dpo: a CLIP/SigLIP-style dual encoder folder; of --n-candidates corruptions per caption the "
                        "pair keeps the one closest to the caption in text yet least like the image")
    p.add_argument("--n-candidates", type=positive_int, default=default_of(to_dpo, "n_candidates"),
                   help="dpo with --rank-by: corruptions drawn per caption to choose from")
    p.add_argument("--rank-alpha", type=probability, default=default_of(to_dpo, "alpha"),
                   help="dpo with --rank-by: weight of image inconsistency against text plausibility, in [0, 1]")
    p.add_argument("--sft-format", default=default_of(to_sft, "format"), choices=SFT_FORMATS,
                   help="sft: prompt/completion columns or one conversational 'messages' column (TRL's formats)")
    n_negatives = default_of(to_negclip, "n_negatives")
    p.add_argument("--n-negatives", type=positive_int, default=n_negatives,
                   help=f"negclip: negatives per caption (default {n_negatives})")
    p.add_argument("--n-negative-images", type=non_negative_int, default=default_of(to_negclip, "n_negative_images"),
                   help="negclip: hard-negative image rows per row")
    p.add_argument("--relative-to", default=None, help="negclip/sugarcrepe: write image paths relative to this folder")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _corrupt_options(args) -> dict:
    return dict(operations=[o for o in args.operations.split(",") if o],
                kinds=args.kinds.split(",") if args.kinds else None, p_swap=args.p_swap, p_add=args.p_add)


def prepare(ds, args, *, need_base: bool):
    """Parse and corrupt ``ds`` as needed; returns ``(dataset, base or None)``."""
    from .corrupt import corrupt
    from .parsing import add_concepts

    if args.recorrupt:
        ds = ds.remove_columns([c for c in _CORRUPTION_COLUMNS if c in ds.column_names])
    has_corruptions = "corrupted_caption" in ds.column_names
    if has_corruptions and not need_base:
        return ds, None
    if CONCEPTS not in ds.column_names:
        ds = add_concepts(ds, nlp=args.model, num_proc=args.num_proc)
    groups = ds.select_columns([IMAGE_ID])[IMAGE_ID]
    group_column = IMAGE_ID if any(g is not None for g in groups) else None
    options = _corrupt_options(args)
    if args.base:
        from .base import ConceptBase

        base = ConceptBase.load(args.base)
    else:
        from .dataset import concept_base

        base = concept_base([ds], group_column=group_column, balance=not args.no_balance, seed=args.seed,
                            corrupt_config=options)
    if not has_corruptions:
        ds = ds.map(corrupt, batched=True, with_indices=True, num_proc=args.num_proc, desc="Corrupting",
                    fn_kwargs={"concepts": base, "seed": args.seed, "group_column": group_column, **options})
    return ds, base


def _print_counts(counts: Counter, total: int, what: str) -> None:
    exported = counts.get("exported", 0)
    skipped = {k: v for k, v in counts.items() if k != "exported" and "=" not in k}
    print(f"Exported {exported} of {total} rows as {what}; skipped {sum(skipped.values())}"
          + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items(), key=lambda kv: -kv[1])) + ")"
             if skipped else "") + ".")
    details = {k: v for k, v in counts.items() if "=" in k}
    if details:
        print("  " + ", ".join(f"{k} {v}" for k, v in sorted(details.items())))
    if any(k.startswith("task:") for k in skipped):
        print("  (rows of other tasks have no negative; --recorrupt corrupts every caption)")


def _images_exist(ds) -> bool:
    """Whether the first image path of ``ds`` names an existing file (an Image feature: True)."""
    from datasets import Value

    if IMAGE not in ds.column_names:
        return False
    feature = ds.features[IMAGE]
    if not (isinstance(feature, Value) and feature.dtype in ("string", "large_string")):
        return True
    first = next((p for p in ds.select_columns([IMAGE])[IMAGE] if p is not None), None)
    return first is not None and Path(first).is_file()


def _sft(ds, args, out, kind):
    """``iccc export sft``: TRL SFT rows from a build, or from captions built on the fly."""
    options = {}
    if not {"prompt", "target"} <= set(ds.column_names):
        from .dataset import OUTPUT_COLUMNS

        if args.recorrupt:
            ds = ds.remove_columns([c for c in _CORRUPTION_COLUMNS if c in ds.column_names])
        concepts = None
        if args.base:
            from .base import ConceptBase

            concepts = ConceptBase.load(args.base)
        o = _corrupt_options(args)
        options = dict(seed=args.seed, p_correction=args.p_correction, operations=o["operations"], kinds=o["kinds"],
                       p_swap=o["p_swap"], p_add=o["p_add"], concepts=concepts, balance=not args.no_balance,
                       nlp=args.model, num_proc=args.num_proc,
                       group_column=IMAGE_ID if IMAGE_ID in ds.column_names else default_of(build_dataset, "group_column"))
        # columns the build made on the fly writes (a stale one would clash)
        clash = [c for c in OUTPUT_COLUMNS if c != CAPTION and c in ds.column_names]
        if clash:
            ds = ds.remove_columns(clash)
        if (CONCEPTS in ds.column_names) != (PARSE_STATUS in ds.column_names):
            ds = ds.remove_columns([c for c in (CONCEPTS, PARSE_STATUS) if c in ds.column_names])
    elif args.recorrupt:
        raise ValueError(f"{args.input!r} is a build (prompt and target columns): --recorrupt does not apply; build "
                         "again with another --seed (iccc build) or export from the captions.")
    image_features = kind == FOLDER and _images_exist(ds)
    rows, counts = to_sft(ds, format=args.sft_format, conversational=not args.standard,
                          image_features=image_features, image_token=args.image_token, return_counts=True,
                          **options)
    return rows, counts, image_features


def run(args) -> int:
    import datasets

    from ._cli_build import check_output, replace_output
    from .dataset import load_captions, to_sugarcrepe
    from .io import write_dataset

    out, kind = check_output(args.output, args.overwrite, OUTPUTS[args.format], what=f"`iccc export {args.format}`")
    ranking = args.format == "dpo" and args.rank_by is not None
    if args.rank_by is not None and not ranking:
        raise ValueError(f"`--rank-by` chooses among corruptions for DPO pairs; `iccc export {args.format}` does not "
                         "take it.")
    if ranking and not os.path.isdir(args.rank_by):
        raise FileNotFoundError(f"`--rank-by` {args.rank_by!r} is not a folder (a dual-encoder checkpoint).")
    if args.quiet:
        datasets.disable_progress_bars()
    start = time.perf_counter()
    ds = load_captions(args.input, caption_column=args.caption_column, image_column=args.image_column,
                       image_root=args.image_root, group_column=args.group_column, split=args.split)
    if isinstance(ds, datasets.DatasetDict):
        raise ValueError(f"{args.input!r} holds several splits {sorted(ds)}; pick one with --split.")
    if len(ds) == 0:
        raise ValueError(f"{args.input!r}: the input has no rows (no captions to export).")
    if args.limit is not None:
        ds = ds.select(range(min(args.limit, len(ds))))
    if args.overwrite:
        replace_output(out, kind)
    if args.format == "sft":
        rows, counts, image_features = _sft(ds, args, out, kind)
        write_dataset(rows, out, kind)
        what = ("SFT rows (" + ", ".join(rows.column_names) + ")")
        _print_counts(counts, len(ds), what)
        if "images" in rows.column_names and not image_features and kind == FOLDER:
            print("  images kept as path strings (the first image file was not found; see --image-root)")
        print(f"Wrote {out} in {time.perf_counter() - start:.1f}s")
        return 0
    need_base = args.format == "negclip" and (args.n_negatives > 1 or "corrupted_caption" not in ds.column_names
                                               or args.recorrupt)
    reuse = "corrupted_caption" in ds.column_names and not args.recorrupt
    ds, base = prepare(ds, args, need_base=need_base or not reuse or ranking)
    if reuse:
        print(f"Using the corruptions in {args.input} (--recorrupt draws new ones with --seed).")
    if args.format == "dpo":
        kwargs = {"prompt": args.prompt} if args.prompt else {}
        if ranking:
            from .vision import TransformersEmbedder

            kwargs.update(rank_by=TransformersEmbedder(args.rank_by), n_candidates=args.n_candidates,
                          concepts=base, alpha=args.rank_alpha)
        as_file = kind != FOLDER
        # an Image feature is saved from its files: keep path strings when they are not here
        image_features = not as_file and _images_exist(ds)
        pairs, counts = to_dpo(ds, conversational=not args.standard, image_features=image_features,
                               return_counts=True, image_token=args.image_token, **kwargs)
        write_dataset(pairs, out, kind)
        _print_counts(counts, len(ds), "DPO pairs (prompt, chosen, rejected" + (", images" if "images" in
                                                                               pairs.column_names else "") + ")")
        if "images" in pairs.column_names and not image_features and not as_file:
            print("  images kept as path strings (the first image file was not found; see --image-root)")
    elif args.format == "negclip":
        options = _corrupt_options(args) if base is not None else {}
        _, counts = to_negclip(ds, out, n_negatives=args.n_negatives, concepts=base, seed=args.seed,
                               n_negative_images=args.n_negative_images, relative_to=args.relative_to,
                               return_counts=True, **options)
        _print_counts(counts, len(ds), "NegCLIP rows (title, filepath, neg_caption, neg_image)")
    else:
        _, counts = to_sugarcrepe(ds, out, relative_to=args.relative_to, return_counts=True)
        _print_counts(counts, len(ds), "SugarCrepe pairs")
    print(f"Wrote {out} in {time.perf_counter() - start:.1f}s")
    return 0
