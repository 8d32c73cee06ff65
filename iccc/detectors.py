"""Blind detectors: can a caption's corruption be told from the text alone?

ICCC negatives must be *truly wrong for the image* but *not detectable without it*. If a text-only
model can pick the real caption out of a (real, negative) pair, a vision-language model trained on
the pairs learns that shortcut instead of looking at the image. This module owns two such blind
detectors and their pairwise accuracies (share of pairs where the real caption wins; 0.5 means the
negatives are undetectable, 1.0 means they are trivially detectable):

- :class:`NgramLM`, a word n-gram language model with interpolated modified Kneser-Ney smoothing,
  and :func:`lm_pairwise_accuracy`, the "blind" check of SugarCrepe (which caption is more
  likely?). It measures *content* plausibility: implausible words and word orders.
- :class:`PairClassifier`, a linear model over hashed word, word-bigram and character n-gram
  features trained on some pairs and tested on others, and :func:`classifier_pairwise_accuracy`.
  It also sees *surface* artefacts that an LM with normalised tokens cannot: a lowercased first
  letter, a space before the period, a missing final period, a systematic length change.

Only numpy and the standard library are used; fitting and scoring are deterministic (the
classifier's train/test split takes an explicit seed or ``numpy.random.Generator``).

Tokenisation (:func:`tokenize`): words are runs of letters/digits/underscore (``\\w+``); a clitic
such as ``'s`` or ``n't``'s ``'t`` is its own token; every other non-space character is a token
of its own. So ``"man's dog."`` and the re-tokenised ``"man 's dog ."`` give the same tokens
(spacing is ignored unless ``mark_spacing=True``), and by default words are lowercased. This keeps
a small corpus's counts dense and makes the LM judge content, not typography; pass
``lowercase=False, mark_spacing=True`` to let the LM see capitalisation and detached punctuation
too (the classifier always sees them through its character n-grams).
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter, defaultdict
from typing import Iterable, Optional, Sequence

import numpy as np

__all__ = [
    "NgramLM",
    "PairClassifier",
    "classifier_pairwise_accuracy",
    "lm_pairwise_accuracy",
    "tokenize",
]

BOS = "<s>"
EOS = "</s>"
UNK = "<unk>"

# A clitic ('s, 't, 're ...) before a plain word so "man's" and "man 's" tokenise alike.
_TOKEN_RE = re.compile(r"['\u2019]\w+|\w+|[^\w\s]")
_WORD_RE = re.compile(r"\w")

# Discounts for orders whose counts-of-counts cannot give Chen & Goodman's estimates (tiny corpora).
_FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


def tokenize(text: str, *, lowercase: bool = True, mark_spacing: bool = False) -> list[str]:
    """Split a caption into word, clitic and punctuation tokens.

    Args:
        text: the caption.
        lowercase: lowercase every token (hides capitalisation).
        mark_spacing: prefix a punctuation or clitic token with a space when whitespace
            precedes it, so ``"dog."`` and ``"dog ."`` differ.

    Returns:
        The tokens, in order.

    Raises:
        TypeError: ``text`` is not a string.

    >>> tokenize("A man's Dog, running.")
    ['a', 'man', "'s", 'dog', ',', 'running', '.']
    >>> tokenize("a dog .", mark_spacing=True, lowercase=False)
    ['a', 'dog', ' .']
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a string, got {type(text).__name__}: {text!r}.")
    if not mark_spacing:
        tokens = _TOKEN_RE.findall(text)
    else:
        tokens = []
        for match in _TOKEN_RE.finditer(text):
            tok = match.group()
            start = match.start()
            if start > 0 and text[start - 1].isspace() and not _WORD_RE.match(tok[0]):
                tok = " " + tok
            tokens.append(tok)
    if lowercase:
        tokens = [t.lower() for t in tokens]
    return tokens


