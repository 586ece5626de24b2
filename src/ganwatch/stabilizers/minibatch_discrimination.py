"""Minibatch discrimination (Salimans et al. 2016): let D see how alike the samples of a batch are.

A collapsed generator makes batches of near-identical samples, which one sample alone cannot
reveal. The layer projects each sample's features to ``kernels`` rows of ``kernel_dim`` numbers,
measures for each kernel how close every other sample of the batch is
(``sum_j exp(-||M_i - M_j||_1)``), and appends those closeness numbers to the features, so the
discriminator's last layer can reject batches that lack variety.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from ganwatch.stabilizers.base import Stabilizer

KERNEL_DIM = 8
#: Elements of one chunk's pairwise tensors on a CPU: 1 Mi floats (4 MB), small enough to stay
#: in its caches, where a (B, B, K) tensor at batch 1024 (128 MB) costs more in page faults
#: and memory traffic than in arithmetic (the gradient penalties' path ran 2.4x faster too).
CHUNK_ELEMENTS = 1 << 20
#: On a GPU, where each chunk is a few kernel launches, chunks 16 times as large.
GPU_CHUNK_ELEMENTS = 1 << 24


def _chunk_elements(m: torch.Tensor) -> int:
    return CHUNK_ELEMENTS if m.device.type == "cpu" else GPU_CHUNK_ELEMENTS


def _spans(count: int, per_item: int, chunk: int) -> list[slice]:
    """Slices of ``range(count)`` whose items, ``per_item`` elements each, fit in ``chunk``
    (at least one item a slice)."""
    size = max(1, chunk // max(per_item, 1))
    return [slice(start, start + size) for start in range(0, count, size)]


def _row_chunks(m: torch.Tensor) -> list[slice]:
    """Slices of rows of m (B, K, D) whose differences to the whole batch fit in a chunk."""
    return _spans(len(m), m[0].numel() * len(m), _chunk_elements(m))


def _kernel_blocks(per_kernel: torch.Tensor) -> Iterator[tuple[slice, slice]]:
    """(kernels, rows) blocks of (K, B, D) rows whose distances to the whole batch fit in a
    chunk: several whole kernels at a time when one kernel's batch x batch fits, else rows of
    one."""
    kernels, batch, _ = per_kernel.shape
    chunk = _chunk_elements(per_kernel)
    if batch * batch <= chunk:
        for ks in _spans(kernels, batch * batch, chunk):
            yield ks, slice(0, batch)
        return
    for kernel in range(kernels):
        for rows in _spans(batch, batch, chunk):
            yield slice(kernel, kernel + 1), rows


#: exp(-L1) and (scaled) gradients below 2^-60 count as 0, so that their products stay
#: above 2^-126, float32's smallest normal number (unless two gradients of opposite sign
#: cancel to within 2^-60 of each other, which is rare and costs only speed). Subnormal
#: floats (far pairs' exp(-L1), the gradients of a discriminator sure of its batch: 1e-44 to
#: 1e-35 seen in the benchmark) make a CPU multiply and sum many times slower (a toy D's step
#: took 1.7x as long), and a pair 42 apart in L1 adds less than 1e-18 to a closeness.
NEGLIGIBLE = 2.0**-60


def _near(minus_distances: torch.Tensor) -> torch.Tensor:
    """exp(-distances), in place of ``minus_distances``, its negligible terms exactly 0."""
    return torch.nn.functional.threshold_(minus_distances.exp_(), NEGLIGIBLE, 0.0)


def _normalised(grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(grad / 2^e, 2^e), 2^e the power of two just above the largest |grad| (an exact
    scaling, undone on the result), with the values below ``NEGLIGIBLE`` of it set to 0."""
    _, exponent = torch.frexp(grad.abs().max())  # 0 for an all-zero grad: scale 1
    scale = torch.ldexp(torch.ones((), dtype=grad.dtype, device=grad.device), exponent)
    scaled = grad / scale
    return scaled.masked_fill_(scaled.abs() < NEGLIGIBLE, 0.0), scale


