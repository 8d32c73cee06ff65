"""Blind detectors: the n-gram LM, the pair classifier and their pairwise accuracies."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import iccc
from iccc.detectors import (
    NgramLM,
    PairClassifier,
    _group_folds,
    classifier_pairwise_accuracy,
    lm_pairwise_accuracy,
    tokenize,
)

SUBJECTS = ["dog", "cat", "man", "woman", "boy", "girl", "horse", "bird", "child", "cow"]
ADJECTIVES = ["black", "white", "small", "large", "brown", "young", "red", "old"]
VERBS = ["sitting on", "standing next to", "lying on", "walking along", "looking at", "jumping over"]
OBJECTS = ["bench", "couch", "road", "table", "beach", "fence", "car", "bed", "field", "wall"]
ENDINGS = ["", " in the park", " near a tree", " on a sunny day"]


def synthetic_captions(n: int, seed: int) -> list[str]:
    """Captions from one fixed template distribution (same seed -> same captions)."""
    rng = np.random.default_rng(seed)

    def pick(words):
        return words[int(rng.integers(len(words)))]

    return [
        f"A {pick(ADJECTIVES)} {pick(SUBJECTS)} {pick(VERBS)} a {pick(OBJECTS)}{pick(ENDINGS)}."
        for _ in range(n)
    ]


def scramble(text: str, rng: np.random.Generator) -> str:
    words = text.rstrip(".").split()
    return " ".join(words[i] for i in rng.permutation(len(words))) + "."


def broken(text: str) -> str:
    """The reference rules' surface artefact: lowercased, space before punctuation."""
    return " ".join(tokenize(text))


@pytest.fixture(scope="module")
def lm() -> NgramLM:
    return NgramLM().fit(synthetic_captions(2000, seed=1))


# ---------------------------------------------------------------- tokenize


def test_tokenize_makes_retokenised_text_equal_to_the_original():
    assert tokenize("A man's dog, running.") == tokenize("a man 's dog , running .")
    assert tokenize("A man's dog.") == ["a", "man", "'s", "dog", "."]


def test_tokenize_keeps_case_and_spacing_when_asked():
    assert tokenize("A Dog.", lowercase=False) == ["A", "Dog", "."]
    assert tokenize("a dog.", mark_spacing=True) != tokenize("a dog .", mark_spacing=True)
    assert tokenize("a man 's dog .", mark_spacing=True) == ["a", "man", " 's", "dog", " ."]


# ---------------------------------------------------------------- NgramLM


def test_lm_prefers_trained_word_order_over_scrambled(lm):
    real = "A black dog sitting on a bench."
    assert lm.logprob(real) > lm.logprob(scramble(real, np.random.default_rng(0)))
    rng = np.random.default_rng(5)
    pairs = [(c, scramble(c, rng)) for c in synthetic_captions(100, seed=2)]
    assert lm_pairwise_accuracy(lm, pairs) > 0.95


def test_lm_logprob_is_finite_for_unseen_words_and_lower_than_for_seen_ones(lm):
    seen = lm.logprob("A black dog sitting on a bench.")
    unseen = lm.logprob("A black zebra sitting on a bench.")
    assert math.isfinite(unseen) and unseen < seen < 0
    assert math.isfinite(lm.logprob("Qwertyuiop asdfghjkl!!"))
    assert math.isfinite(lm.logprob(""))


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize(
    "context", [(), ("<s>", "<s>", "<s>"), ("a", "black"), ("on", "a", "zebra"), ("x", "y")]
)
def test_lm_next_token_distribution_sums_to_one(order, context):
    lm = NgramLM(order=order).fit(synthetic_captions(300, seed=3))
    total = sum(lm.prob(w, context) for w in lm.vocab)
    assert total == pytest.approx(1.0, abs=1e-9)


def test_lm_per_token_is_total_divided_by_predicted_tokens(lm):
    text = "A small cat lying on a couch."
    n_predicted = len(tokenize(text)) + 1  # + end of caption
    assert lm.logprob(text, per_token=True) == pytest.approx(lm.logprob(text) / n_predicted)
    assert len(lm.token_logprobs(text)) == n_predicted


