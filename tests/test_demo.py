"""The synthetic shapes set, the ICCC data the demo builds from it, and the demo run end to end (quick mode)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from iccc.train.synthetic import (
    COLOURS,
    SHAPES,
    SIZE_WORDS,
    Scene,
    ShapeObject,
    describe_scene,
    draw_scene,
    sample_scene,
)


@pytest.fixture(scope="module")
def datasets_lib():
    pytest.importorskip("PIL")
    return pytest.importorskip("datasets")


# ------------------------------------------------------------------------------------------ synthetic
def test_same_seed_same_dataset_and_prefix_is_the_smaller_set(datasets_lib):
    from iccc.train.synthetic import make_shapes_dataset

    a = make_shapes_dataset(6, seed=3, image_size=16)
    b = make_shapes_dataset(6, seed=3, image_size=16)
    assert a.column_names == ["image", "caption", "image_id"]
    assert a.features["image"].__class__.__name__ == "Image"
    raw = a.cast_column("image", datasets_lib.Image(decode=False))
    raw_b = b.cast_column("image", datasets_lib.Image(decode=False))
    assert [r["image"]["bytes"] for r in raw] == [r["image"]["bytes"] for r in raw_b]
    assert list(a["caption"]) == list(b["caption"])
    small = make_shapes_dataset(2, seed=3, image_size=16).cast_column("image", datasets_lib.Image(decode=False))
    assert [r["image"]["bytes"] for r in small] == [r["image"]["bytes"] for r in raw.select(range(len(small)))]
    other = make_shapes_dataset(6, seed=4, image_size=16)
    assert list(other["caption"]) != list(a["caption"])


def test_rows_are_several_differently_phrased_captions_per_image(datasets_lib):
    from iccc.train.synthetic import make_shapes_dataset

    ds = make_shapes_dataset(5, seed=0, image_size=16, captions_per_image=3)
    assert list(ds["image_id"]) == [i for i in range(5) for _ in range(3)]
    captions = list(ds["caption"])
    for i in range(5):
        siblings = captions[3 * i:3 * i + 3]
        assert len(set(siblings)) == 3, siblings
    img = ds[0]["image"]
    assert img.size == (16, 16) and img.mode == "RGB"


def test_captions_are_true_of_the_scene():
    for i in range(200):
        rng = np.random.default_rng([7, i])
        scene = sample_scene(rng)
        for caption in describe_scene(scene, rng, n_captions=3):
            words = caption.rstrip(".").split()
            assert {w for w in words if w in COLOURS} == {o.colour for o in scene.objects}
            assert {w for w in words if w in SHAPES} == {o.shape for o in scene.objects}
            sizes = {w for w in words if any(w in names for names in SIZE_WORDS.values())}
            assert sizes <= {n for o in scene.objects for n in SIZE_WORDS[o.size]}
            if scene.layout == "horizontal":
                assert ("left" in words) != ("right" in words)
                # "A to the left of B" / "there is A on the left of B": the first object is the left one
                first = next(w for w in words if w in COLOURS)
                assert (first == scene.objects[0].colour) == ("left" in words)
            elif scene.layout == "vertical":
                first = next(w for w in words if w in COLOURS)
                assert (first == scene.objects[0].colour) == ("above" in words)
            else:
                assert len(scene.objects) == 1


def test_drawn_objects_have_their_colour_where_they_are():
    scene = Scene("horizontal", (ShapeObject("square", "red", "large", 0.25, 0.5),
                                 ShapeObject("circle", "blue", "large", 0.75, 0.5)))
    img = draw_scene(scene, image_size=32)
    assert img.getpixel((8, 16)) == COLOURS["red"]
    assert img.getpixel((24, 16)) == COLOURS["blue"]
    assert img.getpixel((16, 2)) == (255, 255, 255)
    # a triangle is narrow at the top, a square is not
    tri = draw_scene(Scene("single", (ShapeObject("triangle", "green", "large", 0.5, 0.5),)), image_size=32)
    sq = draw_scene(Scene("single", (ShapeObject("square", "green", "large", 0.5, 0.5),)), image_size=32)
    top_row = 7
    assert sum(tri.getpixel((x, top_row)) != (255, 255, 255) for x in range(32)) < \
        sum(sq.getpixel((x, top_row)) != (255, 255, 255) for x in range(32))


@pytest.mark.parametrize("kwargs,message", [
    (dict(n_images=0), "`n_images` should be a positive int, got 0."),
    (dict(n_images=2, seed=-1), "`seed` should be an int >= 0, got -1."),
    (dict(n_images=2, image_size=4), "`image_size` should be an int >= 8, got 4."),
    (dict(n_images=2, captions_per_image=0), "`captions_per_image` should be a positive int, got 0."),
    (dict(n_images=2, max_objects=3), "`max_objects` should be 1 or 2, got 3."),
])
def test_bad_arguments_are_named(datasets_lib, kwargs, message):
    from iccc.train.synthetic import make_shapes_dataset

    with pytest.raises(ValueError) as err:
        make_shapes_dataset(**kwargs)
    assert str(err.value) == message


# ------------------------------------------------------------------------------------------ demo data
@pytest.fixture(scope="module")
def demo_data(datasets_lib):
    from iccc.train.demo import shapes_iccc_data

    return shapes_iccc_data(40, 10, seed=0, image_size=16, p_correction=0.5)


def test_demo_data_corrections_are_wrong_about_the_image(demo_data):
    """Every inserted colour or shape is absent from the image: only the image tells it is wrong."""
    data, _ = demo_data
    val = data["validation"]
    assert set(val["task"]) == {"correction"}
    checked = 0
    for row in val:
        if row["operation"] != "replace":
            continue
        scene = sample_scene(np.random.default_rng([1, row["image_id"]]))  # held-out images use seed + 1
        assert row["corrupted_caption"] != row["caption"]
        assert row["corrupted_caption"] in row["prompt"]
        if row["concept_kind"] == "attribute" and row["replacement"] in COLOURS:
            assert row["replacement"] not in {o.colour for o in scene.objects}
            checked += 1
        elif row["concept_kind"] == "noun":
            assert row["replacement"] not in {o.shape for o in scene.objects}
            checked += 1
    assert checked >= 5


def test_demo_data_mixes_tasks_and_keeps_every_row(demo_data):
    data, base = demo_data
    train = data["train"]
    assert len(train) == 40 * 3 and len(data["validation"]) == 10 * 3
    tasks = list(train["task"])
    assert 0.3 < tasks.count("correction") / len(tasks) < 0.7
    assert set(base.kept("attribute")) >= set(COLOURS)  # no above-mean filter: every colour is insertable
    assert {"image", "prompt", "target", "task"} <= set(train.column_names)


# ------------------------------------------------------------------------------------------ demo run
def test_quick_demo_runs_end_to_end(datasets_lib, tmp_path):
    for name in ("torch", "transformers", "accelerate"):
        pytest.importorskip(name, reason=f"the demo trains a model with {name}")
    from iccc.train.demo import main

    out = tmp_path / "results.json"
    assert main(["--quick", "--runs", "iccc,caption", "--out", str(tmp_path / "work"), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["mode"] == "quick"
    assert set(report["runs"]) == {"before", "iccc", "caption"}
    for run in report["runs"].values():
        scores = run["all"]
        assert scores["n_correction"] == 16
        assert 0.0 <= scores["correction_exact"] <= 1.0 and 0.0 <= scores["span_identified"] <= 1.0
        assert scores["n_span"] == 16  # every target quotes the wrong span
        kinds = [k for k in run if k not in ("all", "examples")]
        assert kinds and sum(run[k]["n_correction"] for k in kinds) == 16
    for name in ("iccc", "caption"):
        losses = report["losses"][name]
        assert len(losses) == report["config"]["max_steps"]
        # From random initialisation the loss must fall well below its start within the quick run.
        assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), name
    assert (tmp_path / "work" / "demo_results.json").exists()
