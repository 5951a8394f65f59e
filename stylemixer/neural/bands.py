"""Full-resolution inference in bands, with bounded memory and instance-norm statistics of the whole image.

Why not independent tiles: every instance norm of both transformers normalises with the mean and
variance of the *whole* picture. Tiles that each take their own statistics disagree in colour and
contrast (visible seams); statistics borrowed from a downscaled pass are statistics of another
picture (measured at 1536 px: 25 dB PSNR from a 768 px pass, 32 dB from 1152 px). So the networks
run here layer by layer over horizontal bands (tiles spanning the full width):

- a band of a layer's output is computed from the rows of the layer input it needs (its halo);
  rows outside the picture are reflected exactly as a whole-image pass pads them, so each output
  row is computed once, from the same numbers as a whole-image pass, and there is no seam to
  feather (tiled and untiled agree to float rounding);
- before a normalisation is applied, its statistics are accumulated over all bands of its input
  (float64 moments), then applied band by band: tiles agree because they share them;
- what must be kept between layers is kept at the resolution it lives at: the multistyle network's
  half-resolution 32-channel map, the quarter-resolution residual stage (run on the whole picture:
  32 channels at 1/16 of the pixels), the few-channel expanding layers. On a 16 MP picture the
  32-channel full-resolution activations (2 GB each) never exist as a whole.

The price: multistyle's first layer (a 9x9 convolution of the picture) is swept once to take its
statistics before anything can be normalised; where its output fits the budget (half precision: all
of a picture up to about 9 MP by default, the top rows of a larger one) that sweep keeps it, and
elsewhere the layer runs twice. Estimating
them instead from a strided or row-sampled convolution was measured too: the strided one is slower
in oneDNN than the layer itself, and row samples shift colours visibly (45 dB, up to 21 grey
levels), so the bands stay exact. Band heights follow a memory
budget; progress is reported per band.

The style conditioning is the same as the networks' (:mod:`stylemixer.neural.networks`): per layer, K rows
of instance-norm scales and shifts mixed either by one weight vector (K,) or per pixel by a weight
map (1, K, h, w), bilinearly resized to each layer. (The regions mix does not use per-pixel maps:
it paints each style alone and composites the paintings; see :mod:`stylemixer.neural.engine`.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from stylemixer.neural.networks import NORM_EPS, StyleProjection, StyleTable
from stylemixer.neural.tensors import moment_sums, padded_buffer, reflect_borders

if TYPE_CHECKING:
    from stylemixer.neural.networks import ArbitraryTransformer, MultiStyleNet
    from stylemixer.progress import ProgressCallback

#: Rows of a layer input by index (1-D long tensor, repeats allowed), columns reflect-padded by the
#: second argument -> (1, C, len, W + 2 pad), channels-last.
ReadRows = Callable[[Tensor, int], Tensor]

#: Default working-memory budget for the bands and the tensors kept between layers, in bytes.
#: With it a 16 MP picture peaks at 1.34 GB for the whole process with one preset, 1.19-1.29 GB with two
#: by region, 1.37 GB at 4900 x 3420 (``/usr/bin/time -v`` on the CLI; see docs/full-resolution.md):
#: under the 1.5 GB the service promises, and the first layer is kept for 37 % of a 4096-pixel
#: square (at 512 MB: none, 1.11 GB peak and 7 % more time).
DEFAULT_BUDGET = 1024 * 1024 * 1024
#: Bytes per pixel a whole-picture pass of multistyle26 needs at its peak (measured: the 32-channel
#: full-resolution activation, its padded copy and the next layer's input). A picture within the
#: budget at this rate runs as one pass (one band).
ONE_PASS_BYTES_PER_PIXEL = 480
#: Bytes per full-resolution pixel of one band's working set (32-channel float activations,
#: their padded copy, per-pixel norm parameters), measured with some margin.
BAND_BYTES_PER_PIXEL = 640
#: Share of the budget one band may use; the rest is for the tensors kept between layers and the
#: quarter-resolution residual stage (whose three 32-channel maps dominate the peak at 16 MP).
BAND_SHARE = 0.25
#: Bytes per full-resolution pixel of the tensors kept between layers, in float32.
KEPT_BYTES_PER_PIXEL = 48
#: Bytes per pixel of multistyle's first-layer output kept in half precision (32 channels), so
#: that layer runs once rather than twice (once for its statistics, once for the bands).
FIRST_LAYER_BYTES_PER_PIXEL = 64
#: Bytes per full-resolution pixel of the quarter-resolution residual stage run on the whole map
#: (three 32-channel float maps at 1/16 of the pixels). Past half the budget (over 22 MP at the
#: default) the stage runs in bands too (:func:`_residual_bands`): 1.2 GB at 50 MP, 0.8 GB in bands.
QUARTER_BYTES_PER_PIXEL = 24
#: Smallest band, in full-resolution rows (a multiple of 4: the networks downsample twice).
MIN_BAND_ROWS = 16
#: A per-pixel weight map resized to a layer's size is kept for the next layer of that size when
#: it has at most this many numbers (K x H x W; 8 M = 32 MB, a 4 MP picture with two styles):
#: every layer of a size then reads it instead of resizing the map again.
MAP_CACHE_NUMBERS = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BandPlan:
    """How a picture is cut: ``rows`` full-resolution rows per band, kept tensors in ``store_dtype``;
    ``keep_rows``: multistyle's first-layer output of the picture's first ``keep_rows`` rows is kept
    (half precision) between its statistics sweep and the bands, so that layer runs once there
    instead of twice (the rest of the picture computes it again). ``residual_rows``: quarter-resolution
    rows per band of the residual stage, and of the quarter-resolution map kept before it (in
    half precision); 0 runs the stage on the whole map at once.

    Example:
        >>> BandPlan.for_size(4096, 4096).rows
        100
    """

    rows: int
    store_dtype: torch.dtype = torch.float32
    keep_rows: int = 0
    residual_rows: int = 0

    @classmethod
    def for_size(cls, height: int, width: int, budget: int = DEFAULT_BUDGET) -> BandPlan:
        """Bands of a quarter of ``budget``; kept tensors in half precision if they would crowd it."""
        kept = KEPT_BYTES_PER_PIXEL * height * width
        store = torch.float16 if kept > budget // 2 else torch.float32  # rel. error 5e-4: invisible
        if ONE_PASS_BYTES_PER_PIXEL * height * width <= budget:  # fits whole: one band, no halo work
            return cls(rows=math.ceil(height / 4) * 4)
        rows = int(budget * BAND_SHARE) // (BAND_BYTES_PER_PIXEL * width)
        rows = max(MIN_BAND_ROWS, min(rows // 4 * 4, math.ceil(height / 4) * 4))
        # Keep the first layer's output of as many whole bands as fit beside the (half-precision)
        # kept tensors in the share of the budget the bands leave: all of a 4 MP picture at the
        # default budget, part of a larger one.
        room = budget * (1 - BAND_SHARE) - KEPT_BYTES_PER_PIXEL // 2 * height * width
        keep = max(0, int(room) // (FIRST_LAYER_BYTES_PER_PIXEL * width)) // rows * rows
        residual = 0
        if QUARTER_BYTES_PER_PIXEL * height * width > budget // 2:
            # A band of the quarter-resolution stage gets the same share of the budget as a band.
            residual = max(MIN_BAND_ROWS, int(budget * BAND_SHARE) // (BAND_BYTES_PER_PIXEL * (width // 4)))
        if keep > 0:
            return cls(
                rows=rows, store_dtype=torch.float16, keep_rows=min(keep, height), residual_rows=residual
            )
        return cls(rows=rows, store_dtype=store, residual_rows=residual)


@dataclass(frozen=True, slots=True)
class Conditioning:
    """How the styles spread over the picture: one mix (``weights`` (K,)) or per pixel (``weight_map``).

    ``weight_map`` is (1, K, h, w), any h, w (bilinearly resized to each layer); its K channels sum
    to 1 at every pixel.
    """

    weights: Tensor | None = None
    weight_map: Tensor | None = None
    _resized: dict[tuple[int, int], Tensor] = field(default_factory=dict, compare=False, repr=False)

    def pixel_weights(self, size: tuple[int, int], rows: Tensor | None = None) -> Tensor:
        """``weight_map`` resized to ``size`` (rows ``rows``) as (1, K, len, W): see :func:`map_rows`.

        The whole resized map is kept per size when it is small (:data:`MAP_CACHE_NUMBERS`), so
        the many layers of one size resize it once.
        """
        assert self.weight_map is not None
        k = self.weight_map.shape[1]
        if k * size[0] * size[1] > MAP_CACHE_NUMBERS:
            return map_rows(self.weight_map, size, rows).contiguous()
        whole = self._resized.get(size)
        if whole is None:
            whole = map_rows(self.weight_map, size).contiguous()  # (1, K, H, W)
            self._resized[size] = whole
        if rows is None:
            return whole
        runs = row_runs(rows)
        if len(runs) == 1:
            return whole[:, :, runs[0][0] : runs[0][1]]
        return whole.index_select(2, rows)

    def scale_shift(
        self,
        tables: tuple[Tensor, Tensor],
        stats: tuple[Tensor, Tensor],
        size: tuple[int, int],
        rows: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """One norm layer folded into ``y * scale + shift``: (1, C, 1, 1), or maps for ``rows``.

        ``tables`` are the layer's (K, C) scales and shifts, ``stats`` its (mean, var). The
        normalisation is folded into each style's row first, so a per-pixel mix costs one small
        matrix product per pixel and no extra pass over the activation.
        """
        scale_k, shift_k = _folded(tables, stats)
        c = scale_k.shape[1]
        if self.weight_map is None:
            assert self.weights is not None
            w = self.weights.to(scale_k.dtype)
            return (w @ scale_k).reshape(1, c, 1, 1), (w @ shift_k).reshape(1, c, 1, 1)
        m = self.pixel_weights(size, rows).permute(0, 2, 3, 1)  # (1, len, W, K)
        return (m @ scale_k).permute(0, 3, 1, 2), (m @ shift_k).permute(0, 3, 1, 2)  # channels-last maps

    def normalize(
        self,
        y: Tensor,
        tables: tuple[Tensor, Tensor],
        stats: tuple[Tensor, Tensor],
        size: tuple[int, int],
        rows: Tensor | None = None,
        *,
        relu: bool,
        out: Tensor | None = None,
    ) -> Tensor:
        """``y`` (rows ``rows`` of a layer of ``size``) normalised and styled, optional ReLU, into ``out``.

        ``out`` may be ``y`` itself. With a weight map, the per-pixel scale and shift are never
        made: as the K weights sum to 1, ``sum_k m_k (s_k y + b_k)`` is ``s_0 y + b_0`` plus, per
        further style, ``m_k ((s_k - s_0) y + (b_k - b_0))``, a few passes of per-channel affine maps
        weighted by one plane each (measured 25 % less time than the scale and shift maps).

        Example (the first norm layer, two presets half and half everywhere):
            >>> tables = multistyle_tables(nets.multistyle, [3, 16])[0]
            >>> y = torch.rand(1, 32, 8, 12)
            >>> cond = Conditioning(weight_map=torch.full((1, 2, 8, 12), 0.5))
            >>> cond.normalize(y, tables, whole_stats(y), (8, 12), relu=True).shape
            torch.Size([1, 32, 8, 12])
        """
        if self.weight_map is None:
            return normalize(y, *self.scale_shift(tables, stats, size, rows), relu=relu, out=out)
        scale_k, shift_k = _folded(tables, stats)
        k, c = scale_k.shape
        m = self.pixel_weights(size, rows)  # (1, K, len, W)
        yf = y.float()
        extra: Tensor | None = None  # the sum of all but the last further style's weighted maps
        last: Tensor | None = None
        for i in range(1, k):
            u = torch.addcmul(
                (shift_k[i] - shift_k[0]).reshape(1, c, 1, 1),
                yf,
                (scale_k[i] - scale_k[0]).reshape(1, c, 1, 1),
            )
            if i == k - 1:
                last = u
            elif extra is None:
                extra = u.mul_(m[:, i : i + 1])
            else:
                extra.addcmul_(u, m[:, i : i + 1])
        # All further styles' maps are made from ``y`` before ``out`` (which may be ``y``) is written.
        out = normalize(
            yf, scale_k[0].reshape(1, c, 1, 1), shift_k[0].reshape(1, c, 1, 1), relu=False, out=out
        )
        if extra is not None:
            out.add_(extra)
        if last is not None:
            out.addcmul_(last, m[:, k - 1 : k])
        return out.clamp_(min=0.0) if relu else out


def _folded(tables: tuple[Tensor, Tensor], stats: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
    """Each style's (K, C) scale and shift with the layer's normalisation folded in."""
    gamma_k, beta_k = tables
    mean, var = stats
    scale_k = gamma_k * torch.rsqrt(var + NORM_EPS).reshape(1, -1)  # (K, C)
    return scale_k, beta_k - mean.reshape(1, -1) * scale_k


def map_rows(m: Tensor, size: tuple[int, int], rows: Tensor | None = None) -> Tensor:
    """Rows of ``m`` (1, K, h, w) resized to ``size`` as :func:`stylemixer.neural.networks.resize_map` does.

    Bilinear (half-pixel centres) when growing, area average when shrinking; with ``rows`` only
    those output rows are computed, with the same numbers as resizing the whole map.
    """
    height, width = size
    h, w = m.shape[-2:]
    if rows is None:
        rows = torch.arange(height)
    if h >= height and w >= width:
        if (h, w) == (height, width):
            return m.index_select(2, rows)
        return F.adaptive_avg_pool2d(m, size).index_select(2, rows)
    # Vertical bilinear by hand (torch's source index: (i + 0.5) * h / H - 0.5, clamped at 0).
    src = ((rows.to(torch.float64) + 0.5) * (h / height) - 0.5).clamp(min=0.0)
    i0 = src.floor().long().clamp(max=h - 1)
    i1 = torch.where(i0 < h - 1, i0 + 1, i0)
    lam = (src - i0.to(torch.float64)).to(m.dtype).reshape(1, 1, -1, 1)
    picked = m.index_select(2, i0) * (1 - lam) + m.index_select(2, i1) * lam  # (1, K, len, w)
    if w == width:
        return picked
    return F.interpolate(picked, size=(picked.shape[2], width), mode="bilinear", align_corners=False)


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


def conv_band(
    read: ReadRows, in_rows: int, conv: nn.Conv2d, o0: int, o1: int, *, pad: int, up: bool = False
) -> Tensor:
    """Output rows ``o0..o1`` of ``conv`` over the reflect-padded (and optionally x2 upsampled) input.

    ``read(rows, pad)`` gives rows of the layer input (``in_rows`` tall before upsampling), columns
    reflect-padded by ``pad``; rows beyond the picture are reflected here, so a band equals the same
    rows of a whole-picture pass.
    """
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


#: ``activate(part, rows, out)``: the activation of pre-activation rows ``part`` (picture rows
#: ``rows``) written into ``out``.
Activate = Callable[[Tensor, Tensor, Tensor], object]


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
            activate(y[:, :, a - lo : b - lo], idx[at : at + b - a], inner[:, :, at : at + b - a])
        return reflect_borders(buf, 0, pad)

    return read


def _relu_into(part: Tensor, _rows: Tensor, out: Tensor) -> Tensor:
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
    """``y * scale + shift`` (a folded norm, see :meth:`Conditioning.scale_shift`), optional ReLU."""
    if out is None:
        out = torch.empty_like(y, dtype=torch.float32, memory_format=torch.channels_last)
    torch.addcmul(shift, y.float(), scale, out=out)
    return out.clamp_(min=0.0) if relu else out


class _Progress:
    """Turns (stage weight, band i of n) into one monotone 0..1 fraction for the callback."""

    def __init__(self, weights: dict[str, float], report: ProgressCallback | None) -> None:
        self.total = sum(weights.values())
        self.weights = weights
        self.done = 0.0
        self.report = report

    def band(self, stage: str, n_bands: int) -> None:
        self.done += self.weights[stage] / n_bands
        if self.report is not None:
            self.report("stylize", min(self.done / self.total, 1.0))


def _bands(total: int, rows: int) -> list[tuple[int, int]]:
    return [(o, min(o + rows, total)) for o in range(0, total, rows)]


def _image_reader(x: Tensor) -> ReadRows:
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


def _store(shape: tuple[int, ...], dtype: torch.dtype) -> Tensor:
    """An uninitialised channels-last tensor, allocated as such: converting a fresh one instead
    copies it whole, with both layouts alive at once (measured 0.4 s and 0.3 GB at 4 MP)."""
    return torch.empty(shape, dtype=dtype, memory_format=torch.channels_last)


def _fill(
    shape: tuple[int, ...],
    bands: list[tuple[int, int]],
    compute: Callable[[int, int], Tensor],
    *,
    dtype: torch.dtype = torch.float32,
    moments: Moments | None,
    progress: _Progress,
    stage: str,
    out: Tensor | None = None,
) -> Tensor:
    """A tensor of ``shape`` made band by band by ``compute(o0, o1)``, its moments accumulated,
    each band reported. One band is returned as computed (no copy)."""
    if out is None and len(bands) == 1:
        y = compute(*bands[0])
        if moments is not None:
            moments.add(y)
        progress.band(stage, 1)
        return y
    if out is None:
        out = _store(shape, dtype)
    for o0, o1 in bands:
        y = compute(o0, o1)
        if moments is not None:
            moments.add(y)
        out[:, :, o0:o1] = y
        progress.band(stage, len(bands))
    return out


def _stored_reader(
    y: Tensor, stats: tuple[Tensor, Tensor], tables: tuple[Tensor, Tensor], cond: Conditioning, relu: bool
) -> ReadRows:
    """Rows of ``norm(y)`` (and ReLU) for a kept pre-norm tensor ``y`` with known statistics."""
    size = (y.shape[2], y.shape[3])

    def read(idx: Tensor, pad: int) -> Tensor:
        runs = row_runs(idx)
        if len(runs) == 1:
            buf, inner = padded_buffer((1, y.shape[1], idx.numel(), size[1]), 0, pad)
            cond.normalize(take_rows(y, idx), tables, stats, size, idx, relu=relu, out=inner)
            return reflect_borders(buf, 0, pad)
        # Several runs (a band at the picture's edge, with reflected rows): each normalised straight
        # into its place in the padded buffer, with no joined copy of the rows first.
        buf, inner = padded_buffer((1, y.shape[1], idx.numel(), size[1]), 0, pad)
        for lo, hi, at in runs:
            part = idx[at : at + hi - lo]
            cond.normalize(
                y[:, :, lo:hi], tables, stats, size, part, relu=relu, out=inner[:, :, at : at + hi - lo]
            )
        return reflect_borders(buf, 0, pad)

    return read


def _residual_stage(
    a: Tensor,
    blocks: list[tuple[nn.Conv2d, tuple[Tensor, Tensor], nn.Conv2d, tuple[Tensor, Tensor]]],
    cond: Conditioning,
    progress: _Progress,
) -> Tensor:
    """Residual blocks on the whole quarter-resolution map ``a`` (padded by 1).

    Each block: conv, norm, ReLU, conv, norm, add. Returns the last block's output, unpadded.
    """
    size = (a.shape[2] - 2, a.shape[3] - 2)
    # Two padded buffers serve every block (input ``a``, inner ``b``), so the stage holds three
    # 32-channel maps at a time (a, b, one convolution output), reused rather than reallocated.
    b, b_inner = padded_buffer(tuple(a.shape[:2]) + size, 1, 1)
    a_inner = a[:, :, 1:-1, 1:-1]
    for conv1, t1, conv2, t2 in blocks:
        h = conv1(a)
        cond.normalize(h, t1, whole_stats(h), size, relu=True, out=b_inner)
        del h
        reflect_borders(b, 1, 1)
        y = conv2(b)
        cond.normalize(y, t2, whole_stats(y), size, relu=False, out=y)
        a_inner.add_(y)  # the block's output: input + F(input)
        del y
        reflect_borders(a, 1, 1)
        progress.band("residual", len(blocks))
    del b
    return a_inner


def _residual_bands(
    a: Tensor,
    blocks: list[tuple[nn.Conv2d, tuple[Tensor, Tensor], nn.Conv2d, tuple[Tensor, Tensor]]],
    cond: Conditioning,
    rows: int,
    progress: _Progress,
) -> Tensor:
    """:func:`_residual_stage` band by band, ``rows`` quarter-resolution rows at a time, for a picture
    whose whole quarter-resolution maps would crowd the budget (:data:`QUARTER_BYTES_PER_PIXEL`).

    Each block's two convolution outputs are kept before their norm in half precision, their
    statistics taken over the bands (from the float band, as the whole stage takes them), and the
    block's output is added into ``a`` band by band: one float map and two half ones alive instead of
    three float maps (0.8 GB instead of 1.2 GB at 50 MP). Returns the last block's output, unpadded.
    """
    hq, wq = a.shape[2] - 2, a.shape[3] - 2
    size = (hq, wq)
    cut = _bands(hq, rows)
    a_rows = a[:, :, 1:-1]  # the picture's rows, columns already reflect-padded by 1
    read_a: ReadRows = lambda idx, _pad: take_rows(a_rows, idx)  # noqa: E731
    a_inner = a[:, :, 1:-1, 1:-1]
    quiet = _Progress({"block": 1.0}, None)  # the stage reports per block, as on the whole map
    for conv1, t1, conv2, t2 in blocks:
        m1 = Moments()
        h = _fill(
            (1, conv1.out_channels, hq, wq),
            cut,
            lambda o0, o1, conv=conv1: conv_band(read_a, hq, conv, o0, o1, pad=1),
            dtype=torch.float16,
            moments=m1,
            progress=quiet,
            stage="block",
        )
        read_h = _stored_reader(h, m1.stats(), t1, cond, relu=True)
        m2 = Moments()
        y = _fill(
            (1, conv2.out_channels, hq, wq),
            cut,
            lambda o0, o1, conv=conv2, read=read_h: conv_band(read, hq, conv, o0, o1, pad=1),
            dtype=torch.float16,
            moments=m2,
            progress=quiet,
            stage="block",
        )
        del h, read_h  # the reader holds the tensor
        stats2 = m2.stats()
        for o0, o1 in cut:  # the block's output: input + F(input)
            part = cond.normalize(y[:, :, o0:o1], t2, stats2, size, torch.arange(o0, o1), relu=False)
            a_inner[:, :, o0:o1].add_(part)
        del y
        reflect_borders(a, 1, 1)
        progress.band("residual", len(blocks))
    return a_inner


def _quarter_input(
    y2: Tensor, stats: tuple[Tensor, Tensor], tables: tuple[Tensor, Tensor], cond: Conditioning, rows: int
) -> Tensor:
    """The residual stage's padded input from the kept quarter-resolution pre-norm map ``y2``:
    normalised and ReLU'd band by band (``rows`` at a time; 0: at once) into a padded float buffer."""
    size = (y2.shape[2], y2.shape[3])
    a, a_inner = padded_buffer(tuple(y2.shape), 1, 1)
    if rows == 0:
        cond.normalize(y2, tables, stats, size, relu=True, out=a_inner)
    for o0, o1 in _bands(size[0], rows) if rows else ():
        part = y2[:, :, o0:o1]
        cond.normalize(part, tables, stats, size, torch.arange(o0, o1), relu=True, out=a_inner[:, :, o0:o1])
    return reflect_borders(a, 1, 1)


