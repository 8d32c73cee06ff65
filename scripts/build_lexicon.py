"""Build ``iccc/data/wordnet_lexicon.json.gz``: the part of WordNet 3.0 that :mod:`iccc.semantics` uses.

Reads WordNet through NLTK from a folder holding ``corpora/wordnet`` (or ``corpora/wordnet.zip``)
and writes the compact lexicon :class:`iccc.data.lexicon.Lexicon` reads, for nouns, verbs and
adjectives (adverbs are never looked up):

- ``synsets`` (numbered by part of speech, then WordNet offset): per synset its part of speech
  (``n``, ``v``, ``a``, ``s``), lexicographer file, lemmas in order (lower case, ``_`` written as a
  space, joined by ``|``), hypernyms, instance hypernyms and (adjectives) similar-to synsets
  (each list sorted by synset number);
- ``synsets.senses``: per synset and lemma, the synset's rank among that lemma's senses. With the lemmas
  this is WordNet's index (lemma -> synsets in sense order), rebuilt when the lexicon loads; the
  script checks that the rebuilt index is NLTK's, lemma for lemma;
- ``exceptions`` and ``rules``: NLTK's morphological exception lists and detachment rules, so that
  inflected forms ("dogs", "tennis_rackets", "running") are looked up as ``wn.synsets`` does.

The output is deterministic (sorted tables, gzip without a timestamp): running the script again on
the same WordNet gives a byte-identical file (``tests/test_lexicon.py`` checks this).

    python scripts/build_lexicon.py --wordnet /work/shared/data/nltk_data
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from pathlib import Path

#: Parts of speech iccc looks up (``s``, satellite adjectives, come with ``a``).
POS = ("n", "v", "a")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "iccc" / "data" / "wordnet_lexicon.json.gz"


def _word(name: str) -> str:
    return name.replace("_", " ").lower()


def build(wn) -> dict:
    """The lexicon of NLTK's WordNet reader ``wn`` as a JSON-ready dict."""
    from iccc.data.lexicon import FORMAT, VERSION

    wn.ensure_loaded()
    synsets = [s for s in wn.all_synsets() if s.pos() in ("n", "v", "a", "s")]
    synsets.sort(key=lambda s: ("nvas".index(s.pos()), s.offset()))
    # an adjective satellite and its head share offsets with pos "a" in the index: key by (a/s -> a, offset)
    sid = {(s.pos().replace("s", "a"), s.offset()): i for i, s in enumerate(synsets)}

    def ids(related) -> list[int]:
        # sorted: NLTK keeps a synset's pointers in a set, so its order changes with the hash seed
        return sorted(sid[(s.pos().replace("s", "a"), s.offset())] for s in related)

    index_map = wn._lemma_pos_offset_map  # NLTK's parsed index files: lemma -> pos -> offsets
    words = [[_word(name) for name in s.lemma_names()] for s in synsets]
    senses = []  # per synset and lemma: the synset's place among the lemma's senses (index order)
    for i, (synset, names) in enumerate(zip(synsets, words)):
        pos = synset.pos().replace("s", "a")
        senses.append([[sid[(pos, off)] for off in index_map[w.replace(" ", "_")][pos]].index(i) for w in names])
        if any("|" in w for w in names):
            raise ValueError(f"A lemma of {synset.name()} holds the separator '|': {names!r}.")
    _check_index(index_map, words, senses, synsets, sid)
    lexnames = sorted({s.lexname() for s in synsets})
    return {
        "format": FORMAT,
        "version": VERSION,
        "source": f"WordNet {wn.get_version()} (Princeton University), read with NLTK",
        "license": "WordNet 3.0 License, see WORDNET_LICENSE.txt",
        "lexnames": lexnames,
        "synsets": {
            "pos": "".join(s.pos() for s in synsets),
            "lexname": [lexnames.index(s.lexname()) for s in synsets],
            "words": ["|".join(names) for names in words],
            "senses": senses,
            "hypernyms": [ids(s.hypernyms()) for s in synsets],
            "instance_hypernyms": [ids(s.instance_hypernyms()) for s in synsets],
            "similar_tos": [ids(s.similar_tos()) if s.pos() in "as" else [] for s in synsets],
        },
        "exceptions": {pos: {_word(form): [_word(b) for b in bases] for form, bases in sorted(wn._exception_map[pos].items())}
                       for pos in POS},
        "rules": {pos: [list(rule) for rule in wn.MORPHOLOGICAL_SUBSTITUTIONS[pos]] for pos in POS},
    }


def _check_index(index_map, words, senses, synsets, sid) -> None:
    """The index the lexicon rebuilds from (synset, lemma, sense) triples must be NLTK's, lemma for lemma."""
    rebuilt: dict = {pos: {} for pos in POS}
    for i, (synset, names) in enumerate(zip(synsets, words)):
        for w, rank in zip(names, senses[i]):
            rebuilt[synset.pos().replace("s", "a")].setdefault(w, {})[rank] = i
    for pos in POS:
        expected = {lemma.replace("_", " "): [sid[(pos, off)] for off in by_pos[pos]]
                    for lemma, by_pos in index_map.items() if by_pos.get(pos)}
        got = {w: [ranks[r] for r in sorted(ranks)] for w, ranks in rebuilt[pos].items()}
        if got != expected or any(sorted(ranks) != list(range(len(ranks))) for ranks in rebuilt[pos].values()):
            raise ValueError(f"WordNet's {pos!r} index cannot be rebuilt from the synsets' lemmas.")


def encode(lexicon: dict) -> bytes:
    """``lexicon`` as gzip-compressed JSON, byte-for-byte reproducible (no timestamp, no file name)."""
    text = json.dumps(lexicon, ensure_ascii=True, separators=(",", ":"))
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as f:
        f.write(text.encode("ascii"))
    return buffer.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wordnet", required=True, type=Path,
                        help="folder holding corpora/wordnet (or corpora/wordnet.zip) for NLTK")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if not (args.wordnet / "corpora").is_dir():
        parser.error(f"--wordnet {str(args.wordnet)!r} has no corpora/ folder (expected NLTK's data layout).")
    import nltk

    nltk.data.path.insert(0, str(args.wordnet))
    from nltk.corpus import wordnet as wn

    data = encode(build(wn))
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
