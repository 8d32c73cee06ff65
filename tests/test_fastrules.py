"""iccc.parsing._fastrules: the memoised attribute_ruler + lemmatizer give spaCy's annotations exactly."""

from __future__ import annotations

import gzip
import json

import pytest
import spacy
from spacy.tokens import Doc

import iccc
from iccc.parsing import _fastrules
from iccc.parsing._fastrules import FastRules, accelerator, run_pipeline, trailing_rules
from iccc.samples import sample_captions

ODD = [
    "", "   ", "There is a cat.", "  A  dog\n\n runs.\t", "🙂 emoji <b>html</b> café",
    "Der Hund läuft schnell über die Straße.", "There's a man; it's raining  .", "He isn't here, they aren't.",
    "A MAN RIDING A HORSE.", "two dogs , three cats and 4 birds", "\n", "It's a dog's life.",
]


def annotations(docs) -> list:
    return [[(t.text, t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.head.i, t.is_sent_start) for t in doc]
            for doc in docs]


def assert_same(nlp, texts, disable=()):
    ref = annotations(nlp.pipe(texts, batch_size=64, disable=list(disable)))
    fast = annotations(run_pipeline(nlp, texts, 64, list(disable)))
    for text, a, b in zip(texts, ref, fast):
        assert a == b, (text, [(x, y) for x, y in zip(a, b) if x != y])


# ------------------------------------------------------------------ the real English pipeline
@pytest.mark.model
def test_default_pipeline_is_accelerated(nlp):
    rules, names = accelerator(nlp, [])
    assert isinstance(rules, FastRules)
    assert names == ["attribute_ruler", "lemmatizer"]


@pytest.mark.model
def test_same_annotations_on_sample_and_odd_input(nlp):
    texts = [row["caption"] for row in sample_captions()] + ODD
    assert_same(nlp, texts)
    assert_same(nlp, texts)  # second pass: everything from the memos


@pytest.mark.model
def test_same_annotations_on_coco(nlp, coco_dir):
    with gzip.open(coco_dir / "captions_val2017.json.gz", "rt", encoding="utf-8") as f:
        texts = list(dict.fromkeys(a["caption"] for a in json.load(f)["annotations"]))[:3000]
    assert_same(nlp, texts)


@pytest.mark.model
def test_parse_same_concepts_with_and_without(nlp, coco_captions):
    fast = iccc.parse(coco_captions, nlp=nlp, cache_size=0)
    slow = iccc.parse(coco_captions, nlp=nlp, cache_size=0, fast_rules=False)
    assert fast == slow


@pytest.mark.model
def test_parse_with_workers_uses_it_too(nlp):
    texts = [f"{n} dogs on a red couch number {i}." for i, n in enumerate(["two", "three", "four"] * 60)]
    assert iccc.parse(texts, nlp=nlp, n_process=2, batch_size=8) == iccc.parse(texts, nlp=nlp, fast_rules=False)


def test_fast_rules_must_be_bool():
    with pytest.raises(TypeError, match="fast_rules"):
        iccc.parse(["A dog."], fast_rules="yes")


# ------------------------------------------------------------------ hand-built rulers
def _tagged_pipeline(patterns):
    """A blank English pipeline whose first component sets tags and dependency labels from a table,
    followed by an attribute_ruler with ``patterns``."""
    from spacy.language import Language

    name = "iccc_test_table_tagger"
    if not Language.has_factory(name):
        @Language.component(name)
        def _tagger(doc):
            table = {"the": ("DT", "det"), "a": ("DT", "det"), "dog": ("NN", "nsubj"), "dogs": ("NNS", "nsubj"),
                     "runs": ("VBZ", "ROOT"), "is": ("VBZ", "ROOT"), "there": ("EX", "expl"),
                     "n't": ("RB", "neg"), "not": ("RB", "neg"), ".": (".", "punct")}
            for token in doc:
                tag, dep = table.get(token.lower_, ("NN", "dep"))
                token.tag_, token.dep_ = tag, dep
            return doc
    nlp = spacy.blank("en")
    nlp.add_pipe(name)
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add_patterns(patterns)
    return nlp


