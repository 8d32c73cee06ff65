"""The shipped WordNet lexicon (iccc/data/lexicon.py) and the two WordNet backends of iccc.semantics.

Without the shared data: the lexicon loads, answers like WordNet for common words, stays small,
and a broken install warns once. With WordNet for NLTK (``../shared/data/nltk_data``): every
public answer of :mod:`iccc.semantics` (and ``base._known_compound``) is the same from either
backend, for every lemma of the shipped COCO base and a few thousand WordNet lemmas, inflected
forms and compounds; and ``scripts/build_lexicon.py`` regenerates the shipped file byte for byte.
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from conftest import HAS_WORDNET_DATA, NLTK_DIR

from iccc import ConceptBase, semantics
from iccc.base import _known_compound
from iccc.data import lexicon
from iccc.data.lexicon import Lexicon

ROOT = Path(__file__).resolve().parents[1]
#: The most the lexicon file may weigh (bytes).
MAX_LEXICON_BYTES = 2_000_000
KINDS = ("noun", "entity", "verb", "attribute")
POS_OF = {"noun": "n", "entity": "n", "verb": "v", "attribute": "a"}

needs_nltk_wordnet = pytest.mark.skipif(
    not HAS_WORDNET_DATA or importlib.util.find_spec("nltk") is None,
    reason=f"WordNet for NLTK not found: {NLTK_DIR} (the shared data directory is absent) or nltk is not installed",
)


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.load()


@pytest.fixture
def backend():
    """Switch the WordNet backend inside one test; the previous (automatic) choice comes back after."""
    yield semantics.use_wordnet
    semantics.use_wordnet(None)


# ------------------------------------------------------------------------ without the shared data
def test_the_shipped_lexicon_loads_and_is_small(lex):
    assert lexicon.default_path().stat().st_size <= MAX_LEXICON_BYTES
    assert len(lex.lemmas("n")) > 100_000 and len(lex.lemmas("v")) > 10_000 and len(lex.lemmas("a")) > 20_000
    assert "WordNet 3.0" in lex.source
    license_text = (lexicon.default_path().parent / "WORDNET_LICENSE.txt").read_text(encoding="utf-8")
    assert "Princeton University" in license_text and "WordNet 3.0" in license_text


def test_lexicon_lookups(lex):
    dog = lex.synsets("dog", "n")[0]
    assert lex.name(dog) == "dog.n.01" and lex.lexname(dog) == "noun.animal"
    assert "domestic dog" in lex.words(dog) and not lex.is_instance(dog)
    ancestors = {w for s in lex.ancestors(dog) for w in lex.words(s)}
    assert {"canine", "carnivore", "animal", "entity"} <= ancestors and "dog" not in ancestors
    assert lex.synsets("Dogs", "n") == lex.synsets("dog", "n")  # lower-cased, plural detached
    assert lex.synsets("tennis rackets", "n") == lex.synsets("tennis_racket", "n")  # either spelling
    assert lex.morphy("boxes", "n") == ["box"] and lex.morphy("jumping", "v") == ["jump"]
    assert lex.synsets("xyzzy", "n") == ()
    assert all(lex.name(s).endswith(".s." + lex.name(s)[-2:]) for s in lex.synsets("shiny", "s"))
    snow = lex.synsets("snow", "n")
    assert any(lex.is_instance(s) for s in snow)  # C. P. Snow


@pytest.mark.parametrize("pos", ["x", "noun", None])
def test_lexicon_refuses_an_unknown_part_of_speech(lex, pos):
    with pytest.raises(ValueError, match=r"`pos` should be one of 'n', 'v', 'a', 's', got"):
        lex.synsets("dog", pos)


def test_the_lexicon_backend_answers_without_nltk(backend):
    assert backend("lexicon") == "lexicon"
    assert semantics.wordnet_backend() == "lexicon"
    assert semantics.related("dog", "animal", "noun")
    assert not semantics.related("dog", "cat", "noun")
    assert semantics.category("dog", "noun") == "animal"
    assert semantics.category("man", "noun") == "person"
    assert semantics.category("run", "verb") == "verb.motion"
    assert "glossy" in semantics.synonym_names("shiny", "attribute")
    assert _known_compound("hot dog") and not _known_compound("black dog")


def test_use_wordnet_validates_and_off_switches_wordnet_off(backend):
    with pytest.raises(ValueError, match=r"`backend` should be one of 'auto', 'nltk', 'lexicon', 'off' or None, got 'wn'"):
        backend("wn")
    assert backend("off") is None
    assert not semantics.wordnet_available() and not semantics.related("dog", "animal", "noun")
    assert backend("lexicon") == "lexicon" and semantics.related("dog", "animal", "noun")


def test_the_environment_variable_chooses_the_backend(monkeypatch, backend):
    monkeypatch.setenv(semantics.WORDNET_ENV, "lexicon")
    assert backend(None) == "lexicon"
    monkeypatch.setenv(semantics.WORDNET_ENV, "off")
    semantics.clear_caches()
    assert semantics.wordnet_backend() is None


def test_nltk_asked_for_but_missing_raises(monkeypatch, backend):
    monkeypatch.setattr(semantics, "_load_nltk", lambda: None)
    with pytest.raises(LookupError, match="'nltk' is not available"):
        backend("nltk")


def test_a_broken_lexicon_without_nltk_warns_once_and_names_what_changes(monkeypatch, tmp_path):
    broken = tmp_path / lexicon.FILE
    broken.write_bytes(b"not gzip")
    monkeypatch.setattr(lexicon, "default_path", lambda: broken)
    monkeypatch.setattr(semantics, "_load_nltk", lambda: None)
    monkeypatch.setattr(semantics, "_warned", set())
    semantics._load_lexicon.cache_clear()
    semantics.clear_caches()
    try:
        with pytest.warns(RuntimeWarning, match=r"WordNet is unavailable.*could not be read.*synonyms"):
            assert not semantics.wordnet_available()
        semantics.clear_caches()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a second fallback in the same process stays quiet
            assert semantics.wordnet_backend() is None
        with pytest.raises(LookupError, match="'lexicon' is not available: the shipped lexicon"):
            semantics.use_wordnet("lexicon")
    finally:
        monkeypatch.undo()
        semantics._load_lexicon.cache_clear()
        semantics.use_wordnet(None)


# ------------------------------------------------------------------------ both backends, compared
def _inflections(lemma: str, pos: str) -> list[str]:
    """Inflected spellings of ``lemma`` that WordNet's detachment rules take back (and some they do not)."""
    if pos == "n":
        forms = [lemma + "s", lemma + "es"]
        forms += [lemma[:-1] + "ies"] if lemma.endswith("y") else []
        forms += [lemma[:-1] + "ves"] if lemma.endswith("f") else []
        forms += [lemma[:-3] + "men"] if lemma.endswith("man") else []
    elif pos == "v":
        forms = [lemma + "s", lemma + "es", lemma + "ed", lemma + "ing"]
        forms += [lemma[:-1] + "ing", lemma[:-1] + "ed"] if lemma.endswith("e") else []
        forms += [lemma[:-1] + "ies"] if lemma.endswith("y") else []
    else:
        forms = [lemma + "er", lemma + "est"] + ([lemma + "r", lemma + "st"] if lemma.endswith("e") else [])
    return forms


