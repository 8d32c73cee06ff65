"""spaCy's rule-based components, ``attribute_ruler`` and ``lemmatizer``, applied from memo tables.

In ``en_core_web_sm`` these two components cost about a third of the pipeline (the ruler runs a
``Matcher`` with ~180 patterns over every token; the lemmatizer is Python code per token), although
what they assign to a token depends on very little: the ruler's patterns only read a few token
attributes (text, tag, dependency label), the lemmatizer's result only the text, part of speech and
morphology. :class:`FastRules` remembers the outcome per such *signature* and writes whole docs with
one ``Doc.from_array``. The annotations are identical to spaCy's own: same patterns in the same
precedence (later patterns win), multi-token patterns matched exactly, and the lemmatizer itself
called for every signature not seen yet. ``tests/test_fastrules.py`` compares them token by token.

Anything outside what is handled here (pattern operators such as ``OP``, predicates other than a
value, ``IN``, ``NOT_IN`` or ``REGEX``, attributes this module does not read, extension attributes, other
lemmatizer modes) makes :func:`accelerator` return ``None``, and the pipeline runs as is.
"""

from __future__ import annotations

import re
import weakref
from functools import cache
from types import SimpleNamespace
from typing import Any, Iterable, Iterator

import numpy as np

#: Lexical attributes a pattern may test: functions of the token's text for a given vocab.
_LEXICAL = {"ORTH": "text", "TEXT": "text", "LOWER": "lower_", "IS_SPACE": "is_space",
            "IS_PUNCT": "is_punct", "IS_ALPHA": "is_alpha", "IS_DIGIT": "is_digit",
            "LIKE_NUM": "like_num", "IS_LOWER": "is_lower", "IS_UPPER": "is_upper",
            "IS_TITLE": "is_title"}
#: Token-level attributes a pattern may test (they become part of a token's signature).
_TOKEN_GETTER = {"TAG": "tag_", "DEP": "dep_", "POS": "pos_", "LEMMA": "lemma_"}
#: Memo entries kept per table before it is cleared (a bound on memory for endless streams).
MEMO_LIMIT = 500_000
_LEMMATIZER_MODES = ("rule", "lookup", "pos_lookup")


class _Unsupported(Exception):
    pass


def _predicate(key: str, spec: Any):
    """A test ``value -> bool`` for one pattern entry (a value, ``IN``, ``NOT_IN`` or ``REGEX``, as
    spaCy's ``Matcher`` reads them: ``REGEX`` searches the attribute's string)."""
    if isinstance(spec, dict):
        if set(spec) - {"IN", "NOT_IN", "REGEX"} or not spec:
            raise _Unsupported(f"predicate {spec!r}")
        tests = []
        if "REGEX" in spec:
            if key not in _TOKEN_GETTER and key not in ("ORTH", "TEXT", "LOWER"):
                raise _Unsupported(f"REGEX on {key}")
            search = re.compile(spec["REGEX"]).search
            tests.append(lambda v: bool(search(v)))
        if "IN" in spec:
            allowed = frozenset(spec["IN"])
            tests.append(lambda v: v in allowed)
        if "NOT_IN" in spec:
            banned = frozenset(spec["NOT_IN"])
            tests.append(lambda v: v not in banned)
        return lambda v: all(t(v) for t in tests)
    if isinstance(spec, (str, bool)):
        return lambda v: v == spec
    raise _Unsupported(f"{key} value {spec!r}")


def _compile_token(spec: dict) -> list:
    """One pattern token as ``[(getter name, test)]``."""
    if not isinstance(spec, dict):
        raise _Unsupported(f"pattern token {spec!r}")
    out = []
    for key, value in spec.items():
        name = key.upper() if isinstance(key, str) else key
        getter = _LEXICAL.get(name) or _TOKEN_GETTER.get(name)
        if getter is None:
            raise _Unsupported(f"pattern key {key!r}")
        out.append((getter, _predicate(name, value)))
    return out


@cache
def _ids() -> SimpleNamespace:
    """spaCy's attribute ids (imported on first use: ``import iccc`` does not import spaCy)."""
    from spacy import attrs

    return SimpleNamespace(**{name: getattr(attrs, name) for name in ("ORTH", "POS", "MORPH", "LEMMA", "TAG", "DEP")})


def _components():
    from spacy.pipeline import AttributeRuler, Lemmatizer

    return AttributeRuler, Lemmatizer


