"""iccc.parse / iccc.iter_parse with the real English pipeline: order, processes, duplicates, bad input."""

from __future__ import annotations

import itertools
import random

import pytest

import iccc
from iccc.parsing import _pipeline

pytestmark = pytest.mark.model

CAPTIONS = [
    "A black dog sitting next to a red fire hydrant.",
    "Two cats sleeping on a wooden bench.",
    "A man riding a horse on the beach.",
    "A plate of food with broccoli and rice.",
    "A woman holding an umbrella in the rain.",
    "A red bus parked in front of a tall building.",
    "Three people playing frisbee in a park.",
    "A small kitchen with white cabinets.",
]


def assert_offsets(parsed):
    for p in parsed:
        for c in p.concepts:
            assert p.text[c.start : c.end] == c.text, (p.text, c)


@pytest.fixture(scope="module")
def counting_nlp(nlp):
    """A fresh copy of the default pipeline, *with* NER, plus a last component that records every
    doc it sees (and whether NER annotated it): shows what spaCy was actually asked to parse."""
    import spacy
    from spacy.language import Language

    if not Language.has_factory("iccc_test_doc_counter"):

        @Language.component("iccc_test_doc_counter")
        def _count(doc):
            SEEN.append((doc.text, doc.has_annotation("ENT_IOB")))
            return doc

    fresh = spacy.load(nlp.path)
    assert "ner" in fresh.pipe_names
    fresh.add_pipe("iccc_test_doc_counter", last=True)
    return fresh


SEEN: list[tuple[str, bool]] = []


# ------------------------------------------------------------------ order, processes, duplicates
def test_order_is_preserved_and_each_caption_parses_as_if_alone(coco_captions):
    texts = coco_captions[:120]
    parsed = iccc.parse(texts, batch_size=16)
    assert [p.text for p in parsed] == texts
    assert all(p.status in ("ok", "no_concepts") for p in parsed)
    assert sum(p.status == "ok" for p in parsed) > 110
    for i in (0, 17, 63, 119):
        assert iccc.parse([texts[i]])[0] == parsed[i]
    assert_offsets(parsed)


def test_two_processes_give_the_same_output_as_one(coco_captions, monkeypatch):
    rng = random.Random(0)
    texts = coco_captions[:150] + ["", None, 7, "猫がいる", "<b>A red</b> car."] + coco_captions[:40]
    rng.shuffle(texts)
    pools = []
    real_run_pool = _pipeline._run_pool

    def spy(*args, **kwargs):
        pools.append(args[-1])
        yield from real_run_pool(*args, **kwargs)

    monkeypatch.setattr(_pipeline, "_run_pool", spy)
    one = iccc.parse(texts, batch_size=8, on_invalid="status")
    assert pools == []
    two = iccc.parse(texts, batch_size=8, n_process=2, on_invalid="status")
    assert pools == [2]  # the worker pool really ran
    assert two == one
    assert [p.text for p in two] == [t if isinstance(t, str) else "" for t in texts]


def test_small_input_is_parsed_in_process_even_with_n_process(monkeypatch):
    monkeypatch.setattr(_pipeline, "_run_pool", None)  # would fail if called
    assert iccc.parse(CAPTIONS, n_process=2) == iccc.parse(CAPTIONS)


def test_duplicates_are_parsed_once_and_give_equal_results(counting_nlp):
    texts = CAPTIONS * 3
    random.Random(1).shuffle(texts)
    SEEN.clear()
    parsed = iccc.parse(texts, nlp=counting_nlp, batch_size=4)
    assert sorted(text for text, _ in SEEN) == sorted(CAPTIONS)
    first = {}
    for p in parsed:
        assert first.setdefault(p.text, p) == p
    assert len(first) == len(CAPTIONS)


def test_duplicates_in_flight_are_parsed_once_without_a_memo(counting_nlp):
    # cache_size=0 keeps nothing, yet a repeat inside the same block waits for the first parse.
    SEEN.clear()
    parsed = iccc.parse([CAPTIONS[0], CAPTIONS[1], CAPTIONS[0]], nlp=counting_nlp, cache_size=0)
    assert [text for text, _ in SEEN] == CAPTIONS[:2]
    assert parsed[0] == parsed[2]


@pytest.mark.parametrize("cache_size", [0, 1, 3])
def test_small_or_no_memo_changes_nothing(cache_size):
    texts = [CAPTIONS[i % 5] if i % 3 else CAPTIONS[(i * 7) % 8] for i in range(60)]
    assert iccc.parse(texts, batch_size=2, cache_size=cache_size) == iccc.parse(texts, batch_size=2)


