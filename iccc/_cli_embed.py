"""``iccc embed``: captions + images in, their dual-encoder embeddings (``.npz``/``.parquet``) out.

The file is what ``iccc build --vision`` reads (an :class:`iccc.vision.EmbeddingSet`: one vector per
image id, one per caption row, the captions, the image of each caption, the model's name, and the
images that could not be embedded with their status).

Usage::

    iccc embed captions_val2017.json --image-root /data/coco/val2017 -o emb.npz --model openai/clip-vit-base-patch32
    iccc embed data.jsonl -o emb.parquet --model ./my-siglip --device cuda --dtype float16 --batch-size 128
    iccc build data.jsonl -o out --vision emb.npz

The input is read as ``iccc build`` reads it (:func:`iccc.dataset.load_captions`); an input with
several splits is embedded as one table, the splits one after another.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ._cli_args import INPUT_HELP, positive_int
from .columns import CAPTION, IMAGE, IMAGE_ID

#: Suffixes ``-o`` may end in (what :func:`iccc.vision.save_embeddings` writes).
OUTPUT_SUFFIXES = (".npz", ".parquet")


def add_arguments(p) -> None:
    p.add_argument("input", help=INPUT_HELP + ", a save_to_disk folder")
    p.add_argument("-o", "--output", required=True,
                   help=f"the embeddings file to write: {' or '.join(OUTPUT_SUFFIXES)} (what iccc build --vision reads)")
    p.add_argument("--model", required=True,
                   help="the dual encoder: a local checkpoint folder or a hub name of a CLIP/SigLIP-style model "
                        "(loaded with transformers AutoModel + AutoProcessor)")
    p.add_argument("--caption-column", default=CAPTION, help="caption field of the input")
    p.add_argument("--image-column", default=None, help="image field of the input (default: found by name)")
    p.add_argument("--image-root", default=None, help="folder the image paths are relative to")
    p.add_argument("--group-column", default=None,
                   help="field with the image id shared by the captions of one image (default: image_id/cocoid/the "
                        "image)")
    p.add_argument("--batch-size", type=positive_int, default=32, help="images or texts per forward pass (default 32)")
    p.add_argument("--device", default="auto", help="'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:N' or 'mps'")
    p.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16", "auto"),
                   help="model precision (float16 needs a GPU; 'auto': float16 on CUDA, else float32)")
    p.add_argument("--no-images", action="store_true", help="embed the captions only")
    p.add_argument("--no-texts", action="store_true", help="embed the images only")
    p.add_argument("--limit", type=positive_int, default=None, help="embed the first N rows only (a quick try)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT when it exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def check_output(output, overwrite: bool) -> Path:
    """``-o`` as a path, refused (before any model is loaded) when its suffix is not one of
    :data:`OUTPUT_SUFFIXES`, when it is a folder, or when it exists without ``--overwrite``."""
    out = Path(output)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"`-o` {output!r}: the embeddings can be written as {' or '.join(OUTPUT_SUFFIXES)}; got "
                         f"{'the suffix ' + repr(out.suffix) if out.suffix else 'no suffix'}.")
    if out.is_dir():
        raise ValueError(f"`-o` {output!r} is a folder; name a {' or '.join(OUTPUT_SUFFIXES)} file.")
    if out.exists() and not overwrite:
        raise FileExistsError(f"Output file {output!r} exists; pass --overwrite to replace it.")
    return out


def _load(args):
    from datasets import DatasetDict, concatenate_datasets

    from .dataset import load_captions

    ds = load_captions(args.input, caption_column=args.caption_column, image_column=args.image_column,
                       image_root=args.image_root, group_column=args.group_column)
    if isinstance(ds, DatasetDict):
        ds = concatenate_datasets([ds[name] for name in ds])
    return ds


def run(args) -> int:
    if args.no_images and args.no_texts:
        raise ValueError("--no-images and --no-texts together leave nothing to embed.")
    out = check_output(args.output, args.overwrite)
    start = time.perf_counter()
    import datasets

    from .vision.embedder import TransformersEmbedder, embed_dataset
    from .vision.embeddings import save_embeddings

    if args.quiet:
        datasets.disable_progress_bars()
    ds = _load(args)
    if len(ds) == 0:
        raise ValueError(f"{args.input!r}: the input has no rows (no captions to embed).")
    if args.limit is not None:
        ds = ds.select(range(min(args.limit, len(ds))))
    embedder = TransformersEmbedder(args.model, device=args.device, dtype=args.dtype, batch_size=args.batch_size)
    result = embed_dataset(ds, embedder, image_column=IMAGE, caption_column=CAPTION, id_column=IMAGE_ID,
                           batch_size=args.batch_size, images=not args.no_images, texts=not args.no_texts,
                           progress=not args.quiet)
    if args.overwrite and out.exists():
        out.unlink()
    save_embeddings(result, out)
    seconds = time.perf_counter() - start
    meta = result.meta
    parts = []
    if not args.no_images:
        parts.append(f"{meta.get('images_embedded', 0)} of {meta.get('images', 0)} images "
                     f"({meta.get('missing', 0)} missing, {meta.get('unreadable', 0)} unreadable)")
    if not args.no_texts:
        parts.append(f"{meta.get('texts', 0)} texts")
    print(f"Embedded {' and '.join(parts)} (dim {embedder.dim}) in {seconds:.1f}s with {embedder.name}; "
          f"wrote {out}.")
    if not args.no_images and meta.get("images_embedded", 0) == 0:
        print("No image could be embedded: check --image-root and --image-column.", file=sys.stderr)
    sys.stdout.flush()
    return 0
