"""PacGAN's pack(): consecutive samples side by side in the channels."""

from __future__ import annotations

import pytest
import torch

from ganwatch.stabilizers.pacgan import pack


def test_images_packed_by_consecutive_samples() -> None:
    x = torch.arange(6 * 2 * 3 * 3, dtype=torch.float32).view(6, 2, 3, 3)
    out = pack(x, 3)
    assert out.shape == (2, 6, 3, 3)
    for p in range(2):
        for j in range(3):
            torch.testing.assert_close(out[p, 2 * j : 2 * j + 2], x[3 * p + j], rtol=0, atol=0)
    # Spelled out: pack 1, block 0 is sample 3, whose first pixel is 3 * 18.
    assert out[1, 0, 0, 0].item() == 54.0
    assert out[1, 5, 2, 2].item() == x[5, 1, 2, 2].item()


def test_single_channel_images() -> None:
    x = torch.stack([torch.full((1, 2, 2), float(i)) for i in range(4)])
    out = pack(x, 2)
    assert out.shape == (2, 2, 2, 2)
    expected = torch.tensor([[0.0, 1.0], [2.0, 3.0]]).view(2, 2, 1, 1).expand(2, 2, 2, 2)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


def test_points_packed_into_features() -> None:
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
    out = pack(x, 2)
    torch.testing.assert_close(
        out, torch.tensor([[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]), rtol=0, atol=0
    )
    out4 = pack(x, 4)
    torch.testing.assert_close(
        out4, torch.arange(8, dtype=torch.float32).view(1, 8), rtol=0, atol=0
    )


def test_remainder_dropped() -> None:
    x = torch.arange(7 * 2, dtype=torch.float32).view(7, 2)
    out = pack(x, 3)
    assert out.shape == (2, 6)
    torch.testing.assert_close(out, x[:6].reshape(2, 6), rtol=0, atol=0)
    assert 12.0 not in out and 13.0 not in out  # the last sample is not in any pack


def test_non_contiguous_input_packs_by_value() -> None:
    x = torch.arange(8, dtype=torch.float32).view(2, 4).t()  # (4, 2), not contiguous
    out = pack(x, 2)
    torch.testing.assert_close(
        out, torch.tensor([[0.0, 4.0, 1.0, 5.0], [2.0, 6.0, 3.0, 7.0]]), rtol=0, atol=0
    )


def test_gradients_flow_back_to_the_samples() -> None:
    x = torch.randn(4, 2, requires_grad=True)
    (pack(x, 2) * torch.arange(4.0)).sum().backward()
    torch.testing.assert_close(
        x.grad, torch.tensor([[0.0, 1.0], [2.0, 3.0], [0.0, 1.0], [2.0, 3.0]]), rtol=0, atol=0
    )


@pytest.mark.parametrize(("batch", "m"), [(1, 2), (3, 4), (0, 2)])
def test_batch_smaller_than_pack_raises(batch: int, m: int) -> None:
    with pytest.raises(ValueError, match=rf"pacgan: a batch of {batch} samples .* pack of {m}"):
        pack(torch.zeros(batch, 1, 2, 2), m)