def test_components_concepts_do_not_need_are_skipped(counting_nlp, nlp):
    SEEN.clear()
    assert iccc.parse(CAPTIONS[:3], nlp=counting_nlp) == iccc.parse(CAPTIONS[:3], nlp=nlp)
    assert SEEN and not any(ner_ran for _, ner_ran in SEEN)


# ------------------------------------------------------------------ bad input
def test_non_string_raises_naming_its_index_after_earlier_captions():
    it = iccc.iter_parse(["A dog on a bed.", "A cat.", None, "A bird."])
    assert next(it).text == "A dog on a bed."
    assert next(it).text == "A cat."
    with pytest.raises(TypeError, match=r"`texts\[2\]` must be a string, got NoneType: None"):
        next(it)


@pytest.mark.parametrize("n_process", [1, 2])
def test_non_string_raises_in_parse(n_process):
    texts = CAPTIONS * 20 + [3.5] + CAPTIONS
    with pytest.raises(TypeError, match=r"`texts\[160\]` must be a string, got float: 3.5"):
        iccc.parse(texts, n_process=n_process, batch_size=4)


def test_non_strings_become_status_rows():
    parsed = iccc.parse([None, 5, b"A dog.", ["A dog."], "A dog on a bed."], on_invalid="status")
    assert [p.status for p in parsed] == ["missing", "not_string", "not_string", "not_string", "ok"]
    assert all(p.text == "" and p.concepts == () for p in parsed[:4])


def test_empty_and_whitespace():
    parsed = iccc.parse(["", " ", "\n\t  ", "\u3000"])
    assert [p.status for p in parsed] == ["empty"] * 4
    assert all(p.concepts == () for p in parsed)


def test_very_long_caption_is_truncated_at_a_word_boundary():
    text = "A brown dog sleeps on a green sofa next to a lamp. " * 2000  # 102,000 characters
    p = iccc.parse([text])[0]
    assert p.text == text and p.status == "truncated"
    assert p.concepts and max(c.end for c in p.concepts) <= _pipeline.DEFAULT_MAX_CHARS
    assert_offsets([p])
    short = iccc.parse([text], max_chars=45)[0]  # parses "A brown dog sleeps on a green sofa next to a"
    assert short.status == "truncated" and max(c.end for c in short.concepts) <= 45
    assert {c.text for c in short.of_kind("noun")} == {"dog", "sofa"}


def test_long_caption_without_spaces():
    p = iccc.parse(["x" * 100_000])[0]
    assert p.status == "no_concepts" and p.concepts == ()


def test_caption_beyond_nlp_max_length_is_truncated(nlp, monkeypatch):
    monkeypatch.setattr(nlp, "max_length", 300)
    text = "A cat on a mat. " * 100  # 1,600 characters
    p = iccc.parse([text], max_chars=None)[0]
    assert p.status == "truncated" and max(c.end for c in p.concepts) <= 300
    assert_offsets([p])


def test_emoji_keep_offsets():
    text = "A 🐶 dog sitting on a couch 🛋️ with 2 🐱 cats 😀."
    p = iccc.parse([text])[0]
    assert p.status == "ok"
    assert "dog" in {c.text for c in p.of_kind("noun")}
    assert_offsets([p])


def test_markup_is_ignored_but_offsets_index_the_original_text():
    text = '<p>A <b>red</b> car parked next to a <i>blue</i> truck.</p> &amp; see https://x.org/a?b=1'
    p = iccc.parse([text])[0]
    assert p.text == text and p.status == "ok"
    assert_offsets([p])
    assert {"car", "truck"} <= {c.text for c in p.of_kind("noun")}
    assert {"red", "blue"} <= {c.text for c in p.of_kind("attribute")}
    assert not any(c.text.startswith(("<", "&", "http")) for c in p.concepts)


@pytest.mark.parametrize(
    "text",
    [
        "猫がソファの上で寝ている。",
        "一只黑狗坐在红色消防栓旁边。",
        "Un chat noir dort sur le canapé du salon.",
        "Une femme tient un parapluie sous la pluie.",
        "Ein Hund läuft über die grüne Wiese.",
    ],
)
def test_non_english_gets_a_status(text):
    p = iccc.parse([text])[0]
    assert (p.status, p.concepts, p.text) == ("non_english", (), text)