PATTERNS = [
    {"patterns": [[{"TAG": "NN"}]], "attrs": {"POS": "NOUN", "MORPH": "Number=Sing"}},
    {"patterns": [[{"TAG": "NNS"}]], "attrs": {"POS": "NOUN", "MORPH": "Number=Plur"}},
    {"patterns": [[{"TAG": "VBZ"}]], "attrs": {"POS": "VERB", "MORPH": "Tense=Pres"}},
    {"patterns": [[{"TAG": "DT"}]], "attrs": {"POS": "DET"}},
    {"patterns": [[{"TAG": "RB"}]], "attrs": {"POS": "ADV"}},
    # later patterns win over earlier ones on the same token
    {"patterns": [[{"LOWER": "dog", "TAG": "NN"}]], "attrs": {"LEMMA": "hound", "POS": "PROPN"}},
    # a two-token pattern setting its second token, and one setting its last by a negative index
    {"patterns": [[{"DEP": "expl"}, {"LOWER": {"IN": ["is", "are"]}}]], "attrs": {"POS": "AUX"}, "index": 1},
    {"patterns": [[{"LOWER": "the"}, {"TAG": {"NOT_IN": ["NNS", "VBZ"]}}]], "attrs": {"MORPH": "Def=Yes"}, "index": -1},
    {"patterns": [[{"LOWER": {"REGEX": "^n'?t$"}}]], "attrs": {"LEMMA": "not", "TAG": "RB_NEG", "DEP": "neg2"}},
    {"patterns": [[{"IS_PUNCT": True}]], "attrs": {"POS": "PUNCT"}},
    # an earlier (lower-precedence) multi-token match under a later single-token one
    {"patterns": [[{"TAG": "VBZ"}]], "attrs": {"MORPH": "Tense=Pres|VerbForm=Fin"}},
]
TEXTS = ["The dog runs.", "There is a dog.", "the dogs is n't there", "the the dog dog .", "Dog", "",
         "not the runs", "A dog is not the dog."]


def _compare(nlp, texts):
    ruler = nlp.get_pipe("attribute_ruler")
    fast = FastRules(ruler, None)
    for text in texts:
        ref = nlp(text)
        doc = nlp.get_pipe("iccc_test_table_tagger")(nlp.make_doc(text))
        fast(doc)
        assert annotations([doc]) == annotations([ref]), text


def test_hand_built_ruler_patterns_match_spacy():
    nlp = _tagged_pipeline(PATTERNS)
    _compare(nlp, TEXTS)
    _compare(nlp, TEXTS)
    # the patterns exercised something: PROPN from the later rule, AUX from the two-token one
    doc = next(run_pipeline(nlp, ["There is a dog."], 8, []))
    assert [t.pos_ for t in doc] == ["", "AUX", "DET", "PROPN", "PUNCT"]
    assert doc[3].lemma_ == "hound"
    assert next(run_pipeline(nlp, ["the dogs is n't there"], 8, []))[3].tag_ == "RB_NEG"


def test_patterns_added_later_are_seen():
    nlp = _tagged_pipeline(PATTERNS)
    assert_same(nlp, TEXTS)
    nlp.get_pipe("attribute_ruler").add([[{"LOWER": "runs"}]], {"LEMMA": "sprint"})
    assert_same(nlp, TEXTS)
    assert next(run_pipeline(nlp, ["The dog runs."], 8, []))[2].lemma_ == "sprint"


def test_unsupported_patterns_run_spacy_itself():
    nlp = _tagged_pipeline(PATTERNS + [{"patterns": [[{"TAG": "DT"}, {"TAG": "NN", "OP": "+"}]],
                                        "attrs": {"POS": "X"}, "index": 0}])
    assert accelerator(nlp, []) == (None, [])
    assert_same(nlp, TEXTS)
    assert [t.pos_ for t in next(run_pipeline(nlp, ["The dog runs."], 8, []))][0] == "X"


def test_only_trailing_rule_components_are_taken_over(nlp):
    blank = _tagged_pipeline(PATTERNS)
    assert trailing_rules(blank, []) == ["attribute_ruler"]
    assert trailing_rules(blank, ["attribute_ruler"]) == []
    blank.add_pipe("sentencizer")  # a component after the ruler: it must run after the ruler, so no takeover
    assert trailing_rules(blank, []) == []
    assert trailing_rules(blank, ["sentencizer"]) == ["attribute_ruler"]
    assert_same(blank, TEXTS)