def test_lm_lowercase_false_sees_broken_capitalisation():
    texts = synthetic_captions(500, seed=4)
    cased = NgramLM(lowercase=False, mark_spacing=True).fit(texts)
    plain = NgramLM().fit(texts)
    pairs = [(c, broken(c)) for c in synthetic_captions(100, seed=5)]
    assert lm_pairwise_accuracy(cased, pairs) == 1.0
    assert lm_pairwise_accuracy(plain, pairs) == 0.5  # same tokens: every pair is a tie


def test_lm_fit_is_deterministic_and_refits():
    texts = synthetic_captions(200, seed=6)
    a, b = NgramLM().fit(texts), NgramLM().fit(list(reversed(texts)))
    probe = "A young horse looking at a fence near a tree."
    assert a.logprob(probe) == pytest.approx(b.logprob(probe), rel=1e-12)
    a.fit(["a b c."])
    assert a.vocab == tuple(sorted({"a", "b", "c", ".", "</s>", "<unk>"}))


# ---------------------------------------------------------------- pairwise accuracies


def test_lm_pairwise_accuracy_counts_ties_as_half(lm):
    assert lm_pairwise_accuracy(lm, [("A dog.", "A dog.")]) == 0.5
    assert lm_pairwise_accuracy(lm, [("A dog on a bed.", "A dog on a bed .", "swap")]) == 0.5


def test_lm_and_classifier_are_near_chance_when_negatives_are_real_captions(lm):
    reals = synthetic_captions(400, seed=10)
    others = synthetic_captions(400, seed=11)
    pairs = list(zip(reals, others))
    assert 0.4 < lm_pairwise_accuracy(lm, pairs) < 0.6
    assert 0.4 < lm_pairwise_accuracy(lm, pairs, per_token=True) < 0.6
    assert 0.38 < classifier_pairwise_accuracy(pairs, seed=0) < 0.62


def test_classifier_finds_lowercased_retokenised_negatives():
    reals = [r["caption"] for r in iccc.sample_captions() if r["caption"][:1].isupper()]
    assert len(reals) >= 60
    pairs = [(c, broken(c)) for c in reals]
    assert classifier_pairwise_accuracy(pairs, seed=0) == 1.0
    assert classifier_pairwise_accuracy(pairs, seed=1, n_folds=4) == 1.0


def test_classifier_learns_a_content_cue():
    reals = synthetic_captions(300, seed=20)
    negs = [c.replace(" a ", " the ", 1) for c in reals]  # the negatives always say "the" first
    pairs = [(r, n) for r, n in zip(reals, negs) if r != n]
    assert classifier_pairwise_accuracy(pairs, seed=0) > 0.95


def test_pair_classifier_scores_real_style_higher():
    train = [(c, broken(c)) for c in synthetic_captions(100, seed=30)]
    clf = PairClassifier().fit(train)
    scores = clf.score(["A dog on a bench.", "a dog on a bench ."])
    assert scores[0] > scores[1]
    assert clf.pairwise_accuracy([(c, broken(c)) for c in synthetic_captions(50, seed=31)]) == 1.0


def test_classifier_accuracy_is_deterministic_given_seed_or_rng():
    reals = synthetic_captions(200, seed=40)
    pairs = list(zip(reals, synthetic_captions(200, seed=41)))
    a = classifier_pairwise_accuracy(pairs, seed=3)
    assert a == classifier_pairwise_accuracy(pairs, seed=3)
    assert a == classifier_pairwise_accuracy(pairs, rng=np.random.default_rng(3))
    assert classifier_pairwise_accuracy(pairs) == classifier_pairwise_accuracy(pairs, seed=0)


def test_classifier_features_do_not_depend_on_python_hash_seed():
    code = (
        "from iccc.detectors import PairClassifier;"
        "c = PairClassifier().fit([('A dog.', 'a dog .'), ('A cat on a mat.', 'a cat on a mat .')]);"
        "print(repr(float(c.score(['A bird.'])[0])))"
    )
    outs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outs.append(proc.stdout.strip())
    assert outs[0] == outs[1]


