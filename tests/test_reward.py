"""Calibrated rewards (iccc.vision.reward): hand-worked ranks and standardised scores, paths, bad inputs."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from iccc.vision.reward import calibrated_reward, group_ranks, group_standardize

# Two sibling groups: three candidate sentences of one beam, two of another.
LM = [-0.8, -1.2, -0.5, -2.0, -1.0]
IMAGE = [0.31, 0.35, 0.22, 0.10, 0.40]
GROUPS = ["a", "a", "a", "b", "b"]


def test_rank_mode_equals_the_hand_worked_example():
    # group a: likelihood ranks -1.2 < -0.8 < -0.5 -> 1/3, 2/3, 1 (in candidate order 2/3, 1/3, 1);
    #          image ranks 0.22 < 0.31 < 0.35      -> candidate order 2/3, 1, 1/3
    # group b: likelihood -2.0 < -1.0 -> 1/2, 1;  image 0.10 < 0.40 -> 1/2, 1
    expected = [0.1 * 2 / 3 + 0.9 * 2 / 3, 0.1 * 1 / 3 + 0.9 * 1, 0.1 * 1 + 0.9 * 1 / 3, 0.5, 1.0]
    got = calibrated_reward(LM, IMAGE, alpha=0.9, groups=GROUPS)
    assert got.dtype == np.float64 and got.shape == (5,)
    assert got.tolist() == pytest.approx(expected)
    assert got.tolist() == pytest.approx([2 / 3, 0.9333333, 0.4, 0.5, 1.0])
    # the image decides at alpha = 0.9: the most image-relevant of group a wins although it is least likely
    assert int(np.argmax(got[:3])) == 1
    assert calibrated_reward(LM, IMAGE, alpha=0.0, groups=GROUPS).tolist() == pytest.approx(
        group_ranks(LM, GROUPS).tolist())
    assert calibrated_reward(LM, IMAGE, alpha=1.0, groups=GROUPS).tolist() == pytest.approx(
        [2 / 3, 1.0, 1 / 3, 0.5, 1.0])


def test_without_groups_all_candidates_are_siblings():
    got = calibrated_reward([1.0, 2.0], [0.5, 0.1], alpha=0.25)
    assert got.tolist() == pytest.approx([0.75 * 0.5 + 0.25 * 1.0, 0.75 * 1.0 + 0.25 * 0.5])


def test_ranks_share_ties_and_lie_in_zero_one():
    assert group_ranks([5.0, 5.0, 1.0]).tolist() == pytest.approx([2.5 / 3, 2.5 / 3, 1 / 3])
    assert group_ranks([7.0]).tolist() == [1.0]
    r = group_ranks(np.random.default_rng(0).normal(size=50))
    assert r.min() > 0 and r.max() == 1.0 and sorted(r.tolist()) == pytest.approx([(i + 1) / 50 for i in range(50)])


def test_score_mode_is_the_weighted_sum_of_standardised_scores():
    def z(values):
        mean, sd = statistics.fmean(values), statistics.pstdev(values)
        return [(v - mean) / sd for v in values]

    expected = [0.3 * a + 0.7 * b for a, b in zip(z(LM[:3]) + z(LM[3:]), z(IMAGE[:3]) + z(IMAGE[3:]))]
    got = calibrated_reward(LM, IMAGE, alpha=0.7, mode="score", groups=GROUPS)
    assert got.tolist() == pytest.approx(expected)
    # group b has two members: z = -1, +1 for both scores
    assert got[3:].tolist() == pytest.approx([-1.0, 1.0])
    # a group of one or of equal scores carries no preference
    assert group_standardize([3.0, 2.0, 2.0], ["x", "y", "y"]).tolist() == [0.0, 0.0, 0.0]
    # scale-free within a group, unlike the raw scores
    assert calibrated_reward(LM, [10 * v for v in IMAGE], alpha=0.7, mode="score", groups=GROUPS).tolist() == \
        pytest.approx(expected)


def test_path_reward_is_the_mean_of_its_step_rewards():
    lm = [[-1.0, -0.5, -0.7], [-2.0, -1.0], [-1.5, -0.2, -0.9]]
    image = [[0.3, 0.1, 0.2], [0.2, 0.2], [0.25, 0.3, 0.1]]
    # default: the candidates at one depth are siblings (3 at steps 0 and 1, 2 at step 2)
    step0 = calibrated_reward([-1.0, -2.0, -1.5], [0.3, 0.2, 0.25], alpha=0.9)
    step1 = calibrated_reward([-0.5, -1.0, -0.2], [0.1, 0.2, 0.3], alpha=0.9)
    step2 = calibrated_reward([-0.7, -0.9], [0.2, 0.1], alpha=0.9)
    expected = [(step0[0] + step1[0] + step2[0]) / 3, (step0[1] + step1[1]) / 2, (step0[2] + step1[2] + step2[1]) / 3]
    got = calibrated_reward(lm, image, alpha=0.9)
    assert got.shape == (3,) and got.tolist() == pytest.approx(expected)
    # hand numbers: path 0 = (0.1*1 + 0.9*1 + 0.1*2/3 + 0.9*1/3 + 0.1*1 + 0.9*1) / 3
    assert got[0] == pytest.approx((1.0 + (0.1 * 2 / 3 + 0.3) + 1.0) / 3)
    # explicit groups: the first sentences are siblings, each second one continues its own parent
    groups = [["root", "p0"], ["root", "p1"]]
    two = calibrated_reward([[-1.0, -0.3], [-2.0, -0.1]], [[0.3, 0.2], [0.1, 0.9]], alpha=0.5, groups=groups)
    # step 0: ranks (1, 1/2) for both scores; step 1: groups of one -> rank 1
    assert two.tolist() == pytest.approx([(1.0 + 1.0) / 2, (0.5 + 1.0) / 2])
    assert calibrated_reward(np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2)), alpha=0.0).tolist() == \
        pytest.approx([0.5, 1.0])


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(alpha=1.5), ValueError, "`alpha` should be a number in [0, 1]"),
    (dict(alpha=True), ValueError, "`alpha` should be a number in [0, 1]"),
    (dict(mode="mean"), ValueError, "Unknown `mode` 'mean'. Available: 'rank', 'score'."),
    (dict(groups=["a"]), ValueError, "`groups` should hold one group key per score (2), got 1."),
    (dict(groups=[["a"], "b"]), TypeError, "`groups[0]` should be a hashable group key"),
])
def test_bad_options_are_named(kwargs, error, message):
    with pytest.raises(error) as err:
        calibrated_reward([1.0, 2.0], [0.1, 0.2], **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize("lm, image, error, message", [
    ([], [], ValueError, "`lm_scores` is empty"),
    ([1.0, 2.0], [0.1], ValueError, "`image_scores` should hold one score per candidate (2), got 1."),
    ([1.0, float("nan")], [0.1, 0.2], ValueError, "`lm_scores[1]` should be a finite number, got nan."),
    ([1.0, "x"], [0.1, 0.2], TypeError, "`lm_scores[1]` should be a number, got str: 'x'."),
    ("ab", [0.1, 0.2], TypeError, "`lm_scores` should be a sequence of numbers"),
    ([[1.0], [2.0]], [0.1, 0.2], ValueError, "should have the same shape"),
    ([[1.0, 2.0]], [[0.1]], ValueError, "Path 0 has 2 steps in `lm_scores` but 1 in `image_scores`."),
    ([[1.0], []], [[0.1], []], ValueError, "`lm_scores[1]` is empty"),
])
def test_bad_scores_are_named(lm, image, error, message):
    with pytest.raises(error) as err:
        calibrated_reward(lm, image)
    assert message in str(err.value)


def test_exported_lazily_from_iccc_vision():
    import iccc.vision

    assert "calibrated_reward" in iccc.vision.__all__
    assert iccc.vision.calibrated_reward is calibrated_reward