class FastRules:
    """The trailing ``attribute_ruler`` and/or ``lemmatizer`` of a pipeline, applied from memos."""

    def __init__(self, ruler, lemmatizer):
        ids = self._ids = _ids()
        POS, MORPH, LEMMA, TAG, DEP = ids.POS, ids.MORPH, ids.LEMMA, ids.TAG, ids.DEP
        self._written = [POS, MORPH, LEMMA]
        self.ruler, self.lemmatizer = ruler, lemmatizer
        self.version = _version(ruler, lemmatizer)
        self._singles: list[tuple[int, tuple, dict]] = []  # (attr id, compiled token, attrs)
        self._multi: list[tuple[int, list, int, dict]] = []  # (attr id, compiled tokens, index, attrs)
        token_attrs: set[str] = set()
        if ruler is not None:
            for attr_id, (entry, attrs) in enumerate(zip(ruler.patterns, ruler.attrs)):
                if not set(attrs) <= {POS, MORPH, LEMMA, TAG, DEP}:
                    raise _Unsupported(f"ruler assigns {sorted(attrs)}")
                index = ruler.indices[attr_id]
                for pattern in entry["patterns"]:
                    if not pattern:
                        raise _Unsupported("empty pattern")
                    compiled = [_compile_token(tok) for tok in pattern]
                    for tok in pattern:
                        token_attrs.update(k.upper() for k in tok if k.upper() in _TOKEN_GETTER)
                    if not -len(pattern) <= index < len(pattern):
                        raise _Unsupported("index outside its pattern")  # spaCy raises; let it
                    if len(pattern) == 1:
                        self._singles.append((attr_id, compiled[0], attrs))
                    else:
                        self._multi.append((attr_id, compiled, index % len(pattern), attrs))
        # Signature of a token for the ruler: its text plus every token-level attribute read.
        self._sig_ids = [ids.ORTH] + [getattr(ids, k) for k in sorted(token_attrs)]
        self._read = self._sig_ids + [POS, MORPH, LEMMA, TAG, DEP]
        self._col = {attr: len(self._sig_ids) + n for n, attr in enumerate((POS, MORPH, LEMMA, TAG, DEP))}
        self._written_cols = [self._col[attr] for attr in self._written]
        self._single_memo: dict = {}
        self._lemma_memo: dict = {}

    # -------------------------------------------------------------- the ruler
    def _single(self, sig: tuple, doc, i: int) -> tuple:
        """``(single-token matches as (attr id, attrs), their composed updates, the multi-token
        patterns whose first token it fits, the (pattern, position) pairs it fits)`` for a signature."""
        if len(self._single_memo) >= MEMO_LIMIT:
            self._single_memo.clear()
        token = doc[i]
        values: dict = {}

        def fits(compiled):
            for getter, test in compiled:
                if getter not in values:
                    values[getter] = getattr(token, getter)
                if not test(values[getter]):
                    return False
            return True

        singles = tuple((attr_id, attrs) for attr_id, compiled, attrs in self._singles if fits(compiled))
        positions = frozenset((m, j) for m, (_a, tokens, _i, _at) in enumerate(self._multi)
                              for j, compiled in enumerate(tokens) if fits(compiled))
        firsts = tuple(m for m in range(len(self._multi)) if (m, 0) in positions)
        found = self._single_memo[sig] = (singles, _compose(singles), firsts, positions)
        return found

    def _apply_ruler(self, doc, rows: list) -> list:
        """Apply the ruler's updates to ``rows`` (``to_array`` rows, as lists) in place; returns the
        ``(token, attr, value)`` TAG/DEP assignments, which are not written with ``from_array``."""
        n = len(rows)
        width = len(self._sig_ids)
        memo = self._single_memo
        entries = []
        for i, row in enumerate(rows):
            sig = tuple(row[:width]) if width > 1 else row[0]
            entry = memo.get(sig)
            if entry is None:
                entry = self._single(sig, doc, i)
            entries.append(entry)
        extra: dict[int, list] | None = None
        if self._multi:
            for start, entry in enumerate(entries):
                for m in entry[2]:  # multi-token patterns that may start here (rare)
                    attr_id, tokens, index, attrs = self._multi[m]
                    length = len(tokens)
                    if start + length <= n and all((m, j) in entries[start + j][3] for j in range(1, length)):
                        if extra is None:
                            extra = {}
                        extra.setdefault(start + index, []).append((attr_id, attrs))
        col = self._col
        TAG, DEP = self._ids.TAG, self._ids.DEP
        direct = []
        for i, entry in enumerate(entries):
            updates = entry[1]
            if extra is not None and i in extra:
                updates = _compose(tuple(sorted(entry[0] + tuple(extra[i]), key=lambda e: e[0])))
            row = rows[i]
            for attr, value in updates:
                row[col[attr]] = value
                if attr == TAG or attr == DEP:
                    direct.append((i, attr, value))
        return direct

    # -------------------------------------------------------------- the lemmatizer
    def _apply_lemmatizer(self, doc, rows: list, direct: list) -> None:
        ids, col = self._ids, self._col
        pos_c, morph_c, lemma_c = col[ids.POS], col[ids.MORPH], col[ids.LEMMA]
        memo = self._lemma_memo
        overwrite = self.lemmatizer.overwrite
        written = False
        for i, row in enumerate(rows):
            if row[lemma_c] and not overwrite:
                continue
            key = (row[0], row[pos_c], row[morph_c])
            lemma = memo.get(key)
            if lemma is None:
                if not written:  # the lemmatizer must see the ruler's POS and MORPH
                    self._write(doc, rows, direct)
                    written = True
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                lemma = memo[key] = doc.vocab.strings.add(self.lemmatizer.lemmatize(doc[i])[0])
            row[lemma_c] = lemma

    def _write(self, doc, rows: list, direct: list) -> None:
        """Write POS, MORPH and LEMMA with one ``from_array``; TAG and DEP token by token."""
        p, m, le = self._written_cols
        doc.from_array(self._written, np.array([(r[p], r[m], r[le]) for r in rows], dtype=np.uint64))
        for i, attr, value in direct:
            setattr(doc[i], "tag" if attr == self._ids.TAG else "dep", value)

    def __call__(self, doc):
        if not len(doc):
            return doc
        rows = doc.to_array(self._read).tolist()
        direct = self._apply_ruler(doc, rows) if self.ruler is not None else []
        if self.lemmatizer is not None:
            self._apply_lemmatizer(doc, rows, direct)
        self._write(doc, rows, direct)
        return doc

    def pipe(self, docs: Iterable) -> Iterator:
        for doc in docs:
            yield self(doc)

    def clear(self) -> None:
        """Empty both memo tables (they fill again, from spaCy's own components, as docs come)."""
        self._single_memo.clear()
        self._lemma_memo.clear()