def _tensor_reader(t: Tensor) -> ReadRows:
    """Rows of a kept tensor as they are (columns reflect-padded when asked)."""
    return lambda idx, pad: take_rows(t, idx) if pad == 0 else pad_cols(take_rows(t, idx), pad)


def _expand_and_finish(
    handed: list[Tensor],
    layers: list[tuple[nn.Conv2d, tuple[Tensor, Tensor]]],
    cond: Conditioning,
    plan: BandPlan,
    progress: _Progress,
) -> np.ndarray:
    """The expanding half shared by both networks: up x2 + 3x3, up x2 + 3x3, 9x9, norm, sigmoid.

    ``handed`` holds the residual stage's output and nothing else does (the caller hands it over
    in the list): it is freed once the first expanding layer has read it, before the full-resolution
    layers are kept (400 MB at 50 MP)."""
    (conv_a, tab_a), (conv_b, tab_b), (conv_c, tab_c) = layers
    r = handed.pop()
    hq, wq = r.shape[2], r.shape[3]
    hh, hf = hq * 2, hq * 4
    ident = _tensor_reader(r)
    # Half resolution: up x2 + 3x3 (+ norm, ReLU).
    ma = Moments()
    ya = _fill(
        (1, conv_a.out_channels, hh, wq * 2),
        _bands(hh, plan.rows // 2),
        lambda o0, o1, read=ident: conv_band(read, hq, conv_a, o0, o1, pad=1, up=True),
        dtype=plan.store_dtype,
        moments=ma,
        progress=progress,
        stage="expand_a",
    )
    del ident, r  # the residual output is read: freed here
    read_a = _stored_reader(ya, ma.stats(), tab_a, cond, relu=True)
    # Full resolution: up x2 + 3x3 (+ norm, ReLU), kept padded by the 9x9's reach.
    mb = Moments()
    yb = _fill(
        (1, conv_b.out_channels, hf, wq * 4),
        _bands(hf, plan.rows),
        lambda o0, o1, read=read_a: conv_band(read, hh, conv_b, o0, o1, pad=1, up=True),
        dtype=plan.store_dtype,
        moments=mb,
        progress=progress,
        stage="expand_b",
    )
    del ya, read_a  # the reader holds the tensor
    read_b = _stored_reader(yb, mb.stats(), tab_b, cond, relu=True)
    # 9x9 to RGB (+ norm), then sigmoid.
    mc = Moments()
    yc = _fill(
        (1, 3, hf, wq * 4),
        _bands(hf, plan.rows),
        lambda o0, o1, read=read_b: conv_band(read, hf, conv_c, o0, o1, pad=4),
        dtype=plan.store_dtype,
        moments=mc,
        progress=progress,
        stage="expand_c",
    )
    del yb, read_b
    stats_c = mc.stats()
    out = np.empty((hf, wq * 4, 3), dtype=np.uint8)
    for o0, o1 in _bands(hf, plan.rows):
        rows = torch.arange(o0, o1)
        y = torch.sigmoid(cond.normalize(yc[:, :, o0:o1], tab_c, stats_c, (hf, wq * 4), rows, relu=False))
        out[o0:o1] = y[0].clamp(0.0, 1.0).mul(255.0).add_(0.5).to(torch.uint8).permute(1, 2, 0).numpy()
        progress.band("finish", len(_bands(hf, plan.rows)))
    return out


# Relative cost of each stage (multiply-adds per full-resolution pixel), for the progress fraction.
_MULTISTYLE_COST = {
    "stats": 7800,
    "contract": 10100,
    "quarter": 600,
    "residual": 6900,
    "expand_a": 600,
    "expand_b": 300,
    "expand_c": 1000,
    "finish": 100,
}
_ARBITRARY_COST = {
    "contract": 3400,
    "residual": 5800,
    "expand_a": 1200,
    "expand_b": 1200,
    "expand_c": 2000,
    "finish": 100,
}


def multistyle_tables(net: MultiStyleNet, indices: list[int]) -> list[tuple[Tensor, Tensor]]:
    """Each norm layer's (K, C) scale and shift rows for the chosen presets, in layer order."""
    return [(m.gamma[indices], m.beta[indices]) for m in net.modules() if isinstance(m, StyleTable)]


def run_multistyle(
    net: MultiStyleNet,
    image: Tensor,
    indices: list[int],
    cond: Conditioning,
    *,
    plan: BandPlan,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """multistyle26 over ``image`` in bands -> uint8 (H, W, 3).

    ``image`` is uint8 (H, W, 3) or float (1, 3, H, W) in 0..1, sides a multiple of 4. ``indices``
    are the K presets ``cond`` mixes.

    Example (preset 16, in bands of 32 rows):
        >>> image = torch.from_numpy(np.array(photo.resize((96, 64))))  # uint8 (64, 96, 3)
        >>> run_multistyle(nets.multistyle, image, [16], Conditioning(torch.ones(1)), plan=BandPlan(32)).shape
        (64, 96, 3)
    """
    h, w = (image.shape[0], image.shape[1]) if image.dtype == torch.uint8 else image.shape[2:]
    tables = multistyle_tables(net, indices)
    c0, c1, c2 = net.contract
    prog = _Progress(_MULTISTYLE_COST, progress)
    read_x = _image_reader(image)
    bands_full = _bands(h, plan.rows)

    # First layer's statistics: in one band, from its output itself (as a whole-picture pass);
    # in several, from a first sweep of that layer over the bands (its 9x9 convolution only: about
    # an eighth of the work; sampling rows or columns instead visibly shifted colours).
    # The sweep's output of the first ``plan.keep_rows`` rows is kept, and the bands read it there.
    stats0: tuple[Tensor, Tensor] | None = None
    first: Tensor | None = None
    kept = min(plan.keep_rows, h) if len(bands_full) > 1 else 0
    if len(bands_full) > 1:
        m0 = Moments()
        if kept:
            first = _store((1, c0.conv.out_channels, kept, w), torch.float16)
        for o0, o1 in bands_full:
            y0 = conv_band(read_x, h, c0.conv, o0, o1, pad=4)
            m0.add(y0)
            if first is not None and o0 < kept:
                first[:, :, o0 : min(o1, kept)] = y0[:, :, : min(o1, kept) - o0]
            del y0
            prog.band("stats", len(bands_full))
        stats0 = m0.stats()
    else:
        prog.band("stats", 1)  # nothing to do beforehand

    def a0_rows(lo: int, hi: int) -> tuple[Tensor, Activate]:  # full resolution, 32 channels
        if first is not None and hi <= kept:
            y = first[:, :, lo:hi]
        elif first is not None and lo < kept:  # the band across the last kept row: make the rest
            rest = conv_band(read_x, h, c0.conv, kept, hi, pad=4)
            y = torch.cat([first[:, :, lo:kept].float(), rest], dim=2).contiguous(
                memory_format=torch.channels_last
            )
        else:
            y = conv_band(read_x, h, c0.conv, lo, hi, pad=4)
        stats = stats0 if stats0 is not None else whole_stats(y)  # one band: lo..hi is the whole picture

        def activate(part: Tensor, rows: Tensor, out: Tensor) -> Tensor:  # normalised, ReLU
            return cond.normalize(part, tables[0], stats, (h, w), rows, relu=True, out=out)

        return y, activate

    y2, stats2 = _half_to_quarter(
        activation_read(a0_rows), (h, w), (c1.conv, tables[1], c2.conv), cond, plan=plan, prog=prog
    )
    first = None  # read by a0_rows only: freed before the residual stage, where the peak is
    a = _quarter_input(y2, stats2, tables[2], cond, plan.residual_rows)
    del y2
    blocks = [
        (b.conv1.conv, tables[3 + 2 * i], b.conv2.conv, tables[4 + 2 * i]) for i, b in enumerate(net.residual)
    ]
    if plan.residual_rows:
        r = _residual_bands(a, blocks, cond, plan.residual_rows, prog)
    else:
        r = _residual_stage(a, blocks, cond, prog)
    e0, e1, e2 = net.expand
    handed = [r]  # the only reference left to the residual output (and to ``a``, whose view it is)
    del a, r
    return _expand_and_finish(
        handed, [(e0.conv, tables[15]), (e1.conv, tables[16]), (e2.conv, tables[17])], cond, plan, prog
    )


def _half_to_quarter(
    read_a0: ReadRows,
    size: tuple[int, int],
    layers: tuple[nn.Conv2d, tuple[Tensor, Tensor], nn.Conv2d],
    cond: Conditioning,
    *,
    plan: BandPlan,
    prog: _Progress,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """multistyle's second and third layers: the half-resolution output kept (its statistics taken
    over the bands), then the quarter-resolution pre-norm output of the third, returned whole with
    its statistics (kept in half precision when the residual stage runs in bands)."""
    (h, w), (conv1, tab1, conv2) = size, layers
    m1 = Moments()
    y1 = _fill(
        (1, 32, h // 2, w // 2),
        _bands(h // 2, plan.rows // 2),
        lambda o0, o1: conv_band(read_a0, h, conv1, o0, o1, pad=1),
        dtype=plan.store_dtype,
        moments=m1,
        progress=prog,
        stage="contract",
    )
    read_a1 = _stored_reader(y1, m1.stats(), tab1, cond, relu=True)
    m2 = Moments() if plan.residual_rows else None
    y2 = _fill(
        (1, 32, h // 4, w // 4),
        _bands(h // 4, plan.rows // 4),
        lambda o0, o1: conv_band(read_a1, h // 2, conv2, o0, o1, pad=1),
        dtype=torch.float16 if plan.residual_rows else torch.float32,
        moments=m2,
        progress=prog,
        stage="quarter",
    )
    return y2, (m2.stats() if m2 is not None else whole_stats(y2))


def arbitrary_tables(net: ArbitraryTransformer, styles: Tensor) -> list[tuple[Tensor, Tensor]]:
    """Each norm layer's (K, C) scale and shift rows for K style vectors (K, 100), in layer order."""
    return [(m.gamma(styles), m.beta(styles)) for m in net.modules() if isinstance(m, StyleProjection)]


def run_arbitrary(
    net: ArbitraryTransformer,
    image: Tensor,
    styles: Tensor,
    cond: Conditioning,
    *,
    plan: BandPlan,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """The arbitrary transformer over ``image`` in bands -> uint8 (H, W, 3).

    ``styles`` (K, 100) are the style vectors ``cond`` mixes. Its contracting layers have no
    normalisation, so they stream straight from the picture to quarter resolution.

    Example (a float picture this time, one style, in bands of 32 rows):
        >>> vec = nets.predictor(torch.rand(1, 3, 256, 256))
        >>> one = Conditioning(weights=torch.ones(1))
        >>> out = run_arbitrary(nets.transformer, torch.rand(1, 3, 64, 96), vec, one, plan=BandPlan(32))
        >>> out.shape, out.dtype
        ((64, 96, 3), dtype('uint8'))
    """
    h, w = (image.shape[0], image.shape[1]) if image.dtype == torch.uint8 else image.shape[2:]
    tables = arbitrary_tables(net, styles)
    c0, c1, c2 = net.contract
    prog = _Progress(_ARBITRARY_COST, progress)
    read_x = _image_reader(image)
    read_a0 = activation_read(lambda lo, hi: (conv_band(read_x, h, c0, lo, hi, pad=4), _relu_into))
    read_a1 = activation_read(lambda lo, hi: (conv_band(read_a0, h, c1, lo, hi, pad=1), _relu_into))
    a, inner = padded_buffer((1, 32, h // 4, w // 4), 1, 1)
    _fill(
        tuple(inner.shape),
        _bands(h // 4, plan.rows // 4),
        lambda o0, o1: F.relu_(conv_band(read_a1, h // 2, c2, o0, o1, pad=1)),
        moments=None,
        progress=prog,
        stage="contract",
        out=inner,
    )
    reflect_borders(a, 1, 1)
    blocks = [
        (b.conv1.conv, tables[2 * i], b.conv2.conv, tables[2 * i + 1]) for i, b in enumerate(net.residual)
    ]
    if plan.residual_rows:
        r = _residual_bands(a, blocks, cond, plan.residual_rows, prog)
    else:
        r = _residual_stage(a, blocks, cond, prog)
    e0, e1, e2 = net.expand
    handed = [r]  # the only reference left to the residual output (and to ``a``, whose view it is)
    del a, r
    return _expand_and_finish(
        handed, [(e0.conv, tables[10]), (e1.conv, tables[11]), (e2.conv, tables[12])], cond, plan, prog
    )
