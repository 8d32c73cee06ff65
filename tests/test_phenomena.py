"""The phenomena table (:mod:`iccc.phenomena`), the mix in ``build_dataset`` / ``iccc build --mix``
and the phenomena of ``build_summary``."""

from __future__ import annotations

import argparse

import pytest

from iccc import phenomena
from iccc.corrupt import DEFAULT_MIX
from iccc.operators import OPERATORS


def test_every_operation_and_kind_has_a_phenomenon():
    for name, cls in OPERATORS.items():
        for kind in cls.supported_kinds:
            assert phenomena.phenomenon_of(name, kind) in phenomena.PHENOMENA, (name, kind)
    assert phenomena.phenomenon_of("replace", "relation") == "relation"
    assert phenomena.phenomenon_of("number", "entity") == "number"
    assert phenomena.phenomenon_of("made", "up") == "made up"
    with pytest.raises(TypeError, match="`operation` and `kind` should be strings"):
        phenomena.phenomenon_of(None, "noun")


def test_counts_and_the_mix_table():
    counts = phenomena.phenomena_counts({"swap noun": 2, "replace noun": 3, "replace entity": 4, "number entity": 1})
    assert counts == {"object": 7, "number": 1, "object swap": 2}
    rows = phenomena.mix_table()
    assert [r["operation"] for r in rows] == list(OPERATORS)
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    assert {r["operation"]: r["share"] for r in rows if r["operation"] != "replace"} == pytest.approx(DEFAULT_MIX)
    assert "binding swap" in next(r for r in rows if r["operation"] == "swap")["phenomena"]
    assert phenomena.mix_table(["replace", "number"], mix={"number": 0.5})[1]["share"] == 0.5


def test_cli_mix_option_reaches_the_build(capsys, nlp):
    from iccc import _cli_build
    from iccc._cli_args import mix_shares

    parser = argparse.ArgumentParser(prog="iccc build")
    _cli_build.add_arguments(parser)
    args = parser.parse_args(["-q", "--p-correction", "1", "--mix", "number=0.4,existence=0", "--show", "0"])
    assert args.mix == {"number": 0.4, "existence": 0.0}
    assert _cli_build.run(args) == 0
    text = capsys.readouterr().out
    assert "number" in text and "(requested 40.0%)" in text and "Phenomena:" in text
    with pytest.raises(argparse.ArgumentTypeError, match="operation=share"):
        mix_shares("number")
    with pytest.raises(argparse.ArgumentTypeError, match=r"in \[0, 1\]"):
        mix_shares("number=2")


def test_build_dataset_takes_a_mix_and_the_summary_shows_the_phenomena(nlp):
    datasets = pytest.importorskip("datasets")
    import iccc
    from iccc.dataset import build_dataset, build_summary

    ds = datasets.Dataset.from_list(iccc.sample_captions())
    out = build_dataset(ds, group_column="image_id", p_correction=1.0, operations=["replace", "number"],
                        mix={"number": 0.5})
    s = build_summary(out)
    assert s["mix"]["operations"]["number"]["requested"] == 0.5
    assert set(s["phenomena"]) <= set(phenomena.PHENOMENA) and s["phenomena"]["number"] > 20
    assert sum(s["phenomena"].values()) == sum(s["edits"].values())
    with pytest.raises(ValueError, match="`mix` gives 'swap' a share but `operations`"):
        build_dataset(ds, group_column="image_id", operations=["replace", "number"], mix={"swap": 0.2})
