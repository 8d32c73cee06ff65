"""Calibrated preference pairs (iccc.dataset.calibrated_pairs) and the ranked negatives of
``to_dpo(rank_by=...)``: hand-worked choices, skip reasons, the to_dpo format, a real tiny dual encoder."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

pytest.importorskip("datasets")

from iccc.dataset import calibrated_pairs, image_scorer, to_dpo  # noqa: E402

PROMPT = "Caption:"

# Three candidate paths of one image. Worked by hand (alpha 0.9, rank mode, siblings = same depth):
#   depth 0: lm (-0.5, -0.2, -0.9) -> ranks (2/3, 1, 1/3); image (0.8, 0.1, 0.6) -> ranks (1, 1/3, 2/3)
#            rewards A 0.1*2/3 + 0.9*1 = 0.9667, B 0.1*1 + 0.9/3 = 0.4, C 0.1/3 + 0.9*2/3 = 0.6333
#   depth 1: A alone -> 1.0;  path rewards A (0.9667 + 1) / 2 = 0.9833, B 0.4, C 0.6333
#   -> chosen A, rejected B.  With alpha 0 (likelihood only): A (2/3 + 1) / 2, B 1, C 1/3 -> chosen B, rejected C.
A = {"sentences": ["a red square.", "it is big."], "logps": [-0.5, -1.0]}
B = {"sentences": ["a blue square."], "logps": [-0.2]}
C = {"sentences": ["a red circle."], "logps": [-0.9]}
SCORES = [[[0.8, 0.3], [0.1], [0.6]]]


def test_pairs_equal_the_hand_worked_choice():
    pairs, counts = calibrated_pairs([[A, B, C]], ["1.png"], image_scores=SCORES, alpha=0.9, prompt=PROMPT,
                                     conversational=False, image_features=False, with_rewards=True,
                                     return_counts=True)
    row = pairs[0]
    assert (row["chosen"], row["rejected"]) == ("a red square. it is big.", "a blue square.")
    assert row["chosen_reward"] == pytest.approx((0.1 * 2 / 3 + 0.9 + 1.0) / 2)
    assert row["rejected_reward"] == pytest.approx(0.1 + 0.9 / 3)
    assert dict(counts) == {"exported": 1}
    likelihood = calibrated_pairs([[A, B, C]], ["1.png"], alpha=0.0, prompt=PROMPT, conversational=False,
                                  image_features=False)  # alpha 0 needs no image scores
    assert (likelihood[0]["chosen"], likelihood[0]["rejected"]) == ("a blue square.", "a red circle.")


def test_score_mode_uses_standardised_scores():
    # depth 0: z(lm) and z(image) over the three; depth 1 alone -> 0. A: (0.1 z_lm + 0.9 z_im + 0) / 2
    pairs = calibrated_pairs([[A, B, C]], ["1.png"], image_scores=SCORES, alpha=0.9, mode="score", prompt=PROMPT,
                             conversational=False, image_features=False, with_rewards=True)
    lm, im = np.array([-0.5, -0.2, -0.9]), np.array([0.8, 0.1, 0.6])
    z = 0.1 * (lm - lm.mean()) / lm.std() + 0.9 * (im - im.mean()) / im.std()
    rewards = [z[0] / 2, z[1], z[2]]
    assert pairs[0]["chosen"] == ["a red square. it is big.", "a blue square.", "a red circle."][int(np.argmax(rewards))]
    assert pairs[0]["chosen_reward"] == pytest.approx(max(rewards))
    assert pairs[0]["rejected_reward"] == pytest.approx(min(rewards))


def test_rows_are_in_to_dpos_format():
    import datasets

    for conversational in (True, False):
        ours = calibrated_pairs([[A, B, C]], ["1.png"], image_scores=SCORES, prompt=PROMPT,
                                conversational=conversational)
        source = datasets.Dataset.from_dict({"caption": ["a red square. it is big."],
                                             "corrupted_caption": ["a blue square."], "image": ["1.png"]})
        theirs = to_dpo(source, prompt=PROMPT, conversational=conversational)
        assert ours.column_names == theirs.column_names == ["prompt", "chosen", "rejected", "images"]
        assert ours.features == theirs.features
        assert ours.with_format(None).select_columns(["prompt", "chosen", "rejected"]).to_list() == \
            theirs.select_columns(["prompt", "chosen", "rejected"]).to_list()
    text_only = calibrated_pairs([[A, B, C]], image_scores=SCORES, prompt=PROMPT, conversational=False)
    assert text_only.column_names == ["prompt", "chosen", "rejected"] and text_only[0]["prompt"] == PROMPT


def test_groups_without_a_pair_are_counted():
    same = {"sentences": ["a red square."], "logps": [-0.3]}
    twin = {"sentences": ["a red square."], "logps": [-0.7], "text": "a red square."}
    groups = [[A, B, C], [A], [], [same, dict(same, sentences=["a blue square."])], [same, twin]]
    scores = [SCORES[0], [[0.1, 0.2]], [], [[0.5], [0.5]], [[0.2], [0.9]]]
    pairs, counts = calibrated_pairs(groups, ["1", "2", "3", "4", "5"], image_scores=scores, image_features=False,
                                     return_counts=True)
    assert len(pairs) == 1 and pairs[0]["images"] == ["1"]
    assert counts == Counter({"exported": 1, "too_few_candidates": 2, "tied": 1, "same_text": 1})


def test_a_callable_scorer_and_the_paths_own_scores():
    calls = []

    def scorer(image, sentences):
        calls.append((image, list(sentences)))
        return [{"a red square.": 0.8, "it is big.": 0.3, "a blue square.": 0.1, "a red circle.": 0.6}[s]
                for s in sentences]

    by_callable = calibrated_pairs([[A, B, C], [B]], ["1", "2"], scorer=scorer, image_features=False)
    assert calls == [("1", ["a red square.", "it is big.", "a blue square.", "a red circle."])]  # one call per group
    carried = [[dict(p, image_scores=s) for p, s in zip([A, B, C], SCORES[0])]]
    by_paths = calibrated_pairs(carried, ["1"], image_features=False)
    by_given = calibrated_pairs([[A, B, C]], ["1"], image_scores=SCORES, image_features=False)
    assert by_callable.to_list() == by_paths.to_list() == by_given.to_list()


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(alpha=1.5), ValueError, r"`alpha` should be a number in \[0, 1\].*got 1.5"),
    (dict(mode="median"), ValueError, r"Unknown `mode` 'median'. Available: 'rank', 'score'"),
    (dict(images=["1", "2"]), ValueError, r"`images` should hold one image per group of `paths` \(1\), got 2"),
    (dict(paths=[[dict(A, logps=[-0.5])]]), ValueError, r"`paths\[0\]\[0\]` should have `logps`: one number per "
                                                        r"sentence \(2\)"),
    (dict(paths=[[dict(A, logps=[-0.5, float("nan")])]]), ValueError, r"paths\[0\]\[0\]`.logps\[1\] should be a finite"),
    (dict(paths=[[dict(A, sentences=[])]]), ValueError, r"should have `sentences`: a non-empty list"),
    (dict(paths="a red square."), TypeError, r"`paths` should be a list with one list of candidate paths per image"),
    (dict(image_scores=None), ValueError, r"alpha=0.9 weighs an image-text score, but there is none"),
    (dict(image_scores=[[[0.1], [0.1], [0.1]]]), ValueError, r"`image_scores\[0\]\[0\]` should hold one score per "
                                                            r"sentence \(2\)"),
    (dict(scorer=42, image_scores=None), TypeError, r"`scorer` should be an embedder"),
    (dict(prompt=""), ValueError, r"`prompt` should be a non-empty string"),
])
def test_bad_inputs_are_named(kwargs, error, message):
    args = dict(paths=[[A, B, C]], images=["1"], image_scores=SCORES)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        calibrated_pairs(args.pop("paths"), args.pop("images"), **args)


# ------------------------------------------------------------------------------ a real tiny dual encoder
COLOURS = {"red": (220, 30, 30), "blue": (30, 70, 225), "green": (30, 160, 40)}


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from iccc.vision import TransformersEmbedder
    from iccc.vision.tiny import build_tiny_dual_encoder

    texts = [f"a {c} {s}." for c in COLOURS for s in ("square", "circle", "triangle")]
    path = build_tiny_dual_encoder("clip", tmp_path_factory.mktemp("clip"), texts=texts, image_size=32, seed=0)
    return TransformersEmbedder(path, device="cpu", batch_size=8)


@pytest.fixture(scope="module")
def ranked_source():
    import datasets
    from PIL import Image

    return datasets.Dataset.from_dict({
        "image": [Image.new("RGB", (32, 32), COLOURS["red"]), Image.new("RGB", (32, 32), COLOURS["blue"])],
        "caption": ["a red square.", "a blue circle."],
        "corrupted_caption": [["a green square.", "a red circle.", "a blue square.", "a red triangle."],
                              ["a red circle.", "a blue square."]],
    }).cast_column("image", datasets.Image())


def _ranks(x):
    x = np.asarray(x)
    return (np.argsort(np.argsort(x, kind="stable"), kind="stable") + 1) / len(x)


def _expected(embedder, ds, alpha):
    out = []
    for row in ds:
        options = row["corrupted_caption"]
        image = embedder.encode_images([row["image"]])[0]
        caption = embedder.encode_texts([row["caption"]])[0]
        vectors = embedder.encode_texts(options)
        plausibility, consistency = vectors @ caption, vectors @ image
        reward = (1 - alpha) * _ranks(plausibility) + alpha * _ranks(-consistency)
        out.append(options[int(np.argmax(reward))])
    return out


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_rank_by_an_embedder_picks_the_expected_corruption(embedder, ranked_source, alpha):
    pairs, counts = to_dpo(ranked_source, rank_by=embedder, alpha=alpha, conversational=False, return_counts=True)
    chosen = [row["rejected"] for row in pairs]
    assert chosen == _expected(embedder, ranked_source, alpha)
    assert counts["ranked"] == 2 and counts["candidates=4"] == 1 and counts["candidates=2"] == 1
    assert [row["chosen"] for row in pairs] == ["a red square.", "a blue circle."]
    first = ranked_source[0]
    vectors = embedder.encode_texts(first["corrupted_caption"])
    if alpha == 1.0:   # image only: the candidate that fits the image least
        image = embedder.encode_images([first["image"]])[0]
        assert chosen[0] == first["corrupted_caption"][int(np.argmin(vectors @ image))]
    if alpha == 0.0:   # text only: the candidate closest to the real caption
        caption = embedder.encode_texts([first["caption"]])[0]
        assert chosen[0] == first["corrupted_caption"][int(np.argmax(vectors @ caption))]


def test_rank_by_a_callable(ranked_source):
    seen = []

    def longest(image, caption, candidates):
        seen.append((image.size, caption, tuple(candidates)))
        return [len(c) for c in candidates]

    pairs = to_dpo(ranked_source, rank_by=longest, conversational=False)
    assert [r["rejected"] for r in pairs] == ["a green square.", "a blue square."]  # ties: the first
    assert seen[0] == ((32, 32), "a red square.", tuple(ranked_source[0]["corrupted_caption"]))


def test_rank_by_draws_candidates_with_a_concept_base(embedder):
    from iccc import ConceptBase
    from iccc.parsing import add_concepts
    from iccc.train.synthetic import make_shapes_dataset

    pytest.importorskip("spacy")
    source = add_concepts(make_shapes_dataset(12, seed=0, image_size=32))
    base = ConceptBase.from_dataset(source, group_column="image_id", above_mean=False)
    rows = source.select(range(6))
    plain = rows.add_column("corrupted_caption", [None] * len(rows))
    pairs, counts = to_dpo(plain, rank_by=embedder, concepts=base, n_candidates=3, return_counts=True,
                           conversational=False)
    assert counts["exported"] == len(pairs) > 0 and counts["ranked"] > 0
    assert all(r["rejected"] != r["chosen"] for r in pairs)


def test_rank_options_are_checked(ranked_source, embedder):
    import datasets

    single = datasets.Dataset.from_dict({"caption": ["a red square."], "corrupted_caption": ["a red circle."],
                                         "image": ["1.png"]})
    with pytest.raises(ValueError, match="pass concepts="):
        to_dpo(single, rank_by=embedder)
    with pytest.raises(ValueError, match="`concepts` is only used to draw candidates for `rank_by`"):
        to_dpo(single, concepts=object())
    with pytest.raises(TypeError, match="`rank_by` should be an embedder"):
        to_dpo(ranked_source, rank_by="clip")
    with pytest.raises(ValueError, match=r"`n_candidates` should be an integer >= 2.*got 1"):
        to_dpo(ranked_source, rank_by=embedder, n_candidates=1)
    with pytest.raises(ValueError, match=r"`alpha` should be a number in \[0, 1\]"):
        to_dpo(ranked_source, rank_by=embedder, alpha=2)
    with pytest.raises(ValueError, match="`rank_by` should return 4 finite numbers"):
        to_dpo(ranked_source, rank_by=lambda image, caption, candidates: [1.0])


def test_image_scorer_gives_the_embedders_cosines(embedder):
    from PIL import Image

    image = Image.new("RGB", (32, 32), COLOURS["green"])
    scorer = image_scorer(embedder)
    got = scorer(image, ["a green circle.", "a red square."])
    expected = embedder.encode_texts(["a green circle.", "a red square."]) @ embedder.encode_images([image])[0]
    assert got == pytest.approx(expected.tolist(), abs=1e-6)
    pairs = calibrated_pairs([[A, B, C]], [image], scorer=embedder, image_features=False)
    same = calibrated_pairs([[A, B, C]], [image], scorer=scorer, image_features=False)
    assert pairs.to_list() == same.to_list()
    with pytest.raises(TypeError, match="`embedder` should have encode_images and encode_texts"):
        image_scorer(len)


def test_export_dpo_rank_by_on_the_command_line(tmp_path, capsys):
    """``iccc export dpo --rank-by DIR``: the pairs of ``to_dpo(rank_by=...)`` with candidates drawn
    from the input's own concept base; a wrong use is refused with the option named."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("spacy")
    import datasets

    from iccc.cli import main
    from iccc.train.synthetic import make_shapes_dataset
    from iccc.vision.tiny import build_tiny_dual_encoder

    texts = [f"a {c} {s}." for c in COLOURS for s in ("square", "circle", "triangle")]
    clip = str(build_tiny_dual_encoder("clip", tmp_path / "clip", texts=texts, image_size=32, seed=0))
    src = tmp_path / "shapes"
    make_shapes_dataset(12, seed=0, image_size=32).save_to_disk(str(src))
    out = tmp_path / "dpo"
    assert main(["export", "dpo", str(src), "-o", str(out), "--rank-by", clip, "--n-candidates", "3", "-q"]) == 0
    assert "ranked" in capsys.readouterr().out
    pairs = datasets.load_from_disk(str(out))
    assert len(pairs) > 0 and all(r["rejected"] != r["chosen"] for r in pairs)
    assert main(["export", "sft", str(src), "-o", str(tmp_path / "sft"), "--rank-by", clip]) == 2
    assert "--rank-by" in capsys.readouterr().err
    assert main(["export", "dpo", str(src), "-o", str(tmp_path / "dpo2"), "--rank-by", str(tmp_path / "nope")]) == 2
    assert "--rank-by" in capsys.readouterr().err
