"""tlcourse.monitor: watching what a deployed classifier predicts, batch by batch (notebooks 06 and 07).

Labels arrive late or never, but the mix of predicted classes is free to watch: compare each batch's mix with a
reference mix by total variation distance, and ring when it exceeds a level set on calm batches, so that the
false-alarm rate is the one chosen."""
import numpy as np


def class_shares(predicted, num_classes):
    """Share of each class in each row of `predicted` (one row of predicted class indices per batch)."""
    predicted = np.atleast_2d(predicted)
    return np.stack([np.bincount(row, minlength=num_classes) for row in predicted]) / predicted.shape[1]


def total_variation(shares, reference):
    """Total variation distance of each row of `shares` to `reference`: half the sum of absolute differences."""
    return 0.5 * np.abs(np.asarray(shares) - np.asarray(reference)).sum(-1)


def alarm_level(calm_values, false_alarm_rate=0.01):
    """The level a calm batch's statistic exceeds with probability `false_alarm_rate` (from calm batches)."""
    return float(np.quantile(calm_values, 1 - false_alarm_rate))


def calm_distances(reference_predictions, num_classes, batch_size, draws=1000, rng=None):
    """TVD of `draws` calm batches to a reference mix, both resampled from the reference predictions (a bootstrap):
    each draw takes a batch and a new reference of the same size as the real one, so the level set from these
    distances allows for the reference mix's own sampling error, not only the batch's."""
    rng = np.random.default_rng(0) if rng is None else rng
    predictions = np.asarray(reference_predictions)
    count = len(predictions)
    references = class_shares(predictions[rng.integers(0, count, (draws, count))], num_classes)
    batches = class_shares(predictions[rng.integers(0, count, (draws, batch_size))], num_classes)
    return total_variation(batches, references)
