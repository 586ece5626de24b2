"""Minibatch discrimination (Salimans et al. 2016): let D see how alike the samples of a batch are.

A collapsed generator makes batches of near-identical samples, which one sample alone cannot
reveal. The layer projects each sample's features to ``kernels`` rows of ``kernel_dim`` numbers,
measures for each kernel how close every other sample of the batch is
(``sum_j exp(-||M_i - M_j||_1)``), and appends those closeness numbers to the features, so the
discriminator's last layer can reject batches that lack variety.
"""

from __future__ import annotations

import torch
from torch import nn

from ganwatch.stabilizers.base import Stabilizer

KERNEL_DIM = 8
#: Elements of one chunk's (rows, batch, kernels, kernel_dim) differences: 16 Mi floats, 64 MB.
CHUNK_ELEMENTS = 1 << 24


def _row_chunks(m: torch.Tensor) -> list[slice]:
    """Slices of rows whose differences to the whole batch fit in ``CHUNK_ELEMENTS``."""
    per_row = max(1, m[0].numel() * len(m))
    rows = max(1, CHUNK_ELEMENTS // per_row)
    return [slice(start, start + rows) for start in range(0, len(m), rows)]


def _closeness_rows(m: torch.Tensor, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:
    """For ``rows`` of m (B, K, D): exp(-L1) to every sample (r, B, K) and the sign of each
    difference (r, B, K, D)."""
    diff = m[rows].unsqueeze(1) - m.unsqueeze(0)
    return torch.exp(-diff.abs().sum(-1)), torch.sign(diff)


class _Closeness(torch.autograd.Function):
    """c_ik = sum_{j != i} exp(-||m_ik - m_jk||_1), without a (B, B, K, D) tensor.

    The plain broadcast keeps a (B, B, K, D) tensor for the backward (1 GB at batch 1024, 32
    kernels of 8). Here the forward is ``torch.cdist`` per kernel (L1), which never builds it,
    and the backward recomputes what it needs: dc/dm_a = -sum_j (g_a + g_j) exp(-L_aj)
    sign(m_a - m_j). A first-order backward (every loss but the gradient penalties) goes
    through cdist's own backward, the fastest; when the backward must itself be
    differentiable (WGAN-GP and DRAGAN differentiate D's gradient again, and cdist's backward
    has no derivative) it is written in differentiable operations, a chunk of rows at a time,
    and gives the exact second derivative."""

    @staticmethod
    def forward(ctx, m: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        per_kernel = m.transpose(0, 1).contiguous()  # (K, B, D)
        near = torch.exp(-torch.cdist(per_kernel, per_kernel, p=1))  # (K, B, B)
        ctx.save_for_backward(m, near)
        return (near.sum(-1) - 1).transpose(0, 1)  # minus each sample's own exp(0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        m, near = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a differentiable backward
            parts = []
            for rows in _row_chunks(m):
                near_rows, sign = _closeness_rows(m, rows)
                weight = (grad[rows].unsqueeze(1) + grad.unsqueeze(0)) * near_rows  # (r, B, K)
                parts.append(-(weight.unsqueeze(-1) * sign).sum(1))
            return torch.cat(parts)
        with torch.enable_grad():
            per_kernel = m.detach().transpose(0, 1).contiguous().requires_grad_(True)
            distances = torch.cdist(per_kernel, per_kernel, p=1)
        # dc_a/dL_aj = -g_a exp(-L_aj); autograd adds the two places m_a enters (rows, columns)
        upstream = -grad.transpose(0, 1).unsqueeze(2) * near
        (out,) = torch.autograd.grad(distances, per_kernel, upstream)
        return out.transpose(0, 1)


def batch_closeness(m: torch.Tensor) -> torch.Tensor:
    """(B, K, D) kernel rows -> (B, K): how close the other samples of the batch are."""
    return _Closeness.apply(m)


class MinibatchDiscrimination(nn.Module):
    """features (B, F) -> (B, F + kernels): the features with their batch closeness appended."""

    def __init__(self, in_features: int, kernels: int, kernel_dim: int = KERNEL_DIM) -> None:
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.projection = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        m = (features @ self.projection).view(-1, self.kernels, self.kernel_dim)
        return torch.cat([features, batch_closeness(m)], dim=1)


def add_minibatch_discrimination(discriminator: nn.Module, kernels: int) -> None:
    """Put the layer in front of ``discriminator.classifier`` (its last Linear), in place.

    Discriminators without a ``classifier`` Linear (the autoencoders of EBGAN and BEGAN) have
    no per-sample decision layer to feed, so they are refused with a clear error.
    """
    head = getattr(discriminator, "classifier", None)
    if not isinstance(head, nn.Linear):
        raise ValueError(
            "--stabilize minibatch-discrimination needs a discriminator with a final Linear "
            f"'classifier' layer; {type(discriminator).__name__} has none "
            "(the energy losses ebgan and began use an autoencoder)"
        )
    layer = MinibatchDiscrimination(head.in_features, kernels)
    discriminator.classifier = nn.Sequential(
        layer, nn.Linear(head.in_features + kernels, head.out_features)
    ).to(head.weight.device)


class DiscriminateMinibatches(Stabilizer):
    """``--stabilize minibatch-discrimination:kernels``: the layer in front of D's head; real
    and fake batches are judged apart, so closeness never mixes them."""

    separate_batches = True

    def adapt_discriminator(self, discriminator: nn.Module) -> None:
        add_minibatch_discrimination(discriminator, int(self.knob))