class NgramLM:
    """Word n-gram language model with interpolated modified Kneser-Ney smoothing.

    Each caption is padded with ``order - 1`` begin tokens and one end token. The highest order and
    n-grams that start with the begin token use raw counts; other lower orders use continuation
    counts (how many distinct words precede the n-gram). Three discounts per order (for counts 1,
    2 and 3+) are estimated from counts-of-counts (Chen & Goodman, 1998). The unigram level is
    interpolated with a uniform distribution over the vocabulary plus ``<unk>``, so every word,
    seen or not, gets a finite log-probability.

    Args:
        order: n-gram order (3 = trigrams), at least 1.
        lowercase: lowercase tokens (see :func:`tokenize`).
        mark_spacing: keep whether punctuation is detached (see :func:`tokenize`).

    >>> lm = NgramLM(order=2).fit(["a dog on a bed.", "a cat on a bed.", "a dog on a sofa."])
    >>> lm.logprob("a dog on a bed.") > lm.logprob("a bed on a dog.")
    True
    >>> round(sum(lm.prob(w, ("a",)) for w in lm.vocab), 6)
    1.0
    """

    def __init__(self, order: int = 3, *, lowercase: bool = True, mark_spacing: bool = False):
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
            raise ValueError(f"`order` must be an integer >= 1, got {order!r}.")
        self.order = int(order)
        self.lowercase = bool(lowercase)
        self.mark_spacing = bool(mark_spacing)
        self._counts: list[dict] = []  # per order k (index k-1): n-gram tuple -> adjusted count
        self._contexts: list[dict] = []  # per order: context tuple -> (total, N1, N2, N3+)
        self._discounts: list[tuple[float, float, float]] = []
        self._vocab: Optional[frozenset] = None

    def __repr__(self) -> str:
        fitted = "unfitted" if self._vocab is None else f"vocab={len(self._vocab)}"
        return f"NgramLM(order={self.order}, lowercase={self.lowercase}, mark_spacing={self.mark_spacing}, {fitted})"

    @property
    def vocab(self) -> tuple[str, ...]:
        """Every token the model can predict: training tokens, ``</s>`` and ``<unk>``, sorted."""
        self._check_fitted()
        return tuple(sorted(self._vocab))

    @property
    def discounts(self) -> tuple[tuple[float, float, float], ...]:
        """The (D1, D2, D3+) discounts of each order, unigrams first."""
        self._check_fitted()
        return tuple(self._discounts)

    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text`` as this model sees them (before mapping unseen ones to ``<unk>``)."""
        return tokenize(text, lowercase=self.lowercase, mark_spacing=self.mark_spacing)

    def fit(self, texts: Iterable[str]) -> NgramLM:
        """Count n-grams of ``texts`` and estimate the discounts; replaces any earlier fit.

        Args:
            texts: training captions (strings; at least one).

        Returns:
            ``self``.

        Raises:
            TypeError: ``texts`` is a single string, or holds a non-string.
            ValueError: ``texts`` is empty.
        """
        if isinstance(texts, (str, bytes)):
            raise TypeError("`texts` must be an iterable of strings, got a single string; wrap it in a list.")
        n = self.order
        raw: Counter = Counter()  # highest-order n-grams
        bos_raw: list[Counter] = [Counter() for _ in range(n)]  # lower-order n-grams starting with <s>
        n_texts = 0
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"`texts` must hold strings; item {i} is {type(text).__name__}: {text!r}.")
            n_texts += 1
            seq = [BOS] * (n - 1) + self.tokenize(text) + [EOS]
            for end in range(n - 1, len(seq)):
                raw[tuple(seq[end - n + 1 : end + 1])] += 1
                for k in range(2, n):  # lower orders whose n-gram starts at a begin token
                    gram = tuple(seq[end - k + 1 : end + 1])
                    if gram[0] == BOS:
                        bos_raw[k - 1][gram] += 1
        if n_texts == 0:
            raise ValueError("`texts` is empty; NgramLM needs at least one training caption.")

        counts: list[dict] = [dict() for _ in range(n)]
        counts[n - 1] = dict(raw)
        for k in range(n - 1, 0, -1):  # continuation counts of order k from the n-grams of order k+1
            cont: Counter = Counter()
            for gram in counts[k]:
                suffix = gram[1:]
                if suffix[0] != BOS:
                    cont[suffix] += 1
            cont.update(bos_raw[k - 1])
            counts[k - 1] = dict(cont)

        self._counts = counts
        self._contexts = []
        self._discounts = []
        for k in range(n):
            stats: dict = defaultdict(lambda: [0, 0, 0, 0])
            coc = Counter()
            for gram, c in counts[k].items():
                s = stats[gram[:-1]]
                s[0] += c
                s[min(c, 3)] += 1
                if c <= 4:
                    coc[c] += 1
            self._contexts.append({h: tuple(s) for h, s in stats.items()})
            self._discounts.append(_kn_discounts(coc))
        self._vocab = frozenset(g[0] for g in counts[0]) | {EOS, UNK}
        return self

    def prob(self, token: str, context: Sequence[str] = ()) -> float:
        """Probability of ``token`` after ``context`` (already tokenised; only the last
        ``order - 1`` tokens are used; pad with ``"<s>"`` for a sentence start).

        Args:
            token: the next token; one outside :attr:`vocab` is scored as ``<unk>``.
            context: preceding tokens.

        Returns:
            A probability in (0, 1].
        """
        self._check_fitted()
        vocab = self._vocab
        context = tuple(t if t in vocab or t == BOS else UNK for t in context)
        if token not in vocab:
            token = UNK
        return self._prob(token, context[len(context) - (self.order - 1) :] if self.order > 1 else ())

    def _prob(self, token: str, context: tuple) -> float:
        p = 1.0 / len(self._vocab)
        for k in range(1, self.order + 1):
            h = context[len(context) - (k - 1) :] if k > 1 else ()
            if len(h) < k - 1:
                break
            stats = self._contexts[k - 1].get(h)
            if stats is None:  # context never seen at this order: keep the lower-order estimate
                continue
            total, n1, n2, n3 = stats
            d1, d2, d3 = self._discounts[k - 1]
            c = self._counts[k - 1].get(h + (token,), 0)
            discounted = 0.0 if c == 0 else c - (d1, d2, d3)[min(c, 3) - 1]
            gamma = (d1 * n1 + d2 * n2 + d3 * n3) / total
            p = discounted / total + gamma * p
        return p

    def token_logprobs(self, text: str) -> list[tuple[str, float]]:
        """Natural-log probability of each token of ``text`` and of the end token.

        Returns:
            ``(token, log p)`` pairs; unseen tokens are shown as ``"<unk>"``.
        """
        self._check_fitted()
        vocab = self._vocab
        toks = [t if t in vocab else UNK for t in self.tokenize(text)] + [EOS]
        ctx = [BOS] * (self.order - 1)
        out = []
        m = self.order - 1
        for tok in toks:
            h = tuple(ctx[len(ctx) - m :]) if m else ()
            out.append((tok, math.log(self._prob(tok, h))))
            ctx.append(tok)
        return out

    def logprob(self, text: str, *, per_token: bool = False) -> float:
        """Natural-log probability of ``text`` as a whole caption (end token included).

        Args:
            text: the caption.
            per_token: divide by the number of predicted tokens (words + end token), which
                removes most of the log-probability's dependence on length.

        Returns:
            A finite negative number (or 0.0 in degenerate cases).

        Raises:
            TypeError: ``text`` is not a string.
            RuntimeError: the model is not fitted.

        >>> lm = NgramLM().fit(["a dog runs.", "a cat runs."])
        >>> lm.logprob("a dog runs.") > lm.logprob("a zebra runs.")
        True
        """
        scores = self.token_logprobs(text)
        total = sum(lp for _, lp in scores)
        return total / len(scores) if per_token else total

    def _check_fitted(self) -> None:
        if self._vocab is None:
            raise RuntimeError("This NgramLM is not fitted yet; call `fit(texts)` first.")


def _kn_discounts(coc: Counter) -> tuple[float, float, float]:
    """Chen & Goodman's discounts D1, D2, D3+ from counts-of-counts n1..n4."""
    n1, n2, n3, n4 = (coc.get(i, 0) for i in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) > 0:
        y = n1 / (n1 + 2 * n2)
        d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
        if all(0 < di <= i + 1 for i, di in enumerate(d)):
            return d
    return _FALLBACK_DISCOUNTS


