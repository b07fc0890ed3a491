"""Notebook 06's monitoring cell (exported): class shares per batch, total variation distance, and an alarm level that keeps its promise."""

import numpy as np
import pytest

from tlcourse.lessons import efficient_fine_tuning_and_scaling as monitor  # notebook 06's monitoring cell


def test_class_shares_count_each_class_per_batch():
    shares = monitor.class_shares(np.array([[0, 0, 1, 2], [2, 2, 2, 2]]), 4)
    np.testing.assert_allclose(shares, [[0.5, 0.25, 0.25, 0.0], [0.0, 0.0, 1.0, 0.0]])
    np.testing.assert_allclose(monitor.class_shares(np.array([1, 1, 0]), 2), [[1 / 3, 2 / 3]])  # one batch


def test_total_variation_is_half_the_l1_distance():
    assert monitor.total_variation([1.0, 0.0], [0.0, 1.0]) == 1.0
    assert monitor.total_variation([0.25] * 4, [0.25] * 4) == 0.0
    np.testing.assert_allclose(monitor.total_variation([[0.5, 0.5], [0.9, 0.1]], [0.7, 0.3]), [0.2, 0.2])


@pytest.mark.parametrize("rate", [0.01, 0.05])
def test_alarm_level_set_on_calm_batches_holds_its_false_alarm_rate_on_new_ones(rate):
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(6))

    def batches(count):
        return monitor.total_variation(
            monitor.class_shares(rng.choice(6, (count, 100), p=probabilities), 6), probabilities
        )

    level = monitor.alarm_level(batches(4000), false_alarm_rate=rate)
    assert abs(np.mean(batches(4000) > level) - rate) < 0.5 * rate + 0.005
    shifted = rng.choice(6, (500, 100), p=np.roll(probabilities, 1))  # another mix: rings almost always
    assert np.mean(monitor.total_variation(monitor.class_shares(shifted, 6), probabilities) > level) > 0.9


def test_calm_distances_allow_for_the_reference_own_error():
    """A level set on calm distances that resample the reference too keeps its rate on new data judged against a
    reference estimated from few predictions; a level that treats the reference as exact rings too often."""
    rng = np.random.default_rng(1)
    truth = rng.dirichlet(np.ones(8) * 2)
    reference_predictions = rng.choice(8, 300, p=truth)  # a small reference sample: its mix is noticeably off
    reference = monitor.class_shares(reference_predictions, 8)[0]
    new_days = monitor.total_variation(monitor.class_shares(rng.choice(8, (4000, 100), p=truth), 8), reference)
    naive = monitor.total_variation(
        monitor.class_shares(reference_predictions[rng.integers(0, 300, (4000, 100))], 8), reference
    )
    resampled = monitor.calm_distances(reference_predictions, 8, 100, draws=4000, rng=rng)
    naive_rate = np.mean(new_days > monitor.alarm_level(naive, 0.01))
    resampled_rate = np.mean(new_days > monitor.alarm_level(resampled, 0.01))
    assert resampled_rate < naive_rate
    assert resampled_rate < 0.02, resampled_rate
