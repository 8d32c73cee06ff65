"""The ``iccc`` command line: ``iccc parse`` here, the other subcommands in ``iccc/_cli_*.py`` (:data:`_SUBCOMMANDS`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections import Counter
from importlib import import_module
from itertools import tee
from pathlib import Path

from . import __version__
from ._cli_args import (
    INPUT_HELP,
    MODEL_HELP,
    ROWS_OUTPUT_HELP,
    no_rows_error,
    non_negative_int,
    positive_int,
    shorten,
)
from .columns import CAPTION, CONCEPTS, PARSE_STATUS
from .parsing import DEFAULT_BATCH_SIZE


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
    """``iccc parse``: every input row with its concepts and ``parse_status`` (rows whose caption cannot
    be parsed are kept with their status). An input without a single row (an empty, blank or
    header-only file) is refused with exit code 2: there is nothing to parse, and an empty output
    would hide a wrong path or caption column."""
    from tqdm import tqdm

    from .io import open_writer
    from .parsing import iter_parse, load_parser

    # a bad name is refused before any work; the file is finished on success, discarded on an error
    with open_writer(args.output, option="-o") if args.output else contextlib.nullcontext() as out:
        # a first pass counts the rows (cheap next to parsing): the progress bar's total, and an
        # empty input is refused before the parser is loaded
        total = sum(1 for _ in _rows(args.input, args.caption_column))
        if total == 0:
            raise no_rows_error(args.input, "parse")
        nlp = load_parser(args.model)
        rows_for_text, rows_for_out = tee(_rows(args.input, args.caption_column))
        texts = (row.get(CAPTION) for row in rows_for_text)
        kinds, statuses, examples = Counter(), Counter(), []
        start = time.perf_counter()
        n = 0
        progress = tqdm(total=total, desc="Parsing", unit=" captions", disable=args.quiet, file=sys.stderr)
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
                out.write({**row, CONCEPTS: [c.to_dict() for c in parsed.concepts], PARSE_STATUS: parsed.status})
            progress.update(1)
        progress.close()
        seconds = time.perf_counter() - start
    print(f"Parsed {n} captions in {seconds:.1f}s ({n / max(seconds, 1e-9):.0f}/s) with {nlp.meta['name']}.")
    print("Status: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    print("Concepts: " + (", ".join(f"{k} {v}" for k, v in kinds.most_common()) or "none"))
    for parsed in examples:
        print("  " + shorten(_highlight(parsed)))
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
    ("evaluate", "_cli_evaluate", "score a trained model on an ICCC dataset (correction accuracy, caption loss)"),
    ("preferences", "_cli_preferences", "sample a trained model's own captions and write calibrated DPO pairs "
     "(likelihood + image relevance; for iccc train --objective dpo)"),
    ("embed", "_cli_embed", "embed images and captions with a CLIP/SigLIP-style dual encoder (for iccc build --vision; "
     "needs the vision extra)"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iccc", description="Image-Conditioned Caption Correction data tools.")
    parser.add_argument("--version", action="version", version=f"iccc {__version__}",
                        help="print the version of iccc and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("parse", help="extract concepts from captions (default: the built-in sample)")
    p.add_argument("input", nargs="?", help=INPUT_HELP + " (default: the built-in sample)")
    p.add_argument("-o", "--output", help="write every input row with its concepts and parse_status"
                   + ROWS_OUTPUT_HELP)
    p.add_argument("--caption-column", default=CAPTION, help="field of the input holding the caption")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE,
                   help=f"captions per spaCy batch (default {DEFAULT_BATCH_SIZE})")
    p.add_argument("--n-process", type=positive_int, default=1, help="parser processes (default 1)")
    p.add_argument("--show", type=non_negative_int, default=5, help="examples to print (default 5)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_parse)

    for name, module, help_text in _SUBCOMMANDS:
        mod = import_module(f".{module}", __package__)
        c = sub.add_parser(name, help=help_text)
        mod.add_arguments(c)
        c.set_defaults(func=mod.run)
    return parser


#: Optional libraries and the extra of setup.cfg that installs each.
_EXTRAS = {"datasets": "datasets", "pyarrow": "datasets", "nltk": "wordnet", "torch": "train",
           "transformers": "train", "peft": "train", "accelerate": "train", "PIL": "train",
           "faiss": "vision", "safetensors": "vision", "ray": "ray"}


def _source_root() -> Path | None:
    """The checkout iccc runs from when it is a source install (``pip install -e .``, or the clone on
    ``PYTHONPATH``): the folder above the package holding iccc's ``setup.cfg``; None for an installed wheel."""
    root = Path(__file__).resolve().parent.parent
    try:
        return root if "name = iccc" in (root / "setup.cfg").read_text(encoding="utf-8") else None
    except OSError:
        return None


def install_hint(package: str) -> str | None:
    """How to install the optional ``package``: from the checkout for a source install (iccc is not
    on PyPI there), else the PyPI form; None for a package that is no optional dependency."""
    extra = _EXTRAS.get(package)
    if extra is None:
        return None
    root = _source_root()
    command = f'pip install -e "{root}[{extra}]"' if root is not None else f'pip install "iccc[{extra}]"'
    if package == "torch":
        return f"pip install torch  (on a CPU-only machine: pip install torch==2.13.0), then {command}"
    return command


def main(argv=None) -> int:
    """Run ``iccc`` with ``argv`` (default: the command line); the exit code.

    Errors the user can fix (a missing file, a bad value, a missing optional package) are one line
    ``iccc <command>: error: ...`` on stderr and exit code 2, without a traceback.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ModuleNotFoundError as err:
        missing = (err.name or "").split(".")[0]
        hint = install_hint(missing)
        if hint is None:
            raise
        print(f"iccc {args.command}: error: this command needs the optional package {missing!r}, which is "
              f"not installed. Install it with: {hint}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `iccc parse | head`: the reader left; no message, no traceback at exit
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except (FileNotFoundError, ValueError, KeyError, TypeError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err  # no repr quotes
        print(f"iccc {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"iccc {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
