"""Feature matching (Salimans et al. 2016): G matches the batch mean of D's features.

Instead of maximising D's confusion on each sample, the generator minimises the distance
between the mean of D's last hidden features on a real batch and on its fakes, a target that
does not move as sharply as D's decision and so resists over-training on the current D. It is
one of the article's fixes.
"""

from __future__ import annotations

from typing import Any

from ganwatch.losses.auxiliary import feature_matching_loss
from ganwatch.stabilizers.base import Stabilizer


class FeatureMatchingLoss:
    """G's loss as feature matching; D's auxiliary output is still read for its own loss."""

    def __init__(self, objective: Any) -> None:
        self.objective = objective

    def generator_loss(self, pair, discriminator, fake_in, fake_labels, real):
        real_in, real_labels = real()
        loss = feature_matching_loss(
            pair.features(discriminator, real_in, real_labels).float(),
            pair.features(discriminator, fake_in, fake_labels).float(),
        )
        aux = pair.judge(discriminator, fake_in, fake_labels)[1] if pair.has_aux else None
        return loss, aux


class FeatureMatching(Stabilizer):
    """``--stabilize feature-matching``: G's loss becomes the feature distance."""

    def wrap_generator_loss(self, objective: Any) -> Any:
        return FeatureMatchingLoss(objective)
