"""Concept extraction rules over a dependency-parsed spaCy ``Doc``.

The rules read only token attributes (``dep_``, ``pos_``, ``tag_``, ``lemma_``, ``head``), so
they work on hand-built ``Doc`` objects and on any English pipeline with a tagger and a parser.
Word lists live in :mod:`iccc.parsing._lexicon`.

Output: a list of :class:`iccc.Concept`, sorted by (start, end, kind), with links (``head``,
``subj``, ``obj``) as indices into that list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._schema import KINDS, NO_LINK, Concept
from . import _lexicon as lex

_NOMINAL_POS = frozenset(("NOUN", "PROPN"))
_VERB_CLAUSE_DEPS = frozenset(
    "ROOT acl relcl advcl conj xcomp ccomp pcomp csubj parataxis dep".split()
)
_ATTRIBUTE_STOP = frozenset(
    "other many several few various different same such own more most much lot certain "
    "numerous multiple whole entire top front next only".split()
)
_MAX_WORD_CHARS = 40  # longer "words" are noise (URLs, runs of characters), never concepts
_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def _lemma(token) -> str:
    lower = token.lower_
    fixed = lex.LEMMA_FIXES.get(lower)
    if fixed is not None:
        return fixed
    lemma = token.lemma_.lower()
    return lemma if lemma and lemma != "-pron-" else lower


@dataclass
class _Proto:
    """A concept under construction: token range plus links keyed by token index."""

    kind: str
    first: int  # first token index
    last: int  # last token index (inclusive)
    head_tok: int  # the token whose tag/dep describe the span
    lemma: str
    link: tuple = ()  # (kind, token) of the concept this one belongs to
    subj: int = NO_LINK  # token index of subject entity head
    obj: int = NO_LINK  # token index of object entity head
    symmetric: bool = False
    extra: dict = field(default_factory=dict)


class _Extractor:
    def __init__(self, doc):
        self.doc = doc
        self.protos: list[_Proto] = []
        self.entity_heads: dict[int, _Proto] = {}
        # quantifier / meta nouns -> token index of the noun standing in for them
        self.redirect: dict[int, int] = {}
        self.prep_nouns: set[int] = set()  # "top" in "on top of": part of a relation

    # ------------------------------------------------------------------ helpers
    def _of_object(self, token):
        """The object of ``token``'s "of" complement, if any."""
        for child in token.rights:
            if child.dep_ == "prep" and child.lower_ == "of":
                for grand in child.children:
                    if grand.dep_ == "pobj" and grand.pos_ in _NOMINAL_POS | {"PRON", "NUM"}:
                        return grand
        return None

    def _resolve(self, token):
        """Follow quantifier/meta redirects: "a herd of elephants" -> elephants."""
        seen = set()
        i = token.i
        while i in self.redirect and i not in seen:
            seen.add(i)
            i = self.redirect[i]
        return i

    def entity(self, token):
        """Token index of the entity head that ``token`` stands for, or ``None``."""
        if token is None:
            return None
        i = self._resolve(token)
        tok = self.doc[i]
        if tok.dep_ == "compound" and tok.head.i in self.entity_heads:
            i = tok.head.i
        if i in self.entity_heads:
            return i
        if tok.lower_ in lex.RELATIVE_PRONOUNS and tok.dep_ in lex.SUBJECT_DEPS:
            clause = tok.head
            if clause.dep_ == "relcl":
                return self.entity(clause.head)
        return None

    def subject(self, verb, depth=0):
        """Entity head index of the subject of ``verb``, or ``None``."""
        if depth > 6:
            return None
        for child in verb.children:
            if child.dep_ in lex.SUBJECT_DEPS:
                return self.entity(child)
            if child.dep_ == "expl":
                for other in verb.children:
                    if other.dep_ == "attr":
                        return self.entity(other)
        if verb.dep_ in lex.NOUN_CLAUSE_DEPS:
            return self.entity(verb.head)
        if verb.dep_ in ("conj", "xcomp", "advcl") and verb.head.i != verb.i:
            return self.subject(verb.head, depth + 1)
        if verb.dep_ == "ROOT" or verb.dep_ == "dep":
            # Fragments such as "Man riding a horse" sometimes come out with the noun as a
            # dependent of the verb; a nominal left of the verb is its subject.
            for child in verb.lefts:
                if child.dep_ in ("npadvmod", "nmod", "dep") and self.entity(child) is not None:
                    return self.entity(child)
        return None

    # ------------------------------------------------------------------ passes
    def find_redirects(self):
        for tok in self.doc:
            if tok.pos_ not in _NOMINAL_POS:
                continue
            lemma = _lemma(tok)
            target = self._of_object(tok)
            if target is None:
                continue
            if lemma in lex.META_NOUNS or (lemma in lex.QUANTIFIER_NOUNS and tok.tag_ != "NNP"):
                self.redirect[tok.i] = target.i
            elif (
                lemma in lex.COMPLEX_PREP_NOUNS
                and tok.dep_ == "pobj"
                and tok.head.pos_ == "ADP"
                and tok.head.lower_ != "of"
            ):
                self.prep_nouns.add(tok.i)
                self.redirect[tok.i] = target.i

    def find_entities(self):
        doc = self.doc
        for tok in doc:
            if tok.pos_ not in _NOMINAL_POS or tok.dep_ == "compound":
                continue
            if tok.i in self.redirect or tok.i in self.prep_nouns:
                continue
            lemma = _lemma(tok)
            if (
                lemma in lex.NON_ENTITY_NOUNS
                or len(tok.text) > _MAX_WORD_CHARS
                or not any(ch.isalpha() for ch in tok.text)
            ):
                continue
            self._add_entity(tok, lemma)

    def _add_entity(self, tok, lemma):
        doc = self.doc
        # noun span: contiguous compounds to the left
        first = tok.i
        while first > 0:
            prev = doc[first - 1]
            if prev.dep_ == "compound" and _inside(prev, tok) and prev.pos_ in _NOMINAL_POS | {"ADJ", "VERB", "NUM", "X"}:
                first -= 1
            elif prev.text == "-" and first - 2 >= 0 and _inside(doc[first - 2], tok):
                first -= 2
            else:
                break
        # colour/material words leading the compound are attributes ("metal pole")
        noun_attrs = []
        while first < tok.i and doc[first].lower_ in lex.NOUN_ATTRIBUTES:
            noun_attrs.append(doc[first])
            first += 1
        # entity span: left modifiers (determiner, adjectives, numerals, possessives)
        ent_first = first
        for child in tok.lefts:
            if child.dep_ in lex.ENTITY_LEFT_DEPS or child.dep_ == "compound":
                ent_first = min(ent_first, child.left_edge.i)
        while ent_first < tok.i and (doc[ent_first].is_punct or doc[ent_first].is_space):
            ent_first += 1
        # keep the entity contiguous: every token in it must hang under the head
        for i in range(ent_first, tok.i):
            if not _inside(doc[i], tok):
                ent_first = i + 1

        words = [t.lower_ for t in doc[first : tok.i]] + [lemma]
        noun_lemma = " ".join(words)
        ent = _Proto("entity", ent_first, tok.i, tok.i, " ".join(
            [t.lower_ for t in doc[ent_first : tok.i]] + [lemma]))
        self.protos.append(ent)
        self.entity_heads[tok.i] = ent
        self.protos.append(_Proto("noun", first, tok.i, tok.i, noun_lemma, link=("entity", tok.i)))

        for t in noun_attrs:
            self._add_attribute(t, tok)
        for child in tok.lefts:
            if child.i < ent_first:
                continue
            if child.dep_ in lex.ATTRIBUTE_DEPS:
                self._add_attribute(child, tok)
                for conj in child.conjuncts:
                    if conj.i < tok.i and conj.dep_ == "conj":
                        self._add_attribute(conj, tok)
            elif child.dep_ in ("nummod", "det", "quantmod") and _is_count(child):
                self.protos.append(
                    _Proto("count", child.i, child.i, child.i, _count_lemma(child), link=("noun", tok.i))
                )

    def _add_attribute(self, token, noun):
        lemma = _lemma(token)
        if lemma in _ATTRIBUTE_STOP or not token.is_alpha or len(token.text) > _MAX_WORD_CHARS:
            return
        if token.pos_ in _NOMINAL_POS and token.lower_ not in lex.NOUN_ATTRIBUTES:
            return  # nouns in adjective slots are compounds, not attributes
        if token.pos_ in ("DET", "PRON", "NUM", "ADP", "CCONJ", "PART"):
            return
        if any(p.kind == "attribute" and p.first == token.i for p in self.protos):
            return
        self.protos.append(_Proto("attribute", token.i, token.i, token.i, lemma, link=("noun", noun.i)))

    def find_predicative_attributes(self):
        for tok in self.doc:
            if tok.dep_ != "acomp" or tok.pos_ != "ADJ":
                continue
            verb = tok.head
            if _lemma(verb) not in ("be", "look", "seem", "appear", "remain", "stay", "become"):
                continue
            subj = self.subject(verb)
            if subj is None:
                continue
            self._add_attribute(tok, self.doc[subj])
            for conj in tok.conjuncts:
                if conj.dep_ == "conj":
                    self._add_attribute(conj, self.doc[subj])

    def find_verbs_and_relations(self):
        doc = self.doc
        for tok in doc:
            if tok.pos_ == "VERB" and tok.dep_ in _VERB_CLAUSE_DEPS:
                lemma = _lemma(tok)
                if lemma in lex.META_VERBS or lemma in ("be", "have") and tok.dep_ != "ROOT":
                    continue
                if lemma != "be":
                    self.protos.append(_Proto("verb", tok.i, tok.i, tok.i, lemma))
                    self._verb_object_relation(tok, lemma)
            if tok.dep_ in ("prep", "agent") and tok.pos_ in ("ADP", "SCONJ", "ADV"):
                self._prep_relation(tok)
            if tok.dep_ == "conj" and tok.i in self.entity_heads:
                self._coordination_relation(tok)

    def _verb_object_relation(self, verb, lemma):
        if lemma in lex.META_VERBS:
            return
        subj = self.subject(verb)
        if subj is None:
            return
        last = verb.i
        for child in verb.rights:
            if child.dep_ == "prt" and child.i == last + 1:
                last = child.i
        for child in verb.rights:
            if child.dep_ in ("dobj",):
                obj = self.entity(child)
                if obj is not None and obj != subj:
                    rel_lemma = " ".join([lemma] + [t.lower_ for t in self.doc[verb.i + 1 : last + 1]])
                    self.protos.append(
                        _Proto("relation", verb.i, last, verb.i, rel_lemma, subj=subj, obj=obj)
                    )

    def _prep_relation(self, prep):
        doc = self.doc
        lower = prep.lower_
        if lower in lex.NON_RELATION_PREPS:
            return
        pobj = next((c for c in prep.children if c.dep_ == "pobj"), None)
        if pobj is None:
            # "in between the tracks": "between" may be the pobj-bearing child of "in"
            inner = next((c for c in prep.children if c.dep_ == "prep"), None)
            if inner is not None and (lower, inner.lower_) in lex.TWO_WORD_PREPS:
                pobj = next((c for c in inner.children if c.dep_ == "pobj"), None)
                last = inner.i
            if pobj is None:
                return
        else:
            last = prep.i
        first = prep.i
        gov = prep.head
        if (gov.lower_, lower) in lex.TWO_WORD_PREPS and gov.i == prep.i - 1:
            first = gov.i
            gov = gov.head
        # complex preposition: "on top of", "in front of", "in the middle of"
        if pobj.i in self.prep_nouns:
            of = next(c for c in pobj.rights if c.dep_ == "prep" and c.lower_ == "of")
            last = of.i
            pobj = next(c for c in of.children if c.dep_ == "pobj")
        obj = self.entity(pobj)
        if obj is None:
            return
        if gov.pos_ in _NOMINAL_POS:
            subj = self.entity(gov)
        elif gov.pos_ in ("VERB", "AUX"):
            subj = self.subject(gov)
            # a verb directly before its preposition belongs to the relation: "sitting on"
            between = doc[gov.i + 1 : first]
            if (
                gov.pos_ == "VERB"
                and _lemma(gov) != "be" and _lemma(gov) not in lex.META_VERBS
                and all(t.dep_ == "prt" for t in between)
                and gov.i < first
            ):
                first = gov.i
        else:
            return
        if subj is None or subj == obj:
            return
        tokens = doc[first : last + 1]
        words = [_lemma(t) if t.pos_ in ("VERB",) else t.lower_ for t in tokens]
        rel_lemma = " ".join(words)
        prep_part = " ".join(t.lower_ for t in tokens if t.pos_ != "VERB")
        symmetric = rel_lemma in lex.SYMMETRIC_RELATIONS or prep_part in lex.SYMMETRIC_RELATIONS
        head_tok = gov.i if first == gov.i else prep.i
        self.protos.append(
            _Proto("relation", first, last, head_tok, rel_lemma, subj=subj, obj=obj, symmetric=symmetric)
        )

    def _coordination_relation(self, noun):
        first_conjunct = noun.head
        if first_conjunct.i not in self.entity_heads:
            return
        cc = [c for c in first_conjunct.rights if c.dep_ == "cc" and c.i < noun.i]
        if not cc:
            return
        word = cc[-1]
        self.protos.append(
            _Proto(
                "relation", word.i, word.i, word.i, word.lower_,
                subj=first_conjunct.i, obj=noun.i, symmetric=True,
            )
        )

    # ------------------------------------------------------------------ output
    def run(self) -> list[Concept]:
        self.find_redirects()
        self.find_entities()
        self.find_predicative_attributes()
        self.find_verbs_and_relations()
        return self._finish()

    def _finish(self) -> list[Concept]:
        doc = self.doc
        seen = set()
        protos = []
        for p in self.protos:
            key = (p.kind, p.first, p.last)
            if key in seen:
                continue
            seen.add(key)
            protos.append(p)
        protos.sort(key=lambda p: (doc[p.first].idx, -doc[p.last].idx, _KIND_ORDER[p.kind]))
        index_of = {}
        for i, p in enumerate(protos):
            if p.kind in ("entity", "noun"):
                index_of[(p.kind, p.head_tok)] = i
        out = []
        for p in protos:
            start = doc[p.first].idx
            last = doc[p.last]
            end = last.idx + len(last.text)
            head_token = doc[p.head_tok]
            head = NO_LINK
            if p.link:
                kind, tok_i = p.link
                head = index_of.get((kind, tok_i), NO_LINK)
            subj = index_of.get(("entity", p.subj), NO_LINK) if p.subj != NO_LINK else NO_LINK
            obj = index_of.get(("entity", p.obj), NO_LINK) if p.obj != NO_LINK else NO_LINK
            out.append(
                Concept(
                    kind=p.kind,
                    text=doc.text[start:end],
                    start=start,
                    end=end,
                    lemma=p.lemma,
                    tag=head_token.tag_,
                    tags=" ".join(t.tag_ for t in doc[p.first : p.last + 1]),
                    dep=head_token.dep_,
                    head=head,
                    subj=subj,
                    obj=obj,
                    symmetric=p.symmetric,
                )
            )
        return out


def _inside(token, head) -> bool:
    """Whether ``token`` is in the subtree of ``head``."""
    t = token
    for _ in range(64):
        if t.i == head.i:
            return True
        if t.head.i == t.i:
            return False
        t = t.head
    return False


def _is_count(token) -> bool:
    lower = token.lower_
    return lower in lex.NUMBER_WORDS or (token.like_num and lower.isdigit())


def _count_lemma(token) -> str:
    return token.lower_


def extract(doc) -> list[Concept]:
    """Concepts of a parsed ``Doc`` (needs ``TAG``, ``POS``, ``DEP`` and ``LEMMA`` annotation).

    >>> from spacy.tokens import Doc
    >>> from spacy.vocab import Vocab
    >>> doc = Doc(Vocab(), words=["a", "black", "dog"], heads=[2, 2, 2],
    ...           deps=["det", "amod", "ROOT"], pos=["DET", "ADJ", "NOUN"],
    ...           tags=["DT", "JJ", "NN"], lemmas=["a", "black", "dog"])
    >>> [(c.kind, c.text) for c in extract(doc)]
    [('entity', 'a black dog'), ('attribute', 'black'), ('noun', 'dog')]
    """
    return _Extractor(doc).run()
