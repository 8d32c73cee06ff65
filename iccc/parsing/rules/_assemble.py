"""Assembly: the concept tuples of all passes become the sorted list of :class:`iccc.Concept`.

Concepts are sorted by (start, longest first, kind) -- stably, so concepts with equal keys stay
in the order found -- and their links (``head``, ``subj``, ``obj``) become indices into that
list. The text of a span is the caption's own: its tokens and the single spaces spaCy records
after them.
"""

from __future__ import annotations

from operator import itemgetter

from ..._schema import NO_LINK, Concept
from ._tokens import Tokens

_SORT_KEY = itemgetter(0)

# Concepts are built by filling the instance dict of a bare ``Concept``: a frozen dataclass sets
# each field through ``object.__setattr__``, four times slower, and this is a hot loop. Setting
# the items one by one, in field order, keeps the dict's keys shared with all other concepts
# (a third of the memory of a dict built apart, and faster to make). The result is the same object
# (equality, hashing, pickling) as long as ``Concept`` stays a plain frozen dataclass (else the
# constructor is used); ``tests/test_rules_assemble.py`` checks it.
_new = object.__new__
#: Whether ``Concept`` is a plain frozen dataclass, whose instances may be made by filling their
#: ``__dict__`` (``iccc.parsing._pipeline`` relies on it too).
PLAIN_CONCEPT = not hasattr(Concept, "__slots__") and not hasattr(Concept, "__post_init__")


def assemble(t: Tokens, protos: list[tuple]) -> list[Concept]:
    """The concepts of ``protos`` (tuples, see :mod:`._proto`; sorted in place) over ``t``.

    >>> from spacy.tokens import Doc
    >>> from spacy.vocab import Vocab
    >>> from ._proto import ENTITY, NOUN, key
    >>> t = Tokens(Doc(Vocab(), words=["a", "dog"], heads=[1, 1], deps=["det", "ROOT"],
    ...                pos=["DET", "NOUN"], tags=["DT", "NN"], lemmas=["a", "dog"]))
    >>> protos = [(key(1, 1, NOUN), "noun", 1, 1, 1, "dog", "entity", 1, -1, -1, False),
    ...           (key(0, 1, ENTITY), "entity", 0, 1, 1, "a dog", None, -1, -1, -1, False)]
    >>> [(c.kind, c.text, c.start, c.head) for c in assemble(t, protos)]
    [('entity', 'a dog', 0, -1), ('noun', 'dog', 2, 0)]
    """
    idx, text, tag, dep, space = t.idx, t.text, t.tag, t.dep, t.space
    protos.sort(key=_SORT_KEY)  # stable: concepts with equal keys stay in the order found
    entity_at, noun_at = {}, {}
    for i, p in enumerate(protos):
        kind = p[1]
        if kind == "entity":
            entity_at[p[4]] = i
        elif kind == "noun":
            noun_at[p[4]] = i
    get_entity = entity_at.get
    out = []
    append = out.append
    new, plain = _new, PLAIN_CONCEPT
    for _, kind, first, last, h, lemma, link_kind, link, subj, obj, symmetric in protos:
        start = idx[first]
        tg = tag[h]
        if first == last:
            span = text[first]
            tags = tg
        else:  # the caption's text: tokens and the single spaces spaCy records after them
            if all(space[first:last]):
                span = " ".join(text[first : last + 1])
            else:
                span = "".join([text[k] + " " if space[k] else text[k] for k in range(first, last)]) + text[last]
            tags = " ".join(tag[first : last + 1])
        if link_kind is None:
            head = NO_LINK
        elif link_kind == "noun":
            head = noun_at.get(link, NO_LINK)
        else:
            head = get_entity(link, NO_LINK)
        if subj >= 0:  # a relation (the others hold NO_LINK, which is negative)
            subj = get_entity(subj, NO_LINK)
            obj = get_entity(obj, NO_LINK)
        if not plain:  # pragma: no cover
            append(Concept(kind, span, start, start + len(span), lemma, tg, tags, dep[h], head, subj, obj, symmetric))
            continue
        # fill a bare concept's dict in field order (see _new above)
        c = new(Concept)
        fields = c.__dict__
        fields["kind"] = kind
        fields["text"] = span
        fields["start"] = start
        fields["end"] = start + len(span)
        fields["lemma"] = lemma
        fields["tag"] = tg
        fields["tags"] = tags
        fields["dep"] = dep[h]
        fields["head"] = head
        fields["subj"] = subj
        fields["obj"] = obj
        fields["symmetric"] = symmetric
        append(c)
    return out
