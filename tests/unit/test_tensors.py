"""The tensor helpers' block-at-a-time passes give the numbers of a whole-tensor pass, at any block."""

from __future__ import annotations

import pytest
import torch

from stylemixer.neural import tensors


def _layer(n: int, c: int, h: int, w: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(n * 1000 + c)
    x = torch.randn((n, c, h, w), generator=generator) * 3.0 + 1.0
    return x.contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("block_bytes", [1, 4096, 1 << 20])
@pytest.mark.parametrize("shape", [(1, 32, 67, 129), (2, 3, 50, 41)])
def test_moment_sums_are_the_same_numbers_in_blocks(
    monkeypatch: pytest.MonkeyPatch, block_bytes: int, shape: tuple[int, int, int, int]
) -> None:
    x = _layer(*shape)
    rows = x.permute(0, 2, 3, 1)
    whole_s1 = rows.sum(dim=2, dtype=torch.float32).double().sum(dim=1)
    whole_s2 = (rows * rows).sum(dim=2).double().sum(dim=1)
    monkeypatch.setattr(tensors, "CACHE_BLOCK_BYTES", block_bytes)
    s1, s2 = tensors.moment_sums(x)
    assert s1.dtype == s2.dtype == torch.float64
    assert torch.equal(s1, whole_s1)
    assert torch.equal(s2, whole_s2)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("block_bytes", [1, 4096, 1 << 20])
def test_scale_shift_into_a_padded_interior_matches_one_pass(
    monkeypatch: pytest.MonkeyPatch, block_bytes: int, relu: bool
) -> None:
    x = _layer(1, 16, 37, 53)
    scale = torch.linspace(-2.0, 2.0, 16).reshape(1, 16, 1, 1)
    shift = torch.linspace(1.0, -1.0, 16).reshape(1, 16, 1, 1)
    expected = torch.addcmul(shift, x, scale)
    if relu:
        expected = expected.clamp(min=0.0)
    monkeypatch.setattr(tensors, "CACHE_BLOCK_BYTES", block_bytes)
    buf, inner = tensors.padded_buffer(x.shape, 2, 2)
    buf.fill_(float("nan"))
    assert tensors.scale_shift_into(x, scale, shift, inner, relu=relu) is inner
    assert torch.equal(inner, expected)
    assert buf[:, :, :2].isnan().all(), "the border is left for reflect_borders"