def _queries(lex: Lexicon) -> dict[str, list[str]]:
    """Per kind: every lemma of the shipped COCO base, plus (seeded) WordNet lemmas, multiword
    compounds, their inflections and odd spellings."""
    base = ConceptBase.default()
    rng = random.Random(12)
    queries = {}
    for kind in KINDS:
        lemmas = set(base.counts[kind])
        pos = POS_OF[kind]
        wordnet_lemmas = lex.lemmas(pos)
        picked = rng.sample(wordnet_lemmas, 800) + rng.sample([w for w in wordnet_lemmas if " " in w], 200)
        lemmas |= set(picked)
        lemmas |= {f for w in picked[:400] for f in _inflections(w, pos)}
        lemmas |= {w.replace(" ", "_") for w in picked[800:]} | {w.title() for w in picked[:50]}
        lemmas |= {"", "xyzzy", "dog ", "ice_cream", "tennis rackets", "mice", "geese", "ran", "better"}
        queries[kind] = sorted(lemmas)
    return queries


def _answers(queries: dict[str, list[str]], pairs: dict[str, list[tuple[str, str]]]) -> dict:
    semantics.clear_caches()
    out = {}
    for kind, lemmas in queries.items():
        for lemma in lemmas:
            out["synonym_names", kind, lemma] = semantics.synonym_names(lemma, kind)
            out["hypernym_names", kind, lemma] = semantics.hypernym_names(lemma, kind)
            out["category", kind, lemma] = semantics.category(lemma, kind)
            out["in_wordnet", kind, lemma] = semantics.in_wordnet(lemma, kind)
            if kind == "entity":
                out["known_compound", kind, lemma] = _known_compound(" ".join(lemma.split(" ")[-2:]))
        for a, b in pairs[kind]:
            out["related", kind, (a, b)] = semantics.related(a, b, kind)
    return out


