"""Rows of a layer: how the band-by-band sweep reads, convolves and measures part of a picture.

A layer's input is read by rows (:data:`ReadRows`): the rows of the picture itself
(:func:`image_rows`), of a kept tensor normalised as they are read, or of a layer made on demand
(:func:`activation_read`, :func:`streamed_rows`). Rows beyond the picture are reflected as a
whole-picture pass pads them (:func:`reflect_index`), so :func:`conv_band` computes the very rows a
whole pass computes; :class:`Moments` takes a layer's statistics over its bands with the sums the
networks' own norm takes (:func:`~stylemixer.neural.tensors.moment_sums`). The sweep itself, which
decides which rows to ask for, is :mod:`stylemixer.neural.bands`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor

from stylemixer.neural.tensors import moment_sums, padded_buffer, reflect_borders, scale_shift_into

if TYPE_CHECKING:
    from stylemixer.neural.networks import ConvLayer

#: Rows of a layer input by index (1-D long tensor, repeats allowed), columns reflect-padded by the
#: second argument -> (1, C, len, W + 2 pad), channels-last.
ReadRows = Callable[[Tensor, int], Tensor]


def reflect_index(i: Tensor, n: int) -> Tensor:
    """Indices outside 0..n-1 reflected as reflect padding does (no edge repeat)."""
    i = torch.where(i < 0, -i, i)
    return torch.where(i >= n, 2 * (n - 1) - i, i)


def row_runs(idx: Tensor) -> list[tuple[int, int, int]]:
    """``idx`` as runs of consecutive rows: (source start, source end, position in ``idx``)."""
    values = idx.tolist()
    runs: list[tuple[int, int, int]] = []
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[i - 1] + 1:
            runs.append((values[start], values[i - 1] + 1, start))
            start = i
    return runs


def take_rows(t: Tensor, idx: Tensor) -> Tensor:
    """``t.index_select(2, idx)``: a view when ``idx`` is one run of rows (the usual case), else
    the runs joined (a band at the picture's edge, whose few reflected rows come first or last)."""
    runs = row_runs(idx)
    if len(runs) == 1:
        lo, hi, _ = runs[0]
        return t[:, :, lo:hi]
    return torch.cat([t[:, :, lo:hi] for lo, hi, _ in runs], dim=2)


def pad_cols(x: Tensor, pad: int) -> Tensor:
    """Reflect-pad the columns of ``x`` (1, C, h, W) into a channels-last buffer."""
    buf, inner = padded_buffer(tuple(x.shape), 0, pad)
    inner.copy_(x)
    return reflect_borders(buf, 0, pad)


def conv_band(read: ReadRows, in_rows: int, layer: ConvLayer, o0: int, o1: int) -> Tensor:
    """Output rows ``o0..o1`` of ``layer``'s convolution over its reflect-padded (and, for an
    upsampling layer, x2 upsampled) input.

    ``read(rows, pad)`` gives rows of the layer input (``in_rows`` tall before upsampling), columns
    reflect-padded by ``pad``; rows beyond the picture are reflected here, so a band equals the same
    rows of a whole-picture pass.
    """
    conv, pad, up = layer.conv, layer.pad, layer.upsample
    k, s = conv.kernel_size[0], conv.stride[0]
    padded = torch.arange(o0 * s, (o1 - 1) * s + k)
    n = in_rows * (2 if up else 1)
    src = reflect_index(padded - pad, n)
    if up:
        return conv(upsample_rows(read, src // 2, pad))
    return conv(read(src, pad))  # read: (1, C, len, W + 2 pad), channels-last


def upsample_rows(read: ReadRows, idx: Tensor, pad: int) -> Tensor:
    """Rows ``idx`` of the layer input (repeats allowed), nearest x2 in width, columns reflect-padded.

    Each distinct source row is read (normalised) once, then written twice over in width straight
    into the padded buffer: a nearest x2 upsampling whose rows repeat, at one copy of the band.
    """
    new = torch.ones_like(idx, dtype=torch.bool)
    new[1:] = idx[1:] != idx[:-1]
    src = read(idx[new], 0)  # (1, C, distinct rows, W)
    at = torch.cumsum(new, 0) - 1  # row of ``src`` for each of ``idx``
    _, c, _, w = src.shape
    buf, inner = padded_buffer((1, c, idx.numel(), 2 * w), 0, pad)
    rows = src.permute(0, 2, 3, 1).index_select(1, at)  # (1, len, W, C)
    inner.permute(0, 2, 3, 1).unflatten(2, (w, 2)).copy_(rows.unsqueeze(3).expand(-1, -1, -1, 2, -1))
    return reflect_borders(buf, 0, pad)


#: ``activate(part, out)``: the activation of pre-activation rows ``part`` written into ``out``.
Activate = Callable[[Tensor, Tensor], object]


def activation_read(produce: Callable[[int, int], tuple[Tensor, Activate]]) -> ReadRows:
    """A :data:`ReadRows` over rows made on demand, activated straight into the padded buffer.

    ``produce(lo, hi)`` gives the pre-activation rows lo..hi-1 and how to activate them. Each run
    of the requested rows (the reflected rows at the picture's edge are runs of their own) is
    activated into its place, so the band is written once, with no joined copy.
    """

    def read(idx: Tensor, pad: int) -> Tensor:
        lo, hi = int(idx.min()), int(idx.max()) + 1
        y, activate = produce(lo, hi)
        buf, inner = padded_buffer((1, y.shape[1], idx.numel(), y.shape[3]), 0, pad)
        for a, b, at in row_runs(idx):
            activate(y[:, :, a - lo : b - lo], inner[:, :, at : at + b - a])
        return reflect_borders(buf, 0, pad)

    return read


def relu_into(part: Tensor, out: Tensor) -> Tensor:
    """ReLU of ``part`` written into ``out`` (an :data:`Activate`)."""
    return torch.clamp(part, min=0.0, out=out)


class Moments:
    """Per-channel mean and biased variance accumulated over bands.

    With the same sums as :func:`stylemixer.neural.networks.channel_stats`
    (:func:`~stylemixer.neural.tensors.moment_sums`), so bands agree with a whole-picture pass.
    """

    def __init__(self) -> None:
        self.count = 0
        self.s1: Tensor | None = None
        self.s2: Tensor | None = None

    def add(self, y: Tensor) -> None:
        """Add a band (1, C, h, w)."""
        s1, s2 = (t.sum(dim=0) for t in moment_sums(y))
        self.s1 = s1 if self.s1 is None else self.s1 + s1
        self.s2 = s2 if self.s2 is None else self.s2 + s2
        self.count += y.shape[2] * y.shape[3]

    def stats(self) -> tuple[Tensor, Tensor]:
        """(mean, var) as float32 (1, C, 1, 1)."""
        assert self.s1 is not None
        assert self.s2 is not None
        mean = self.s1 / self.count
        var = (self.s2 / self.count - mean.square()).clamp(min=0.0)
        return mean.float().reshape(1, -1, 1, 1), var.float().reshape(1, -1, 1, 1)


def whole_stats(y: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and biased variance of each channel of a whole tensor, as the networks take them."""
    moments = Moments()
    moments.add(y)
    return moments.stats()


def normalize(y: Tensor, scale: Tensor, shift: Tensor, *, relu: bool, out: Tensor | None = None) -> Tensor:
    """``y * scale + shift`` (a folded norm, see :meth:`stylemixer.neural.bands.StyledNorm.scale_shift`),
    optional ReLU."""
    if out is None:
        out = torch.empty_like(y, dtype=torch.float32, memory_format=torch.channels_last)
    return scale_shift_into(y.float(), scale, shift, out, relu=relu)


def image_rows(x: Tensor) -> ReadRows:
    """Rows of an RGB picture kept as uint8 (H, W, 3) (or float (1, 3, H, W)) as float rows."""

    def read(idx: Tensor, pad: int) -> Tensor:
        if x.dtype == torch.uint8:
            buf, inner = padded_buffer((1, 3, idx.numel(), x.shape[1]), 0, pad)
            for lo, hi, at in row_runs(idx):
                rows = x[lo:hi].permute(2, 0, 1).unsqueeze(0)  # (1, 3, n, W) view of (n, W, 3)
                torch.mul(rows, 1.0 / 255.0, out=inner[:, :, at : at + hi - lo])
            return reflect_borders(buf, 0, pad)
        return pad_cols(take_rows(x, idx), pad)

    return read


def streamed_rows(read: ReadRows, rows_in: int, layer: ConvLayer) -> ReadRows:
    """Rows of a layer no style conditions (bias, ReLU), made on demand from its input's rows."""
    return activation_read(lambda lo, hi: (conv_band(read, rows_in, layer, lo, hi), relu_into))


def convolved(
    read: ReadRows, rows_in: int, layer: ConvLayer, *, relu: bool = False
) -> Callable[[int, int], Tensor]:
    """Rows ``o0..o1`` of ``layer``'s convolution from its input's rows, ReLU in place if asked."""

    def compute(o0: int, o1: int) -> Tensor:
        y = conv_band(read, rows_in, layer, o0, o1)
        return F.relu_(y) if relu else y

    return compute
