"""Auxiliary losses added to the adversarial ones.

ACGAN's class loss (Odena et al. 2017), InfoGAN's mutual-information lower bound (Chen et al.
2016) and feature matching (Salimans et al. 2016). Each returns a 0-d tensor without host sync.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["class_loss", "feature_matching_loss", "infogan_loss"]


def class_loss(class_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the auxiliary classifier's logits against the class labels.

    Odena et al. 2017 (ACGAN): D also predicts the class; both D and G minimise this term (on
    real and fake samples for D, on fakes for G), on top of the adversarial loss.
    """
    return F.cross_entropy(class_logits, labels)


def infogan_loss(
    cat_logits: torch.Tensor | None,
    cat_codes: torch.Tensor | None,
    cont_mean: torch.Tensor | None,
    cont_codes: torch.Tensor | None,
    cont_weight: float = 1.0,
) -> torch.Tensor:
    """InfoGAN's negative mutual-information bound: CE(cat) + cont_weight * Gaussian NLL(cont).

    Chen et al. 2016: the Q head recovers the latent codes c from G(z, c). The categorical part
    is the cross-entropy of ``cat_logits`` (B, K) against the code indices ``cat_codes`` (B,).
    The continuous part models each code as a Gaussian with unit variance around ``cont_mean``
    (B, L), whose negative log-likelihood without its constant is 0.5 * sum_l (mean - c)^2,
    averaged over the batch. Either part may be absent (None, or zero continuous columns);
    with neither the loss is 0.
    """
    parts: list[torch.Tensor] = []
    if cat_logits is not None and cat_codes is not None:
        parts.append(F.cross_entropy(cat_logits, cat_codes))
    if cont_mean is not None and cont_codes is not None:
        batch = cont_mean.shape[0]
        mean = cont_mean.reshape(batch, -1)
        if mean.shape[1] > 0:
            diff = mean - cont_codes.reshape(batch, -1)
            parts.append(cont_weight * 0.5 * diff.pow(2).sum(dim=1).mean())
    if not parts:
        device = next(
            (t.device for t in (cat_logits, cont_mean) if t is not None), torch.device("cpu")
        )
        return torch.zeros((), device=device)
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """Salimans et al. 2016's feature matching: ||mean f(x) - mean f(G(z))||^2.

    The squared L2 distance between the batch means of an intermediate layer of D on real and
    fake samples, summed over all feature dimensions. It is a generator objective, so the real
    features are detached here: only G trains on it.
    """
    diff = real_features.detach().mean(dim=0) - fake_features.mean(dim=0)
    return diff.pow(2).sum()
