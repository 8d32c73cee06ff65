"""The ``iccc`` command line: ``iccc parse`` and ``iccc corrupt`` (more subcommands as the library grows)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from importlib import import_module
from itertools import tee


def _rows(input_path, caption_column):
    from .io import read_captions
    from .samples import sample_captions

    if input_path is None:
        return iter(sample_captions())
    return read_captions(input_path, caption_column=caption_column)


def _highlight(parsed, kinds=("attribute", "noun", "count", "verb", "relation")) -> str:
    """The caption with concepts bracketed: [black]attr [dog]noun."""
    marks = sorted((c for c in parsed.concepts if c.kind in kinds), key=lambda c: c.start)
    out, pos = [], 0
    for c in marks:
        if c.start < pos:
            continue
        out.append(parsed.text[pos : c.start])
        out.append(f"[{c.text}]{c.kind[:4]}")
        pos = c.end
    out.append(parsed.text[pos:])
    return "".join(out)


def cmd_parse(args) -> int:
    from tqdm import tqdm

    from .parsing import iter_parse, load_parser

    nlp = load_parser(args.model)
    rows_for_text, rows_for_out = tee(_rows(args.input, args.caption_column))
    texts = (row.get("caption") for row in rows_for_text)
    out = open(args.output, "w", encoding="utf-8") if args.output else None
    kinds, statuses, examples = Counter(), Counter(), []
    start = time.perf_counter()
    n = 0
    progress = tqdm(desc="Parsing", unit=" captions", disable=args.quiet or out is None, file=sys.stderr)
    for row, parsed in zip(
        rows_for_out,
        iter_parse(texts, nlp=nlp, batch_size=args.batch_size, n_process=args.n_process, on_invalid="status"),
    ):
        n += 1
        statuses[parsed.status] += 1
        kinds.update(c.kind for c in parsed.concepts)
        if len(examples) < args.show:
            examples.append(parsed)
        if out is not None:
            record = {**row, "concepts": [c.to_dict() for c in parsed.concepts], "parse_status": parsed.status}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        progress.update(1)
    progress.close()
    seconds = time.perf_counter() - start
    if out is not None:
        out.close()
    print(f"Parsed {n} captions in {seconds:.1f}s ({n / max(seconds, 1e-9):.0f}/s) with {nlp.meta['name']}.")
    print("Status: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    print("Concepts: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    for parsed in examples:
        print("  " + _highlight(parsed))
    if args.output:
        print(f"Wrote {args.output}")
    return 0


#: Subcommands living in their own modules: (name, module, help). Each module has
#: ``add_arguments(parser)`` and ``run(args) -> int`` and imports heavy libraries only in ``run``.
_SUBCOMMANDS = (
    ("corrupt", "_cli_corrupt", "corrupt captions into negatives with correction targets (default: the built-in sample)"),
    ("build", "_cli_build", "build ICCC training data (correction + captioning samples) as a HF dataset on disk"),
    ("export", "_cli_export", "export corruptions as TRL DPO pairs, NegCLIP hard negatives or SugarCrepe-style files"),
    ("train", "_cli_train", "fine-tune a vision-language model on an ICCC dataset (LoRA; needs the train extra)"),
    ("correct", "_cli_correct", "print a trained model's correction of a caption for an image"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iccc", description="Image-Conditioned Caption Correction data tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="extract concepts from captions (default: the built-in sample)")
    p.add_argument("input", nargs="?", help=".txt/.jsonl/.csv/.json (COCO or list) file, optionally .gz")
    p.add_argument("-o", "--output", help="write one JSON line per input row, with concepts")
    p.add_argument("--caption-column", default="caption")
    p.add_argument("--model", default=None, help="spaCy pipeline name or path (default: en_core_web_sm)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--n-process", type=int, default=1)
    p.add_argument("--show", type=int, default=5, help="examples to print")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_parse)

    for name, module, help_text in _SUBCOMMANDS:
        mod = import_module(f".{module}", __package__)
        c = sub.add_parser(name, help=help_text)
        mod.add_arguments(c)
        c.set_defaults(func=mod.run)
    return parser


#: Optional libraries and how to install them (the extras of setup.cfg).
_INSTALL_HINTS = {
    "datasets": 'pip install "iccc[datasets]"',
    "pyarrow": 'pip install "iccc[datasets]"',
    "nltk": 'pip install "iccc[wordnet]"',
    "torch": 'pip install torch  (on a CPU-only machine: pip install torch==2.13.0), then pip install "iccc[train]"',
    "transformers": 'pip install "iccc[train]"',
    "peft": 'pip install "iccc[train]"',
    "accelerate": 'pip install "iccc[train]"',
    "PIL": 'pip install "iccc[train]"',
}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ModuleNotFoundError as err:
        missing = (err.name or "").split(".")[0]
        if missing not in _INSTALL_HINTS:
            raise
        print(f"iccc {args.command}: error: this command needs the optional package {missing!r}, which is "
              f"not installed. Install it with: {_INSTALL_HINTS[missing]}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, KeyError, TypeError, OSError) as err:
        print(f"iccc {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