def _pairs(queries: dict[str, list[str]]) -> dict[str, list[tuple[str, str]]]:
    """Per kind: random pairs of query lemmas, and each of 2,000 lemmas with one of its
    synonyms or hypernyms (found with the backend in use, so that many pairs are related)."""
    rng = random.Random(34)
    pairs = {}
    for kind, lemmas in queries.items():
        chosen = [tuple(rng.sample(lemmas, 2)) for _ in range(4000)]
        for lemma in rng.sample(lemmas, 2000):
            names = sorted(semantics.related_names(lemma, kind) - {lemma})
            if names:
                chosen.append((lemma, rng.choice(names)) if rng.random() < 0.5 else (rng.choice(names), lemma))
        pairs[kind] = chosen
    return pairs


@pytest.fixture(scope="module")
def both_backends(lex):
    """``(queries, pairs, answers by backend)``, NLTK's first."""
    if not HAS_WORDNET_DATA or importlib.util.find_spec("nltk") is None:
        pytest.skip(f"WordNet for NLTK not found: {NLTK_DIR} (the shared data directory is absent) or nltk is missing")
    semantics.set_wordnet_path(NLTK_DIR)
    try:
        assert semantics.use_wordnet("nltk") == "nltk"
        queries = _queries(lex)
        pairs = _pairs(queries)
        found = {"nltk": _answers(queries, pairs)}
        assert semantics.use_wordnet("lexicon") == "lexicon"
        found["lexicon"] = _answers(queries, pairs)
    finally:
        semantics.use_wordnet(None)
    return queries, pairs, found


def _differences(found: dict, function: str) -> list:
    nltk, lexicon_answers = found["nltk"], found["lexicon"]
    return [(key, nltk[key], lexicon_answers[key]) for key in nltk if key[0] == function
            and nltk[key] != lexicon_answers[key]]


@needs_nltk_wordnet
@pytest.mark.slow  # the comparison takes ~40 s, once for all its tests
@pytest.mark.parametrize("function", ["synonym_names", "hypernym_names", "category", "in_wordnet", "related",
                                      "known_compound"])
def test_both_backends_give_the_same_answers(both_backends, function):
    _, _, found = both_backends
    assert found["nltk"].keys() == found["lexicon"].keys()
    differences = _differences(found, function)
    assert not differences, f"{len(differences)} differences, e.g. {differences[:5]}"


@needs_nltk_wordnet
@pytest.mark.slow
def test_the_comparison_covers_enough_and_is_not_vacuous(both_backends):
    queries, pairs, found = both_backends
    assert sum(map(len, queries.values())) > 30_000 and sum(map(len, pairs.values())) > 20_000
    answers = found["nltk"]
    related = [v for k, v in answers.items() if k[0] == "related"]
    assert 0.1 < sum(related) / len(related) < 0.9  # both answers well represented
    with_hypernyms = sum(1 for k, v in answers.items() if k[0] == "hypernym_names" and v)
    assert with_hypernyms > 20_000
    categories = {v for k, v in answers.items() if k[0] == "category"}
    assert {"animal", "food", "vehicle", "person", "person-role", "verb.motion"} <= categories
    assert sum(1 for k, v in answers.items() if k[0] == "known_compound" and v) > 200


@needs_nltk_wordnet
def test_synsets_match_nltk_sense_for_sense(lex):
    """Lower level: ``synsets`` in NLTK's order (by synset name), words, lexnames and similar-tos."""
    semantics.set_wordnet_path(NLTK_DIR)
    from nltk.corpus import wordnet as wn

    nltk = semantics.NltkWordNet(wn)
    rng = random.Random(56)
    for pos in ("n", "v", "a", "s"):
        lemmas = rng.sample(lex.lemmas(pos), 1500)
        for word in lemmas + [f for w in lemmas[:300] for f in _inflections(w, "a" if pos == "s" else pos)]:
            theirs, ours = nltk.synsets(word, pos), lex.synsets(word, pos)
            assert [nltk.name(s) for s in theirs] == [lex.name(s) for s in ours], (word, pos)
            for a, b in zip(theirs, ours):
                assert nltk.words(a) == lex.words(b) and nltk.lexname(a) == lex.lexname(b)
                assert nltk.is_instance(a) == lex.is_instance(b)
                assert sorted(map(nltk.name, nltk.similar_tos(a))) == sorted(map(lex.name, lex.similar_tos(b)))
                assert sorted(map(nltk.name, nltk.ancestors(a))) == sorted(map(lex.name, lex.ancestors(b)))


@needs_nltk_wordnet
@pytest.mark.slow
def test_the_build_script_regenerates_the_shipped_file_byte_for_byte(tmp_path):
    out = tmp_path / lexicon.FILE
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_lexicon.py"), "--wordnet", str(NLTK_DIR),
                    "--out", str(out)], check=True, capture_output=True, timeout=600)
    assert out.read_bytes() == lexicon.default_path().read_bytes()