def test_folds_keep_pairs_sharing_a_caption_together():
    pairs = [(f"real {i % 7}", f"neg {i}") for i in range(70)] + [("neg 3", "other")]  # "neg 3" also a real
    folds = _group_folds(pairs, 2, np.random.default_rng(0))
    assert sorted(np.concatenate(folds).tolist()) == list(range(71))
    fold_of = {int(i): f for f, idx in enumerate(folds) for i in idx}
    for i, (real, _) in enumerate(pairs):
        for j, (other, _) in enumerate(pairs):
            if real == other:
                assert fold_of[i] == fold_of[j]
    assert fold_of[70] == fold_of[3]  # linked through "neg 3"
    other_split = _group_folds(pairs, 2, np.random.default_rng(1))
    assert {len(f) for f in folds} <= {30, 31, 40, 41}
    assert folds[0].tolist() != other_split[0].tolist() or folds[1].tolist() != other_split[1].tolist()


# ---------------------------------------------------------------- input validation


@pytest.mark.parametrize("order", [0, -1, 2.5, True, "3"])
def test_lm_rejects_bad_order(order):
    with pytest.raises(ValueError, match=r"`order` must be an integer >= 1, got"):
        NgramLM(order=order)


def test_lm_rejects_bad_training_texts():
    with pytest.raises(TypeError, match="single string"):
        NgramLM().fit("a dog.")
    with pytest.raises(ValueError, match="`texts` is empty"):
        NgramLM().fit([])
    with pytest.raises(TypeError, match=r"item 1 is int: 3"):
        NgramLM().fit(["a dog.", 3])


def test_lm_must_be_fitted():
    with pytest.raises(RuntimeError, match="not fitted"):
        NgramLM().logprob("a dog.")
    with pytest.raises(TypeError, match="`text` must be a string, got NoneType"):
        NgramLM().fit(["a"]).logprob(None)


def test_pairwise_accuracy_rejects_bad_pairs(lm):
    with pytest.raises(ValueError, match="`pairs` is empty"):
        lm_pairwise_accuracy(lm, [])
    with pytest.raises(TypeError, match=r"item 0 is str: 'a dog\.'"):
        lm_pairwise_accuracy(lm, ["a dog."])
    with pytest.raises(TypeError, match=r"item 1 must hold two strings, got \(str, NoneType\)"):
        lm_pairwise_accuracy(lm, [("a", "b"), ("a", None)])
    with pytest.raises(TypeError, match="`lm` must be a fitted NgramLM, got str"):
        lm_pairwise_accuracy("lm", [("a", "b")])


def test_classifier_accuracy_rejects_bad_arguments():
    pairs = [(f"A dog {i}.", f"a dog {i} .") for i in range(10)]
    with pytest.raises(ValueError, match="either `seed` or `rng`"):
        classifier_pairwise_accuracy(pairs, seed=1, rng=np.random.default_rng(1))
    with pytest.raises(TypeError, match="`rng` must be a numpy.random.Generator, got int"):
        classifier_pairwise_accuracy(pairs, rng=1)
    with pytest.raises(ValueError, match="`n_folds` must be an integer >= 2, got 1"):
        classifier_pairwise_accuracy(pairs, n_folds=1)
    with pytest.raises(ValueError, match="form 1 group"):
        classifier_pairwise_accuracy([("A dog.", "a dog ."), ("A dog.", "A cat.")])
    with pytest.raises(TypeError, match="unexpected keyword"):
        classifier_pairwise_accuracy(pairs, l1=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_features": 0}, "`n_features` must be an integer >= 16, got 0"),
        ({"char_ngram_range": (3, 2)}, r"`char_ngram_range` must be \(min_n, max_n\).*got \(3, 2\)"),
        ({"l2": -1.0}, "`l2` must be a finite number >= 0, got -1.0"),
        ({"n_iter": 0}, "`n_iter` must be an integer >= 1, got 0"),
    ],
)
def test_pair_classifier_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PairClassifier(**kwargs)


def test_pair_classifier_must_be_fitted():
    with pytest.raises(RuntimeError, match="not fitted"):
        PairClassifier().score(["a dog."])