def _counting_signatures(fast: FastRules) -> list:
    """Record every signature ``fast`` computes (a memo miss) instead of finding in its memo."""
    computed = []
    compute = fast._single

    def counting(sig, doc, i):
        computed.append(sig)
        return compute(sig, doc, i)

    fast._single = counting
    return computed


def _run(nlp, fast: FastRules, texts) -> None:
    tagger = nlp.get_pipe("iccc_test_table_tagger")
    for text in texts:
        fast(tagger(nlp.make_doc(text)))


def test_memo_limit_clears_the_memo_and_stays_correct(monkeypatch):
    nlp = _tagged_pipeline(PATTERNS)
    ruler = nlp.get_pipe("attribute_ruler")
    unbounded = FastRules(ruler, None)
    computed = _counting_signatures(unbounded)
    _run(nlp, unbounded, TEXTS * 2)
    distinct = len(set(computed))
    assert len(computed) == distinct == len(unbounded._single_memo) > 2  # the second pass: all from the memo

    monkeypatch.setattr(_fastrules, "MEMO_LIMIT", 2)
    bounded = FastRules(ruler, None)
    computed = _counting_signatures(bounded)
    _run(nlp, bounded, TEXTS * 2)
    assert len(bounded._single_memo) <= 2  # cleared whenever it was full
    assert len(computed) > distinct  # so signatures seen before were computed again
    _compare(nlp, TEXTS * 2)  # with the same annotations as spaCy's


@pytest.mark.model
def test_lemma_memo_limit_clears_the_memo_and_stays_correct(nlp, monkeypatch):
    monkeypatch.setattr(_fastrules, "MEMO_LIMIT", 3)
    lemmatizer = nlp.get_pipe("lemmatizer")
    fast = FastRules(nlp.get_pipe("attribute_ruler"), lemmatizer)
    calls = []
    lemmatize = lemmatizer.lemmatize
    monkeypatch.setattr(lemmatizer, "lemmatize", lambda token: calls.append(token.text) or lemmatize(token))
    texts = ["Two dogs run on the beach.", "A cat sleeps on a red couch."]
    bare = list(nlp.pipe(texts * 2, disable=["attribute_ruler", "lemmatizer"]))
    done = [fast(doc) for doc in bare]
    assert len(fast._lemma_memo) <= 3
    assert len(calls) > len({(t.text, t.pos_, str(t.morph)) for doc in done for t in doc})  # recomputed
    assert annotations(done) == annotations(nlp.pipe(texts * 2))


@pytest.mark.model
def test_clear_caches_empties_every_memo_and_the_next_parse_fills_them_the_same(nlp):
    import iccc.parsing
    from iccc.parsing.rules import _tokens

    texts = ["A dog runs on the beach.", "Two cats on a red couch."]
    before = iccc.parse(texts, nlp=nlp, cache_size=0)
    fast, _ = accelerator(nlp, [])
    assert fast._single_memo and fast._lemma_memo and _fastrules._CACHE and _tokens._STRINGS

    fast.clear()
    assert fast._single_memo == {} and fast._lemma_memo == {}
    iccc.parse(texts, nlp=nlp, cache_size=0)
    assert fast._single_memo and fast._lemma_memo  # filled again

    iccc.parsing.clear_caches()
    assert fast._single_memo == {} and fast._lemma_memo == {}
    assert len(_fastrules._CACHE) == 0 and len(_tokens._STRINGS) == len(_tokens._LEMMAS) == 0
    assert iccc.parse(texts, nlp=nlp, cache_size=0) == before  # recomputed, the same
    again, _ = accelerator(nlp, [])
    assert again is not fast and again._single_memo
    assert_same(nlp, texts)


def test_doc_without_tokens():
    nlp = _tagged_pipeline(PATTERNS)
    fast = FastRules(nlp.get_pipe("attribute_ruler"), None)
    doc = Doc(nlp.vocab, words=[])
    assert len(fast(doc)) == 0