def _check_pairs(pairs, name: str = "pairs") -> list[tuple[str, str]]:
    """``(real, negative)`` string tuples from pairs of 2 or more items (extra items, e.g. a type, ignored)."""
    if isinstance(pairs, (str, bytes)):
        raise TypeError(f"`{name}` must be a sequence of (real, negative) pairs, got a string: {pairs!r}.")
    out = []
    for i, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) < 2:
            raise TypeError(
                f"`{name}` must hold (real, negative) pairs (tuples or lists of 2+ items); "
                f"item {i} is {type(pair).__name__}: {pair!r}."
            )
        real, neg = pair[0], pair[1]
        if not isinstance(real, str) or not isinstance(neg, str):
            raise TypeError(
                f"`{name}` item {i} must hold two strings, got "
                f"({type(real).__name__}, {type(neg).__name__}): {pair!r}."
            )
        out.append((real, neg))
    if not out:
        raise ValueError(f"`{name}` is empty; give at least one (real, negative) pair.")
    return out


def _wins(real_scores: np.ndarray, neg_scores: np.ndarray) -> np.ndarray:
    """1 where the real caption scores higher, 0.5 on ties, 0 otherwise."""
    return np.where(real_scores > neg_scores, 1.0, np.where(real_scores == neg_scores, 0.5, 0.0))


