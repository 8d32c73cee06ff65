"""Shared fixtures: the spaCy pipeline (loaded once per session) and the shared real data."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Real caption data lives beside the repository (``../shared/data``) and may be absent.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
COCO_DIR = SHARED_DATA / "coco_captions"


@pytest.fixture(scope="session")
def nlp():
    """The default pipeline of :func:`iccc.load_parser` (cached there, so shared with the library)."""
    import iccc

    return iccc.load_parser()


@pytest.fixture(scope="session")
def coco_dir() -> Path:
    """``../shared/data/coco_captions``; the test is skipped when it is absent."""
    if not (COCO_DIR / "captions_val2017.json.gz").is_file():
        pytest.skip(f"real COCO captions not found: {COCO_DIR} (the shared data directory is absent)")
    return COCO_DIR


@pytest.fixture(scope="session")
def coco_captions(coco_dir) -> list[str]:
    """The first 300 captions of COCO 2017 val, in file order (duplicates kept)."""
    import gzip
    import json

    with gzip.open(coco_dir / "captions_val2017.json.gz", "rt", encoding="utf-8") as f:
        return [a["caption"] for a in json.load(f)["annotations"][:300]]


# ---------------------------------------------------------------------------- corruption engine
# Fixtures for tests/test_textedit.py, test_semantics.py, test_base.py, test_operators.py and
# test_corrupt.py.

#: WordNet for NLTK (``../shared/data/nltk_data``). When it is here the whole suite runs with it,
#: so the WordNet rules (synonyms, hypernyms, categories) are tested in CI; doctests hold either way.
NLTK_DIR = SHARED_DATA / "nltk_data"
HAS_WORDNET_DATA = (NLTK_DIR / "corpora").is_dir()
if HAS_WORDNET_DATA:
    import os

    import iccc.semantics

    os.environ.setdefault("NLTK_DATA", str(NLTK_DIR))  # for worker processes that start fresh
    iccc.semantics.set_wordnet_path(NLTK_DIR)

#: Captions that exercise swaps, counts and coordination, parsed with the real model next to the
#: built-in sample (one image id each, after the sample's).
ENGINE_CAPTIONS = (
    "A dog chasing a cat in a yard.",
    "A cat sitting on top of a dog.",
    "A woman standing behind a man.",
    "A black cat lying on a white bed.",
    "A red car parked behind a blue truck.",
    "Two dogs playing with three cats.",
    "Three boys playing soccer on a field.",
    "Four giraffes standing near two zebras.",
    "A small boy holding a large umbrella.",
    "A wooden table with a metal chair.",
    "A boy and a girl flying a kite.",
    "A cat next to a dog on a bed.",
    "A dog in the sand chasing a cat.",
    "A man with a hand stand next to a woman.",
    "A plate of pizza next to a bowl of salad.",
    "Five sheep grazing in a green field.",
    "A girl feeding a horse in a field.",
    "A man throwing a frisbee to a dog.",
    "One dog sitting on a bench.",
    "A brown horse pulling a red cart.",
)


@pytest.fixture(scope="session")
def wordnet() -> bool:
    """WordNet is loaded for this session; the test is skipped when its data is absent."""
    import iccc.semantics

    if not HAS_WORDNET_DATA:
        pytest.skip(f"WordNet data not found: {NLTK_DIR} (the shared data directory is absent)")
    if not iccc.semantics.wordnet_available():
        pytest.skip("WordNet data is present but NLTK cannot load it (is nltk installed?)")
    return True


def _clear_semantic_caches():
    from iccc import semantics

    for fn in (semantics._synsets, semantics.synonym_names, semantics.hypernym_names, semantics.related,
               semantics.category):
        fn.cache_clear()


@pytest.fixture
def no_wordnet(monkeypatch):
    """Run one test as if WordNet were not installed (built-in word lists only)."""
    from iccc import semantics

    _clear_semantic_caches()
    monkeypatch.setattr(semantics, "load_wordnet", lambda: None)
    yield
    monkeypatch.undo()
    _clear_semantic_caches()


def build_caption(text: str, *specs):
    """A hand-made :class:`iccc.ParsedCaption`: rule tests that need no spaCy model.

    Each spec is ``(kind, surface, lemma, tag)`` or ``(kind, surface, lemma, tag, extra)``; the
    surface is found in ``text`` (its first occurrence, or from ``extra["after"]``); ``extra`` may
    also set ``tags``, ``dep``, ``head``, ``subj``, ``obj``, ``symmetric``.
    """
    from iccc import Concept, ParsedCaption

    concepts = []
    for spec in specs:
        kind, surface, lemma, tag = spec[:4]
        extra = dict(spec[4]) if len(spec) > 4 else {}
        start = text.index(surface, extra.pop("after", 0))
        concepts.append(Concept(kind, surface, start, start + len(surface), lemma, tag, extra.pop("tags", tag),
                                extra.pop("dep", "dep"), **extra))
    return ParsedCaption(text, tuple(concepts))


@pytest.fixture(scope="session")
def make_caption():
    """:func:`build_caption`, as a fixture."""
    return build_caption


@pytest.fixture(scope="session")
def engine_rows() -> list[dict]:
    """The built-in sample rows plus :data:`ENGINE_CAPTIONS` (``{"image_id", "caption"}``)."""
    import iccc

    rows = iccc.sample_captions()
    first = max(r["image_id"] for r in rows) + 1
    return rows + [{"image_id": first + k, "caption": c} for k, c in enumerate(ENGINE_CAPTIONS)]


@pytest.fixture(scope="session")
def engine_parsed(engine_rows, nlp) -> list:
    """:func:`engine_rows` parsed with the real model (once per session)."""
    import iccc

    return iccc.parse([r["caption"] for r in engine_rows], nlp=nlp)


@pytest.fixture(scope="session")
def engine_base(engine_rows, engine_parsed):
    """A concept base of :func:`engine_parsed`, grouped by image, without the frequency filter
    (the sample is small). Shared: tests must not add to it."""
    import iccc

    return iccc.ConceptBase.from_parsed(engine_parsed, groups=[r["image_id"] for r in engine_rows],
                                        above_mean=False)


@pytest.fixture(scope="session")
def coco_val2017_rows(coco_dir) -> list[dict]:
    """The first 2,000 COCO 2017 val annotations (``image_id``, ``caption``), in file order."""
    import gzip
    import json

    with gzip.open(coco_dir / "captions_val2017.json.gz", "rt", encoding="utf-8") as f:
        return [{"image_id": a["image_id"], "caption": a["caption"]} for a in json.load(f)["annotations"][:2000]]