def _closeness_rows(m: torch.Tensor, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:
    """For ``rows`` of m (B, K, D): exp(-L1) to every sample (r, B, K) and the sign of each
    difference (r, B, K, D)."""
    diff = m[rows].unsqueeze(1) - m.unsqueeze(0)
    return torch.exp(-diff.abs().sum(-1)), torch.sign(diff)


def _differentiable_backward(m: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """dc/dm written in differentiable operations, a chunk of rows at a time, for the
    gradient penalties (WGAN-GP, DRAGAN), which differentiate D's gradient again."""
    parts = []
    for rows in _row_chunks(m):
        near_rows, sign = _closeness_rows(m, rows)
        weight = (grad[rows].unsqueeze(1) + grad.unsqueeze(0)) * near_rows  # (r, B, K)
        parts.append(-(weight.unsqueeze(-1) * sign).sum(1))
    return torch.cat(parts)


class _Closeness(torch.autograd.Function):
    """c_ik = sum_{j != i} exp(-||m_ik - m_jk||_1), block by block, never the whole batch at once.

    The plain broadcast keeps a (B, B, K, D) tensor for the backward (1 GB at batch 1024, 32
    kernels of 8). Here each block of kernels (or of rows) takes its L1 distances from
    ``torch.cdist`` and is summed at once, so only m is kept, and the backward recomputes
    each block: dc/dm_a = -sum_j (g_a + g_j) exp(-L_aj) sign(m_a - m_j). That sum is what
    cdist's own backward computes for its first argument (``_cdist_backward`` with p = 1),
    given the symmetric weights (g_a + g_j) exp(-L_aj), so one native pass per block gives
    the whole gradient (autograd through cdist(m, m) would make two, one per argument, and
    keep the distances). When the backward must itself be differentiable (cdist's backward
    has no derivative) it goes through :func:`_differentiable_backward`, which gives the
    exact second derivative. Terms below ``NEGLIGIBLE`` are 0 in the first two (see there)."""

    @staticmethod
    def forward(ctx, m: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        per_kernel = m.transpose(0, 1).contiguous()  # (K, B, D)
        kernels, batch, _ = per_kernel.shape
        closeness = torch.empty(kernels, batch, dtype=m.dtype, device=m.device)
        for ks, rows in _kernel_blocks(per_kernel):
            distances = torch.cdist(per_kernel[ks, rows], per_kernel[ks], p=1)
            closeness[ks, rows] = _near(distances.neg_()).sum(-1)
        ctx.save_for_backward(m)
        return (closeness - 1).transpose(0, 1)  # minus each sample's own exp(0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        (m,) = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a differentiable backward
            return _differentiable_backward(m, grad)
        per_kernel = m.transpose(0, 1).contiguous()  # (K, B, D)
        minus_grad, scale = _normalised(grad.transpose(0, 1).neg())  # (K, B)
        out = torch.empty_like(per_kernel)
        for ks, rows in _kernel_blocks(per_kernel):
            rows_m, all_m = per_kernel[ks, rows], per_kernel[ks]
            distances = torch.cdist(rows_m, all_m, p=1)  # (k, r, B)
            pair_grad = minus_grad[ks, rows].unsqueeze(2) + minus_grad[ks].unsqueeze(1)
            weights = _near(distances.neg()).mul_(pair_grad)  # distances kept for the call
            out[ks, rows] = torch.ops.aten._cdist_backward(weights, rows_m, all_m, 1.0, distances)
        return out.mul_(scale).transpose(0, 1)


def batch_closeness(m: torch.Tensor) -> torch.Tensor:
    """(B, K, D) kernel rows -> (B, K): how close the other samples of the batch are.

    Always in float32 or better, outside autocast: under bf16 the closeness of a spread batch
    (a sum of small terms, minus 1) would round away (bf16's step near 1 is 2^-7), and
    cdist has no bf16 kernel on a CPU. An empty batch has an empty closeness.
    """
    if len(m) == 0:
        return m.sum(-1)  # (0, K), still part of m's graph
    if m.dtype in (torch.float16, torch.bfloat16):
        m = m.float()
    with torch.autocast(m.device.type, enabled=False):
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
