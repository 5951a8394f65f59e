"""The last layers' convolution on 2 x 2 phases gives a plain convolution's numbers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from stylemixer.neural.networks import ArbitraryTransformer, MultiStyleNet, PhaseConv2d


@pytest.mark.parametrize("block_rows", [128, 6, 5])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("size", [(40, 64), (41, 64), (40, 63), (9, 10)])
def test_phases_match_a_plain_convolution(
    monkeypatch: pytest.MonkeyPatch, block_rows: int, bias: bool, size: tuple[int, int]
) -> None:
    monkeypatch.setattr(PhaseConv2d, "BLOCK_ROWS", block_rows)
    torch.manual_seed(sum(size))
    conv = PhaseConv2d(8, 3, 9, bias=bias)
    x = torch.rand(2, 8, *size).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        got = conv(x)
    expected = F.conv2d(x, conv.weight, conv.bias)
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-5


def test_new_weights_are_rearranged_again() -> None:
    conv = PhaseConv2d(4, 3, 9)
    x = torch.rand(1, 4, 20, 20)
    with torch.inference_mode():
        conv(x)
    with torch.no_grad():
        conv.weight.mul_(-2.0)
    with torch.inference_mode():
        got = conv(x)
    assert (got - F.conv2d(x, conv.weight, conv.bias)).abs().max().item() < 1e-5


def test_only_the_narrow_nine_by_nine_layers_run_on_phases() -> None:
    for net in (MultiStyleNet(), ArbitraryTransformer()):
        phased = [layer for layer in net.layers() if isinstance(getattr(layer, "conv", None), PhaseConv2d)]
        assert phased == [net.expand[-1]]


def test_a_strided_or_even_kernel_is_refused() -> None:
    with pytest.raises(ValueError, match="stride-1"):
        PhaseConv2d(4, 3, 9, 2)
    with pytest.raises(ValueError, match="odd kernel"):
        PhaseConv2d(4, 3, 4)