def test_offsets_always_index_the_original_text(coco_captions):
    texts = coco_captions[:100] + [
        "  A dog  on a\tbed . ", "A <br/> cat", "DOG & CAT", "A café with a piñata.", "x" * 3000,
        "A dog. " * 400, "🐶" * 10, "A man's hat on a table's edge.",
    ]
    assert_offsets(iccc.parse(texts))


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize("texts", ["A dog on a bed.", b"A dog on a bed."])
def test_single_string_raises_at_call_time(texts):
    with pytest.raises(TypeError, match="Wrap it in a list"):
        iccc.iter_parse(texts)  # no next(): arguments are checked when the function is called
    with pytest.raises(TypeError, match="single"):
        iccc.parse(texts)


def test_not_iterable_raises():
    with pytest.raises(TypeError, match="`texts` must be an iterable of strings, got int"):
        iccc.parse(5)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"n_process": 0}, "n_process"),
        ({"n_process": -1}, "n_process"),
        ({"n_process": "2"}, "n_process"),
        ({"max_chars": 0}, "max_chars"),
        ({"cache_size": -1}, "cache_size"),
    ],
)
def test_bad_numbers_raise_value_error_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}` must be an integer >= "):
        iccc.iter_parse(CAPTIONS, **kwargs)


def test_bad_on_invalid():
    with pytest.raises(ValueError, match="Unknown on_invalid 'skip'. Available: 'raise', 'status'."):
        iccc.parse(CAPTIONS, on_invalid="skip")


# ------------------------------------------------------------------ laziness
def test_generators_are_consumed_lazily():
    pulled = []

    def endless():
        for i in itertools.count():
            if i == 10_000:  # fail instead of hanging if the input were read eagerly
                raise RuntimeError("the generator was consumed eagerly")
            pulled.append(i)
            yield CAPTIONS[i % len(CAPTIONS)] if i % 2 else f"A dog with {i} bones."

    first = list(itertools.islice(iccc.iter_parse(endless(), batch_size=4), 5))
    assert [p.text for p in first] == ["A dog with 0 bones.", CAPTIONS[1], "A dog with 2 bones.", CAPTIONS[3],
                                       "A dog with 4 bones."]
    assert len(pulled) < 50  # a block or two, never the whole input


def test_endless_generator_with_worker_processes_stops_cleanly():
    def endless():
        for i, caption in enumerate(itertools.cycle(CAPTIONS + [f"A cat with {i} mice." for i in range(40)])):
            if i == 10_000:  # fail instead of hanging if the input were read eagerly
                raise RuntimeError("the generator was consumed eagerly")
            yield caption

    captions = endless()
    first = list(itertools.islice(iccc.iter_parse(captions, batch_size=4, n_process=2), 30))
    assert [p.text for p in first] == (CAPTIONS + [f"A cat with {i} mice." for i in range(22)])
    assert all(p.status == "ok" for p in first)


def test_empty_input():
    assert iccc.parse([]) == []
    assert list(iccc.iter_parse(iter(()), n_process=2)) == []


def test_spawned_workers_load_the_pipeline_by_path(monkeypatch):
    # Where fork is unavailable (Windows, and macOS by choice), workers start fresh and load the
    # pipeline from its path.
    monkeypatch.setattr(_pipeline.mp, "get_all_start_methods", lambda: ["spawn"])
    texts = [f"A dog with {i} red balls." for i in range(20)] + CAPTIONS * 2 + ["", None]
    assert iccc.parse(texts, n_process=2, batch_size=4, on_invalid="status") == iccc.parse(
        texts, on_invalid="status"
    )


def test_telegraphic_english_is_not_taken_for_another_language(nlp):
    """No English function words, but no other language's either: still English."""
    import iccc

    parsed = iccc.parse(
        ["Adult man displaying abilities using flying yellow disc.", "Ein Hund liegt auf dem Sofa"], nlp=nlp
    )
    assert parsed[0].status == "ok" and parsed[0].of_kind("noun")
    assert parsed[1].status == "non_english"


def test_the_parsing_package_exports_exactly_its_public_names():
    import iccc.parsing

    # other packages import from these (and from iccc.parsing.lexicon), never from a private module
    assert iccc.parsing.__all__ == sorted(iccc.parsing.__all__)
    assert set(iccc.parsing.__all__) == {
        "ConceptParser", "DEFAULT_BATCH_SIZE", "DEFAULT_PIPELINES", "ParserNotFoundError", "add_concepts",
        "clear_caches", "extract", "iter_parse", "load_parser", "parse",
    }
    assert iccc.parsing.DEFAULT_BATCH_SIZE == _pipeline.DEFAULT_BATCH_SIZE
    assert iccc.parsing.extract is iccc.extract and iccc.parsing.parse is iccc.parse