def lm_pairwise_accuracy(lm: NgramLM, pairs: Iterable[Sequence[str]], *, per_token: bool = False) -> float:
    """Share of (real, negative) pairs where ``lm`` gives the real caption the higher likelihood.

    Total log-probability (the default) is what SugarCrepe-style blind tests compare; it favours
    the shorter caption, so a negative that adds words is easy to spot and one that drops words
    looks "better" than the real one. ``per_token=True`` compares log-probability per token instead.

    Args:
        lm: a fitted :class:`NgramLM`, trained on captions that are not the evaluated ones.
        pairs: ``(real, negative)`` or ``(real, negative, type)`` tuples.
        per_token: compare length-normalised log-probabilities.

    Returns:
        Accuracy in [0, 1]; ties count 0.5. About 0.5 means the LM cannot tell the negatives apart.

    Raises:
        TypeError: ``lm`` is not an ``NgramLM`` or ``pairs`` holds something other than string pairs.
        ValueError: ``pairs`` is empty.

    >>> lm = NgramLM().fit(["a dog on a bed.", "a cat on a sofa.", "a dog on a sofa."])
    >>> lm_pairwise_accuracy(lm, [("a cat on a bed.", "a bed on a cat."), ("a dog.", "a dog.")])
    0.75
    """
    if not isinstance(lm, NgramLM):
        raise TypeError(f"`lm` must be a fitted NgramLM, got {type(lm).__name__}: {lm!r}.")
    checked = _check_pairs(pairs)
    cache: dict[str, float] = {}

    def score(text: str) -> float:
        if text not in cache:
            cache[text] = lm.logprob(text, per_token=per_token)
        return cache[text]

    real = np.array([score(r) for r, _ in checked])
    neg = np.array([score(n) for _, n in checked])
    return float(_wins(real, neg).mean())