def _compose(matches: tuple) -> tuple:
    """Apply ``matches`` (already in precedence order) one after another: the final value per attribute."""
    final: dict = {}
    for _attr_id, attrs in matches:
        final.update(attrs)
    return tuple(final.items())


def _version(ruler, lemmatizer) -> tuple:
    """What the memos depend on: rebuilt when patterns are added or the lemmatizer's mode changes."""
    return (id(ruler), len(ruler.attrs) if ruler is not None else 0,
            id(lemmatizer), getattr(lemmatizer, "mode", None), getattr(lemmatizer, "overwrite", None))


def _trailing(nlp, disable: list[str]) -> list[tuple[str, Any]]:
    """``(name, component)`` of the enabled components at the end of ``nlp`` that :class:`FastRules`
    can take over: an ``attribute_ruler``, a ``lemmatizer``, or the ruler then the lemmatizer."""
    AttributeRuler, Lemmatizer = _components()
    enabled = [(name, proc) for name, proc in nlp.pipeline if name not in disable]
    out: list = []
    for name, proc in reversed(enabled):
        if type(proc) is AttributeRuler:
            out.insert(0, (name, proc))
            break  # nothing before the ruler is taken over
        if isinstance(proc, Lemmatizer) and not out and getattr(proc, "mode", None) in _LEMMATIZER_MODES:
            out.insert(0, (name, proc))
        else:
            break
    return out


def trailing_rules(nlp, disable: list[str]) -> list[str]:
    """The names of the components :class:`FastRules` takes over in ``nlp`` with ``disable`` off."""
    return [name for name, _ in _trailing(nlp, disable)]


def accelerator(nlp, disable: list[str]) -> tuple[FastRules | None, list[str]]:
    """``(FastRules, names it replaces)`` for ``nlp`` with ``disable`` off, or ``(None, [])`` when the
    pipeline does not end in components it can take over. Cached per pipeline object."""
    trailing = _trailing(nlp, disable)
    if not trailing:
        return None, []
    names = [name for name, _ in trailing]
    _AttributeRuler, Lemmatizer = _components()
    lemmatizer = trailing[-1][1] if isinstance(trailing[-1][1], Lemmatizer) else None
    ruler = trailing[0][1] if trailing[0][1] is not lemmatizer else None
    cache = _CACHE.get(nlp)
    if cache is None:
        cache = _CACHE[nlp] = {}
    key = tuple(names)
    found = cache.get(key)
    if found is not None and found.version == _version(ruler, lemmatizer):
        return found, names
    if lemmatizer is not None and not lemmatizer._validated:
        lemmatizer._validate_tables()
    try:
        fast = FastRules(ruler, lemmatizer)
    except _Unsupported:
        return None, []
    cache[key] = fast
    return fast, names


#: Pipeline -> {replaced component names: FastRules}; a pipeline that is dropped takes its memos along.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def clear_caches() -> None:
    """Empty the memo tables of every pipeline's :class:`FastRules` and forget them (they are made
    again on the next parse)."""
    for by_names in list(_CACHE.values()):
        for fast in by_names.values():
            fast.clear()
    _CACHE.clear()


def run_pipeline(nlp, texts: list[str], batch_size: int, disable: list[str], fast: bool = True) -> Iterator:
    """``nlp.pipe(texts)`` with ``disable`` off; the trailing rule components through :class:`FastRules`
    when ``fast`` and the pipeline allows it (identical annotations)."""
    rules, names = accelerator(nlp, disable) if fast else (None, [])
    if rules is None:
        return nlp.pipe(texts, batch_size=batch_size, disable=disable)
    return rules.pipe(nlp.pipe(texts, batch_size=batch_size, disable=list(disable) + names))


__all__ = ["FastRules", "accelerator", "clear_caches", "run_pipeline", "trailing_rules"]
