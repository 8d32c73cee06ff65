"""The public surface of ``iccc``: exactly the intended names, and a light ``import iccc``."""

from __future__ import annotations

import json
import subprocess
import sys

import iccc

#: Everything ``import iccc`` exposes. Adding a public name is a decision: add it here too.
EXPECTED = {
    # concepts (plain data)
    "KINDS", "STATUSES", "Concept", "ParsedCaption",
    # parsing
    "ConceptParser", "ParserNotFoundError", "add_concepts", "extract", "iter_parse", "load_parser", "parse",
    # corruption
    "Add", "ConceptBase", "Corruption", "Corruptor", "Replace", "Swap", "corrupt",
    # datasets: loading captions, building ICCC training data, on-the-fly epochs
    "build_dataset", "build_summary", "load_captions", "set_epoch",
    # data
    "sample_captions",
}

#: Heavy or optional libraries that must not be imported by ``import iccc``.
HEAVY = ("spacy", "thinc", "torch", "transformers", "peft", "datasets")


def test_all_is_sorted_and_exactly_the_intended_names():
    assert list(iccc.__all__) == sorted(iccc.__all__)
    assert len(iccc.__all__) == len(set(iccc.__all__))
    assert set(iccc.__all__) == EXPECTED


def test_every_public_name_resolves():
    namespace: dict = {}
    exec("from iccc import *", namespace)
    assert EXPECTED <= set(namespace)
    assert isinstance(iccc.__version__, str)


def _modules_after(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_iccc_is_light():
    assert _modules_after("import iccc, iccc.parsing, iccc.io, iccc.cli, iccc.dataset, iccc.train") == []


def test_the_light_import_check_can_see_spacy():
    # The probe above is meaningful: loading a parser does import spaCy.
    assert "spacy" in _modules_after("import iccc; iccc.load_parser()")