class PairClassifier:
    """Linear text scorer trained to rank the real caption of a pair above its negative.

    Each caption becomes a sparse binary vector of hashed features: lowercased word unigrams and
    bigrams (with sentence boundaries), character n-grams of the text exactly as given (case,
    spacing, punctuation and outer whitespace included, with begin/end marks), and bucketed word
    and character lengths. A weight vector ``w`` is fitted by L2-regularised logistic regression
    on the differences ``x(real) - x(negative)`` (no bias: the loss is symmetric in which caption
    comes first), by accelerated full-batch gradient descent from zero, so fitting is
    deterministic. ``score(text) = w . x(text)``.

    Args:
        n_features: size of the hashing space (features are hashed with CRC-32, stable across runs).
        char_ngram_range: ``(min_n, max_n)`` lengths of character n-grams.
        l2: L2 penalty on ``w`` (added to the mean logistic loss).
        n_iter: gradient steps.

    >>> train = [("A dog on a bed.", "a dog on a bed ."), ("A cat.", "a cat ."), ("A red car.", "a red car .")]
    >>> clf = PairClassifier().fit(train)
    >>> clf.pairwise_accuracy([("A bird in a tree.", "a bird in a tree .")])
    1.0
    """

    def __init__(
        self,
        *,
        n_features: int = 2**20,
        char_ngram_range: tuple[int, int] = (2, 4),
        l2: float = 1e-4,
        n_iter: int = 200,
    ):
        if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 16:
            raise ValueError(f"`n_features` must be an integer >= 16, got {n_features!r}.")
        if (
            not isinstance(char_ngram_range, (tuple, list))
            or len(char_ngram_range) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in char_ngram_range)
            or not 1 <= char_ngram_range[0] <= char_ngram_range[1]
        ):
            raise ValueError(
                f"`char_ngram_range` must be (min_n, max_n) with 1 <= min_n <= max_n, got {char_ngram_range!r}."
            )
        if not isinstance(l2, (int, float)) or isinstance(l2, bool) or not l2 >= 0 or not math.isfinite(l2):
            raise ValueError(f"`l2` must be a finite number >= 0, got {l2!r}.")
        if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
            raise ValueError(f"`n_iter` must be an integer >= 1, got {n_iter!r}.")
        self.n_features = int(n_features)
        self.char_ngram_range = (int(char_ngram_range[0]), int(char_ngram_range[1]))
        self.l2 = float(l2)
        self.n_iter = int(n_iter)
        self._feature_cache: dict[str, np.ndarray] = {}
        self._index: Optional[np.ndarray] = None  # sorted hashed ids that have a weight
        self._weights: Optional[np.ndarray] = None

    def __repr__(self) -> str:
        return (
            f"PairClassifier(n_features={self.n_features}, char_ngram_range={self.char_ngram_range}, "
            f"l2={self.l2}, n_iter={self.n_iter})"
        )

    def feature_names(self, text: str) -> list[str]:
        """The (unhashed) features of one caption, for inspection.

        >>> PairClassifier(char_ngram_range=(3, 3)).feature_names("A cat")[:6]
        ['w:a', 'w:cat', 'b:<s> a', 'b:a cat', 'b:cat </s>', 'c:\\x02A ']
        """
        if not isinstance(text, str):
            raise TypeError(f"`text` must be a string, got {type(text).__name__}: {text!r}.")
        words = tokenize(text)
        feats = [f"w:{w}" for w in words]
        seq = [BOS] + words + [EOS]
        feats += [f"b:{a} {b}" for a, b in zip(seq, seq[1:])]
        marked = f"\x02{text}\x03"
        lo, hi = self.char_ngram_range
        for n in range(lo, hi + 1):
            feats += [f"c:{marked[i : i + n]}" for i in range(len(marked) - n + 1)]
        feats.append(f"lw:{min(len(words), 40)}")
        feats.append(f"lc:{min(len(text) // 8, 40)}")
        return feats

    def _features(self, text: str) -> np.ndarray:
        cached = self._feature_cache.get(text)
        if cached is None:
            ids = [zlib.crc32(f.encode("utf-8")) % self.n_features for f in self.feature_names(text)]
            cached = np.unique(np.asarray(ids, dtype=np.int64))
            self._feature_cache[text] = cached
        return cached

    def _diff_matrix(self, pairs: list[tuple[str, str]]):
        """CSR-like (row ids, hashed ids, values) of x(real) - x(negative), shared features cancelled."""
        rows, cols, vals = [], [], []
        for i, (real, neg) in enumerate(pairs):
            a, b = self._features(real), self._features(neg)
            only_a = np.setdiff1d(a, b, assume_unique=True)
            only_b = np.setdiff1d(b, a, assume_unique=True)
            rows.append(np.full(len(only_a) + len(only_b), i, dtype=np.int64))
            cols.append(np.concatenate([only_a, only_b]))
            vals.append(np.concatenate([np.ones(len(only_a)), -np.ones(len(only_b))]))
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

    def fit(self, pairs: Iterable[Sequence[str]]) -> PairClassifier:
        """Fit the weights on ``(real, negative)`` pairs (replaces any earlier fit).

        Raises:
            TypeError: ``pairs`` holds something other than string pairs.
            ValueError: ``pairs`` is empty.
        """
        checked = _check_pairs(pairs)
        rows, cols, vals = self._diff_matrix(checked)
        index, local = np.unique(cols, return_inverse=True)
        n, d = len(checked), len(index)
        w = _fit_pairwise_logistic(rows, local.reshape(-1), vals, n, d, l2=self.l2, n_iter=self.n_iter)
        self._index, self._weights = index, w
        return self

    def score(self, texts: Iterable[str]) -> np.ndarray:
        """Scores ``w . x(text)``; higher means "looks more like a real caption".

        Raises:
            RuntimeError: the classifier is not fitted.
        """
        if self._weights is None:
            raise RuntimeError("This PairClassifier is not fitted yet; call `fit(pairs)` first.")
        if isinstance(texts, str):
            raise TypeError("`texts` must be an iterable of strings, got a single string; wrap it in a list.")
        out = []
        for text in texts:
            ids = self._features(text)
            pos = np.searchsorted(self._index, ids)
            pos = np.minimum(pos, len(self._index) - 1) if len(self._index) else pos
            known = (self._index[pos] == ids) if len(self._index) else np.zeros(len(ids), bool)
            out.append(float(self._weights[pos[known]].sum()))
        return np.asarray(out)

    def pairwise_accuracy(self, pairs: Iterable[Sequence[str]]) -> float:
        """Share of pairs whose real caption scores higher (ties 0.5)."""
        checked = _check_pairs(pairs)
        real = self.score([r for r, _ in checked])
        neg = self.score([n for _, n in checked])
        return float(_wins(real, neg).mean())


