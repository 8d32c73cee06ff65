"""Counts of three negative-quality defects on COCO val2017 (issue 12, items 11-13).

* **mid-sentence capitals**: negatives with a capitalised word, not at a sentence start, that the
  real caption does not have ("parked next to A cat"); split into those whose word is an
  acronym-like token (two capitals, "TV") and the rest.
* **cross-category attributes**: attribute replacements whose original and replacement have
  different known categories (:func:`iccc.semantics.category`: "small" -> "red" is size -> colour),
  as a share of the attribute replacements whose two categories are both known.
* **proper nouns inserted**: negatives whose new words include a capitalised place/name word
  (a mid-sentence capital that is not an acronym), with examples.
* **slips**: how many negatives (not their real caption) match each of the issue's parser-slip
  examples, and how many concepts of the parsed captions come from those slips
  (:func:`slip_concepts`).

Usage::

    NLTK_DATA=../shared/data/nltk_data python benchmarks/bench_defects.py [--quick] [--show N]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_quality import iccc_records  # noqa: E402

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def _mid_capitals(text: str) -> list[str]:
    """Capitalised words of ``text`` that do not open a sentence."""
    out = []
    for m in _WORD.finditer(text):
        i = m.start()
        j = i
        while j > 0 and text[j - 1] in " \t\"'(":
            j -= 1
        if j == 0 or text[j - 1] in ".!?":
            continue
        w = m.group()
        if w[0].isupper():
            out.append(w)
    return out


def _shouted(text: str) -> bool:
    return text.isupper() and sum(ch.isupper() for ch in text) > 3


def mid_capital_defects(records) -> list:
    out = []
    for r in records:
        if r is None or _shouted(r.corrupted_caption):
            continue
        new = Counter(_mid_capitals(r.corrupted_caption)) - Counter(_mid_capitals(r.caption))
        if new:
            out.append((r, sorted(new)))
    return out


def cross_category(records, kind="attribute"):
    """``(known, crossed, pairs, examples)`` of the ``kind`` replacements: how many have both
    categories known, how many of those differ, by pair, with examples. Nouns and entities are
    judged by their last word."""
    from iccc.semantics import category

    known = crossed = 0
    pairs = Counter()
    examples = []
    for r in records:
        if r is None or r.operation != "replace" or r.concept_kind != kind:
            continue
        old, new = r.original.lower(), r.replacement.lower()
        if kind != "attribute":
            old, new = old.rsplit(" ", 1)[-1], new.rsplit(" ", 1)[-1]
        a, b = category(old, kind), category(new, kind)
        if a is None or b is None:
            continue
        known += 1
        if a != b:
            crossed += 1
            pairs[(a, b)] += 1
            if len(examples) < 40:
                examples.append((r.caption, r.corrupted_caption))
    return known, crossed, pairs, examples


SLIPS = {
    "stands London": r"\bstands London\b",
    "in Big Ben": r"\bin Big Ben\b",
    "meter moped": r"\bparking meter moped\b",
    "looking toilet": r"\blooking toilet\b",
    "CD of a room": r"\bCD of a room\b",
}


def slip_concepts() -> dict:
    """Concepts of the parsed val2017 captions that come from the parser slips of issue 12: nouns
    with an adjective ending ("stands motionless"), "looking" alone as an attribute, "inside" /
    "outside" nouns with an "of" complement, nouns written with an apostrophe plural ("CD's")
    that leave the "'s" out."""
    from bench_quality import parsed_val2017

    _, parsed = parsed_val2017()
    counts = Counter()
    for p in parsed:
        text = p.text
        for c in p.concepts:
            low = c.text.lower()
            if c.kind == "noun" and len(low) > 6 and low.endswith(("less", "ous")):
                counts["adjective_noun"] += 1
            elif c.kind == "attribute" and low == "looking":
                counts["looking_alone"] += 1
            elif c.kind == "noun" and low in ("inside", "outside") and text[c.end:].startswith(" of "):
                counts["inside_of_noun"] += 1
            elif c.kind == "noun" and text[c.end:c.end + 2] in ("'s", "\u2019s") and c.dep != "poss":
                counts["apostrophe_plural_cut"] += 1
    return dict(sorted(counts.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=15, help="examples to print per defect")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    anns, records = iccc_records(quick=args.quick, seed=args.seed)
    n = len(records)
    covered = sum(r is not None for r in records)
    caps = mid_capital_defects(records)
    acronym = [(r, w) for r, w in caps if all(len(x) > 1 and x[1].isupper() for x in w)]
    other = [(r, w) for r, w in caps if not all(len(x) > 1 and x[1].isupper() for x in w)]
    known, crossed, pairs, examples = cross_category(records)
    slips = {name: sum(bool(re.search(p, r.corrupted_caption)) and not re.search(p, r.caption)
                       for r in records if r is not None)
             for name, p in SLIPS.items()}
    concept_slips = slip_concepts()
    nouns = {k: cross_category(records, k)[:2] for k in ("noun", "entity")}
    ops = Counter(f"{r.operation}_{r.concept_kind}" for r in records if r is not None)
    figures = {
        "captions": n,
        "covered": covered,
        "mid_sentence_capitals": len(caps),
        "mid_sentence_capitals_acronym": len(acronym),
        "mid_sentence_capitals_other": len(other),
        "attribute_replacements_known_categories": known,
        "attribute_cross_category": crossed,
        "attribute_cross_category_share": crossed / known if known else None,
        "noun_entity_cross_category": {k: {"known": a, "crossed": b, "share": b / a if a else None}
                                       for k, (a, b) in nouns.items()},
        "slips": slips,
        "slip_concepts": concept_slips,
        "operations": dict(sorted(ops.items())),
    }
    print(json.dumps(figures, indent=1))
    print("\n-- mid-sentence capitals (not acronyms):")
    for r, w in other[: args.show]:
        print(f"  {w}  {r.caption!r} -> {r.corrupted_caption!r}  [{r.operation} {r.concept_kind}]")
    print("\n-- mid-sentence capitals (acronym-like):")
    for r, w in acronym[: args.show]:
        print(f"  {w}  {r.caption!r} -> {r.corrupted_caption!r}  [{r.operation} {r.concept_kind}]")
    print("\n-- cross-category attribute pairs:", pairs.most_common(15))
    for a, b in examples[: args.show]:
        print(f"  {a!r} -> {b!r}")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
