"""Build ``iccc/data/default_base.json.gz``: the concept base :func:`iccc.corrupt` uses when none is given.

Built from the human captions of COCO 2017 val (``captions_val2017.json``, 25,014 captions of 5,000
images; COCO annotations, CC BY 4.0, see ``iccc/data/DEFAULT_BASE_NOTICE.txt``) exactly as
``iccc corrupt FILE --save-base`` builds one: parsed with the default pipeline, counted with the
default filter, captions grouped by ``image_id`` and frequency-balanced
(:func:`iccc.balance.balance_insertions`, seed 0) with the sibling-caption guard in place.

The image groups are then dropped (``--keep-groups`` keeps them): they name COCO images, and the
ids of a user's own captions (``corrupt(..., group=7)``) would otherwise be read as COCO image 7,
blocking replacements by the words of someone else's image. Nothing else is pruned: counts, forms
and contexts are what the samplers read (the file stays under ~3 MB).

    python scripts/build_default_base.py --captions /work/shared/data/coco_captions/captions_val2017.json.gz

Needs the spaCy model iccc installs (``en-core-web-sm``); takes a few minutes on two cores. The
result depends on the parser and the corruption code, so rebuild it when either changes the
parses or the balance (``tests/test_default_base.py`` checks the shipped file against the code).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "iccc" / "data" / "default_base.json.gz"


def build(path: Path, *, seed: int = 0, keep_groups: bool = False, progress: bool = True):
    """The default concept base of the captions in ``path`` (see the module docstring)."""
    from tqdm import tqdm

    from iccc import ConceptBase, iter_parse, load_parser
    from iccc.balance import balance_insertions
    from iccc.io import group_key, read_captions

    rows = list(read_captions(path))
    groups = [group_key(r) for r in rows]
    nlp = load_parser()
    parsed = list(tqdm(iter_parse((r.get("caption") for r in rows), nlp=nlp, on_invalid="status"),
                       total=len(rows), desc="Parsing", unit=" captions", disable=not progress))
    base = ConceptBase.from_parsed(parsed, groups=groups, progress=progress)
    balance_insertions(base, parsed, groups=groups, seed=seed, progress=progress)
    if not keep_groups:
        base.groups.clear()
    return base


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captions", required=True, type=Path,
                        help="COCO captions file (captions_val2017.json or .json.gz)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default: {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the balancing simulation (default 0)")
    parser.add_argument("--keep-groups", action="store_true", help="keep the COCO image groups in the base")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if not args.captions.is_file():
        parser.error(f"--captions {str(args.captions)!r} is not a file.")
    if args.seed < 0:
        parser.error(f"--seed should be a non-negative integer, got {args.seed}.")
    start = time.perf_counter()
    base = build(args.captions, seed=args.seed, keep_groups=args.keep_groups, progress=not args.quiet)
    base.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, {base.n_captions:,} captions) "
          f"in {time.perf_counter() - start:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