def _fit_pairwise_logistic(rows, cols, vals, n: int, d: int, *, l2: float, n_iter: int) -> np.ndarray:
    """Minimise mean(log(1 + exp(-X w))) + l2/2 |w|^2 for sparse X (rows, cols, vals), n x d.

    Nesterov-accelerated gradient descent with step 1/L, where L bounds the gradient's Lipschitz
    constant (0.25 * largest eigenvalue of X'X / n, by power iteration, plus l2).
    """
    w = np.zeros(d)
    if d == 0 or len(vals) == 0:
        return w

    def matvec(v):
        return np.bincount(rows, weights=vals * v[cols], minlength=n)

    def rmatvec(u):
        return np.bincount(cols, weights=vals * u[rows], minlength=d)

    v = np.ones(d) / math.sqrt(d)  # fixed start: deterministic
    eig = 0.0
    for _ in range(30):
        u = rmatvec(matvec(v)) / n
        eig = float(np.linalg.norm(u))
        if eig == 0.0:
            return w
        v = u / eig
    lipschitz = 0.25 * eig * 1.05 + l2
    step = 1.0 / lipschitz

    y = w.copy()
    t = 1.0
    for _ in range(n_iter):
        margin = matvec(y)
        # d/dm log(1 + exp(-m)) = -sigmoid(-m), written stably
        coef = -np.exp(-np.logaddexp(0.0, margin))
        grad = rmatvec(coef) / n + l2 * y
        w_next = y - step * grad
        t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
        y = w_next + ((t - 1.0) / t_next) * (w_next - w)
        w, t = w_next, t_next
    return w


def _group_folds(pairs: list[tuple[str, str]], n_folds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Split pair indices into ``n_folds`` folds; pairs sharing a caption (as real or negative)
    stay in one fold. Groups are shuffled by ``rng`` and dealt to the currently smallest fold."""
    parent = list(range(len(pairs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_seen: dict[str, int] = {}
    for i, pair in enumerate(pairs):
        for text in pair:
            j = first_seen.setdefault(text, i)
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(pairs)):
        groups[find(i)].append(i)
    members = list(groups.values())  # ordered by first pair index: deterministic
    if len(members) < n_folds:
        raise ValueError(
            f"`pairs` form {len(members)} group(s) of pairs sharing a caption, fewer than "
            f"`n_folds`={n_folds}; give more pairs or fewer folds."
        )
    folds: list[list[int]] = [[] for _ in range(n_folds)]
    for g in rng.permutation(len(members)):
        smallest = min(range(n_folds), key=lambda f: len(folds[f]))
        folds[smallest].extend(members[g])
    return [np.asarray(sorted(f), dtype=np.int64) for f in folds]


def classifier_pairwise_accuracy(
    pairs: Iterable[Sequence[str]],
    *,
    seed: Optional[int] = None,
    rng: Optional[np.random.Generator] = None,
    n_folds: int = 2,
    **classifier_kwargs,
) -> float:
    """Held-out pairwise accuracy of a :class:`PairClassifier` by grouped k-fold cross-validation.

    The pairs are split into ``n_folds`` folds by a random permutation of caption groups (pairs
    sharing a real or negative caption never straddle folds); for each fold a classifier trained on
    the other folds scores its pairs. With the default ``n_folds=2`` this is "train on one half,
    test on the other", both ways. Every pair is tested exactly once.

    Args:
        pairs: ``(real, negative)`` or ``(real, negative, type)`` tuples.
        seed: seed of the split (default 0). Give ``seed`` or ``rng``, not both.
        rng: a ``numpy.random.Generator`` for the split.
        n_folds: number of folds, at least 2.
        **classifier_kwargs: passed to :class:`PairClassifier`.

    Returns:
        Share of pairs whose real caption outscores its negative on held-out folds (ties 0.5).

    Raises:
        TypeError: bad ``pairs`` or ``rng``.
        ValueError: both ``seed`` and ``rng`` given; ``n_folds`` < 2 or more than the caption groups.

    >>> pairs = [(f"A photo of item {i}.", f"a photo of item {i} .") for i in range(20)]
    >>> classifier_pairwise_accuracy(pairs, seed=0)
    1.0
    """
    checked = _check_pairs(pairs)
    if seed is not None and rng is not None:
        raise ValueError("Give either `seed` or `rng`, not both.")
    if rng is None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"`seed` must be an int or None, got {type(seed).__name__}: {seed!r}.")
        rng = np.random.default_rng(0 if seed is None else seed)
    elif not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a numpy.random.Generator, got {type(rng).__name__}: {rng!r}.")
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise ValueError(f"`n_folds` must be an integer >= 2, got {n_folds!r}.")
    folds = _group_folds(checked, int(n_folds), rng)
    wins = np.zeros(len(checked))
    all_idx = np.arange(len(checked))
    clf = PairClassifier(**classifier_kwargs)  # one instance: its feature cache is shared by the folds
    for test_idx in folds:
        train_idx = np.setdiff1d(all_idx, test_idx, assume_unique=True)
        clf.fit([checked[i] for i in train_idx])
        test = [checked[i] for i in test_idx]
        wins[test_idx] = _wins(clf.score([r for r, _ in test]), clf.score([n for _, n in test]))
    return float(wins.mean())
