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

The sweep walks the network's own description (:meth:`stylemixer.neural.networks.StyleTransformer.layers`)
and decides how to run each layer from what the layer is, never from where it stands:

- a contracting layer no style conditions streams: its rows are made on demand from the rows of its
  input, as the next layer asks for them;
- a normalised contracting layer at full resolution is swept once for its statistics, then its rows
  are made again on demand (kept from the sweep where the plan has room);
- any other normalised layer before the residual blocks is kept whole at its resolution, its
  statistics taken as its bands are made; the last one is the quarter-resolution map the residual
  blocks run on, whole;
- each expanding layer is kept (few channels), then read normalised by the next.

The style conditioning is the networks' own: per normalised layer, the K styles' rows of scales and
shifts (:meth:`~stylemixer.neural.networks.StyleTable.params`) mixed by one weight vector (K,).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from stylemixer.neural.networks import NORM_EPS, ConvLayer, Residual
from stylemixer.neural.rows import (
    Activate,
    Moments,
    ReadRows,
    activation_read,
    conv_band,
    convolved,
    image_rows,
    normalize,
    pad_cols,
    row_runs,
    streamed_rows,
    take_rows,
    whole_stats,
)
from stylemixer.neural.tensors import padded_buffer, reflect_borders

if TYPE_CHECKING:
    from collections.abc import Callable

    from stylemixer.neural.networks import StyleTransformer
    from stylemixer.progress import ProgressCallback

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
#: Bytes per full-resolution pixel of one band's working set (32-channel float activations and
#: their padded copy), measured with some margin.
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
#: default) the stage runs in bands too (:meth:`_Sweep.residual_bands`): 1.2 GB at 50 MP, 0.8 GB in bands.
QUARTER_BYTES_PER_PIXEL = 24
#: Smallest band, in full-resolution rows (a multiple of 4: the networks downsample twice).
MIN_BAND_ROWS = 16
#: Relative cost of the last step (sigmoid and conversion to bytes), in multiply-adds per pixel, for
#: the progress fraction (each layer's own is counted from its convolution).
FINISH_COST = 100


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
class StyledNorm:
    """One normalised layer for one painting: the K styles' scales and shifts ``gamma``, ``beta``
    (K, C) and the ``weights`` (K,) that mix them.

    Example (the first layer of multistyle26, two presets half and half):
        >>> layer = nets.multistyle.contract[0]
        >>> norm = StyledNorm(*layer.style.params(torch.eye(26)[[3, 16]]), torch.tensor([0.5, 0.5]))
        >>> y = torch.rand(1, 32, 8, 12)
        >>> norm.normalize(y, whole_stats(y), relu=True).shape
        torch.Size([1, 32, 8, 12])
    """

    gamma: Tensor
    beta: Tensor
    weights: Tensor

    def scale_shift(self, stats: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        """The layer folded into ``y * scale + shift`` (1, C, 1, 1) for its statistics ``stats``.

        The normalisation is folded into each style's row first, then the rows are mixed.
        """
        mean, var = stats
        scale_k = self.gamma * torch.rsqrt(var + NORM_EPS).reshape(1, -1)  # (K, C)
        shift_k = self.beta - mean.reshape(1, -1) * scale_k
        w = self.weights.to(scale_k.dtype)
        c = scale_k.shape[1]
        return (w @ scale_k).reshape(1, c, 1, 1), (w @ shift_k).reshape(1, c, 1, 1)

    def normalize(
        self, y: Tensor, stats: tuple[Tensor, Tensor], *, relu: bool, out: Tensor | None = None
    ) -> Tensor:
        """Rows ``y`` of the layer normalised and styled, optional ReLU, into ``out`` (may be ``y``)."""
        return normalize(y, *self.scale_shift(stats), relu=relu, out=out)


def styled_norms(net: StyleTransformer, styles: Tensor, weights: Tensor) -> dict[ConvLayer, StyledNorm]:
    """Each normalised layer's :class:`StyledNorm` for K ``styles`` (K, D) in the network's own terms
    (rows of preset weights, or style vectors) mixed by ``weights`` (K,)."""
    convs = [
        conv
        for layer in net.layers()
        for conv in ((layer.conv1, layer.conv2) if isinstance(layer, Residual) else (layer,))
    ]
    return {conv: StyledNorm(*conv.style.params(styles), weights) for conv in convs if conv.style is not None}


class _Progress:
    """Turns the cost of each band done into one monotone 0..1 fraction for the callback."""

    def __init__(self, total: float, report: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0.0
        self.report = report

    def band(self, cost: float, n_bands: int) -> None:
        """One of ``n_bands`` bands of a step costing ``cost`` is done."""
        self.done += cost / n_bands
        if self.report is not None:
            self.report("stylize", min(self.done / self.total, 1.0))


def _cost(layer: ConvLayer, scale: int) -> float:
    """Multiply-adds per full-resolution pixel of ``layer``, whose output is at 1/``scale`` of it."""
    conv = layer.conv
    k = conv.kernel_size[0] * conv.kernel_size[1]
    return conv.in_channels * conv.out_channels // conv.groups * k / scale**2


def _swept(layer: ConvLayer, scale: int) -> bool:
    """Whether a contracting layer is swept for its statistics and made again (normalised, at full
    resolution, where keeping it whole would not fit) rather than kept or streamed."""
    return layer.conditioned and scale == 1


def _scales(layers: list[ConvLayer], scale: int) -> list[int]:
    """The output scale of each of ``layers`` (1: full resolution, 4: a quarter), from ``scale``."""
    out = []
    for layer in layers:
        scale = scale * layer.stride // (2 if layer.upsample else 1)
        out.append(scale)
    return out


def _total_cost(net: StyleTransformer) -> float:
    """The whole sweep's cost: every layer once, a swept one twice, and the finish."""
    contract = list(net.contract)
    scales = _scales(contract, 1)
    total = sum(
        _cost(layer, s) * (2 if _swept(layer, s) else 1) for layer, s in zip(contract, scales, strict=True)
    )
    blocks = list(net.residual)
    total += sum(_cost(b.conv1, scales[-1]) + _cost(b.conv2, scales[-1]) for b in blocks)
    expand = list(net.expand)
    total += sum(_cost(layer, s) for layer, s in zip(expand, _scales(expand, scales[-1]), strict=True))
    return total + FINISH_COST


def _bands(total: int, rows: int) -> list[tuple[int, int]]:
    return [(o, min(o + rows, total)) for o in range(0, total, rows)]


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
    cost: float,
    out: Tensor | None = None,
) -> Tensor:
    """A tensor of ``shape`` made band by band by ``compute(o0, o1)``, its moments accumulated,
    each band reported. One band is returned as computed (no copy)."""
    if out is None and len(bands) == 1:
        y = compute(*bands[0])
        if moments is not None:
            moments.add(y)
        progress.band(cost, 1)
        return y
    if out is None:
        out = _store(shape, dtype)
    for o0, o1 in bands:
        y = compute(o0, o1)
        if moments is not None:
            moments.add(y)
        out[:, :, o0:o1] = y
        progress.band(cost, len(bands))
    return out


def _stored_reader(y: Tensor, stats: tuple[Tensor, Tensor], norm: StyledNorm, relu: bool) -> ReadRows:
    """Rows of ``norm(y)`` (and ReLU) for a kept pre-norm tensor ``y`` with known statistics.

    A band at the picture's edge asks for several runs of rows (reflected ones first or last): each
    is normalised straight into its place in the padded buffer, with no joined copy of the rows.
    """

    def read(idx: Tensor, pad: int) -> Tensor:
        buf, inner = padded_buffer((1, y.shape[1], idx.numel(), y.shape[3]), 0, pad)
        for lo, hi, at in row_runs(idx):
            norm.normalize(y[:, :, lo:hi], stats, relu=relu, out=inner[:, :, at : at + hi - lo])
        return reflect_borders(buf, 0, pad)

    return read


def _tensor_reader(t: Tensor) -> ReadRows:
    """Rows of a kept tensor as they are (columns reflect-padded when asked); the reader alone
    holds ``t``."""
    return lambda idx, pad: take_rows(t, idx) if pad == 0 else pad_cols(take_rows(t, idx), pad)


def _kept_in_half(
    read: ReadRows, shape: tuple[int, ...], cut: list[tuple[int, int]], layer: ConvLayer
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """``layer``'s pre-norm output of ``shape`` made over the bands ``cut``, kept in half precision,
    and its statistics (taken from each float band before it is stored). Reports no progress."""
    moments = Moments()
    rows_in = shape[2]  # a residual block's layers keep the map's size
    y = _fill(
        shape,
        cut,
        convolved(read, rows_in, layer),
        dtype=torch.float16,
        moments=moments,
        progress=_Progress(1.0, None),
        cost=0.0,
    )
    return y, moments.stats()


@dataclass(frozen=True, slots=True)
class _Sweep:
    """One painting in bands: its layers' norms, the plan, and the progress it reports."""

    norms: dict[ConvLayer, StyledNorm]
    plan: BandPlan
    prog: _Progress

    def swept(self, read: ReadRows, size: tuple[int, int], layer: ConvLayer) -> ReadRows:
        """Rows of a normalised layer at full resolution, made on demand: too large to keep whole,
        it is swept once over the bands for its statistics (its convolution only), and the sweep's
        output of the picture's first ``plan.keep_rows`` rows is kept (half precision) for the
        bands to read. In one band its statistics come from its output itself, as a whole-picture
        pass takes them.
        """
        (h, w), plan, norm = size, self.plan, self.norms[layer]
        bands = _bands(h, plan.rows)
        cost = _cost(layer, 1)
        stats: tuple[Tensor, Tensor] | None = None
        first: Tensor | None = None
        kept = min(plan.keep_rows, h) if len(bands) > 1 else 0
        if len(bands) > 1:
            moments = Moments()
            if kept:
                first = _store((1, layer.conv.out_channels, kept, w), torch.float16)
            for o0, o1 in bands:
                y0 = conv_band(read, h, layer, o0, o1)
                moments.add(y0)
                if first is not None and o0 < kept:
                    first[:, :, o0 : min(o1, kept)] = y0[:, :, : min(o1, kept) - o0]
                del y0
                self.prog.band(cost, len(bands))
            stats = moments.stats()
        else:
            self.prog.band(cost, 1)  # nothing to do beforehand

        def rows(lo: int, hi: int) -> tuple[Tensor, Activate]:
            if first is not None and hi <= kept:
                y = first[:, :, lo:hi]
            elif first is not None and lo < kept:  # the band across the last kept row: make the rest
                rest = conv_band(read, h, layer, kept, hi)
                y = torch.cat([first[:, :, lo:kept].float(), rest], dim=2).contiguous(
                    memory_format=torch.channels_last
                )
            else:
                y = conv_band(read, h, layer, lo, hi)
            layer_stats = stats if stats is not None else whole_stats(y)  # one band: the whole picture

            def activate(part: Tensor, out: Tensor) -> Tensor:
                return norm.normalize(part, layer_stats, relu=layer.relu, out=out)

            return y, activate

        return activation_read(rows)

    def kept(
        self,
        read: ReadRows,
        rows_in: int,
        shape: tuple[int, ...],
        layer: ConvLayer,
        *,
        scale: int,
        cost: float,
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """``layer``'s pre-norm output (of ``shape``, at 1/``scale`` of the picture) made whole band
        by band from its input's rows (``rows_in`` tall), and its statistics."""
        moments = Moments()
        y = _fill(
            shape,
            _bands(shape[2], self.plan.rows // scale),
            lambda o0, o1: conv_band(read, rows_in, layer, o0, o1),
            dtype=self.plan.store_dtype,
            moments=moments,
            progress=self.prog,
            cost=cost,
        )
        return y, moments.stats()

    def contract(
        self, read: ReadRows, size: tuple[int, int], layers: list[ConvLayer], pad_out: int
    ) -> Tensor:
        """The contracting ``layers`` from the picture's rows: the last one's output whole (the map the
        residual blocks run on), activated and padded by ``pad_out``."""
        (h, w), pending = size, 0.0  # ``pending``: the cost of layers made again in the next one's bands
        for layer, scale in zip(layers[:-1], _scales(layers[:-1], 1), strict=True):
            rows = h // scale
            if not layer.conditioned:
                read = streamed_rows(read, rows * layer.stride, layer)
                pending += _cost(layer, scale)
            elif _swept(layer, scale):
                read = self.swept(read, size, layer)
                pending += _cost(layer, scale)
            else:
                shape = (1, layer.conv.out_channels, rows, w // scale)
                cost, pending = pending + _cost(layer, scale), 0.0
                y, stats = self.kept(read, rows * layer.stride, shape, layer, scale=scale, cost=cost)
                read = _stored_reader(y, stats, self.norms[layer], layer.relu)  # the one before is freed
                del y  # the reader holds it
        last, scale = layers[-1], _scales(layers, 1)[-1]
        rows, cols = h // scale, w // scale
        bands = _bands(rows, self.plan.rows // scale)
        cost = pending + _cost(last, scale)
        shape = (1, last.conv.out_channels, rows, cols)
        if last.conditioned:
            # When the residual stage runs in bands, this map is kept in half precision and
            # normalised band by band into the stage's float input, its statistics taken as it is made.
            in_bands = self.plan.residual_rows > 0
            moments = Moments() if in_bands else None
            y = _fill(
                shape,
                bands,
                convolved(read, rows * last.stride, last),
                dtype=torch.float16 if in_bands else torch.float32,
                moments=moments,
                progress=self.prog,
                cost=cost,
            )
            del read  # what the layers before kept: freed before the map is made
            stats = moments.stats() if moments is not None else whole_stats(y)
            a, inner = padded_buffer(shape, pad_out, pad_out)
            norm = self.norms[last]
            for o0, o1 in _bands(rows, self.plan.residual_rows) if in_bands else [(0, rows)]:
                norm.normalize(y[:, :, o0:o1], stats, relu=last.relu, out=inner[:, :, o0:o1])
        else:
            a, inner = padded_buffer(shape, pad_out, pad_out)
            compute = convolved(read, rows * last.stride, last, relu=last.relu)
            _fill(shape, bands, compute, moments=None, progress=self.prog, cost=cost, out=inner)
        return reflect_borders(a, pad_out, pad_out)

    def residual(self, a: Tensor, blocks: list[Residual], scale: int) -> Tensor:
        """Residual blocks on the whole map ``a`` at 1/``scale`` of the picture (padded for them),
        or in bands where the plan says so (:meth:`residual_bands`).

        Each block: conv, norm, ReLU, conv, norm, add. Returns the last block's output, unpadded.
        """
        if self.plan.residual_rows:
            return self.residual_bands(a, blocks, scale)
        p, q = blocks[0].pad, blocks[0].conv2.pad
        size = (a.shape[2] - 2 * p, a.shape[3] - 2 * p)
        # Two padded buffers serve every block (input ``a``, inner ``b``), so the stage holds three
        # 32-channel maps at a time (a, b, one convolution output), reused rather than reallocated.
        b, b_inner = padded_buffer(tuple(a.shape[:2]) + size, q, q)
        a_inner = a[:, :, p:-p, p:-p]
        for block in blocks:
            h = block.conv1.conv(a)
            self.norms[block.conv1].normalize(h, whole_stats(h), relu=block.conv1.relu, out=b_inner)
            del h
            reflect_borders(b, q, q)
            y = block.conv2.conv(b)
            self.norms[block.conv2].normalize(y, whole_stats(y), relu=block.conv2.relu, out=y)
            a_inner.add_(y)  # the block's output: input + F(input)
            del y
            reflect_borders(a, p, p)
            self.prog.band(_cost(block.conv1, scale) + _cost(block.conv2, scale), 1)
        del b
        return a_inner

    def residual_bands(self, a: Tensor, blocks: list[Residual], scale: int) -> Tensor:
        """:meth:`residual` band by band, ``plan.residual_rows`` rows at a time, for a picture whose
        whole quarter-resolution maps would crowd the budget (:data:`QUARTER_BYTES_PER_PIXEL`).

        Each block's two convolution outputs are kept before their norm in half precision, their
        statistics taken over the bands (from the float band, as the whole stage takes them), and
        the block's output is added into ``a`` band by band: one float map and two half ones alive
        instead of three float maps (0.8 GB instead of 1.2 GB at 50 MP). Returns the last block's
        output, unpadded.
        """
        p = blocks[0].pad
        rows, cols = a.shape[2] - 2 * p, a.shape[3] - 2 * p
        cut = _bands(rows, self.plan.residual_rows)
        a_rows = a[:, :, p:-p]  # the map's rows, its columns already reflect-padded for the blocks
        read_a: ReadRows = lambda idx, _pad: take_rows(a_rows, idx)  # noqa: E731
        a_inner = a[:, :, p:-p, p:-p]
        for block in blocks:
            conv1, conv2 = block.conv1, block.conv2
            shape = (1, conv1.conv.out_channels, rows, cols)
            h, h_stats = _kept_in_half(read_a, shape, cut, conv1)
            read_h = _stored_reader(h, h_stats, self.norms[conv1], conv1.relu)
            del h  # the reader holds it
            y, y_stats = _kept_in_half(read_h, shape, cut, conv2)
            del read_h
            norm = self.norms[conv2]
            for o0, o1 in cut:  # the block's output: input + F(input)
                a_inner[:, :, o0:o1].add_(norm.normalize(y[:, :, o0:o1], y_stats, relu=conv2.relu))
            del y
            reflect_borders(a, p, p)
            self.prog.band(_cost(conv1, scale) + _cost(conv2, scale), 1)  # per block, as on the whole map
        return a_inner

    def expand(self, handed: list[Tensor], scale: int, layers: list[ConvLayer]) -> np.ndarray:
        """The expanding ``layers`` from the map at 1/``scale`` of the picture, each kept (its
        statistics taken as its bands are made) and read normalised by the next; the last one
        normalised, sigmoid, as bytes (H, W, 3).

        ``handed`` holds the residual stage's output and nothing else does (the caller hands it over
        in the list): it is freed once the first expanding layer has read it, before the
        full-resolution layers are kept (400 MB at 50 MP)."""
        r = handed.pop()
        read = _tensor_reader(r)
        rows_in = height = r.shape[2]
        width = r.shape[3]
        del r  # the reader holds it until the first layer is made, and is replaced then
        for i, (layer, out_scale) in enumerate(zip(layers, _scales(layers, scale), strict=True)):
            shape = (1, layer.conv.out_channels, height * scale // out_scale, width * scale // out_scale)
            y, stats = self.kept(read, rows_in, shape, layer, scale=out_scale, cost=_cost(layer, out_scale))
            rows_in = shape[2]
            if i < len(layers) - 1:  # read normalised by the next layer (the one before is freed here)
                read = _stored_reader(y, stats, self.norms[layer], layer.relu)
        del read
        last = layers[-1]
        out = np.empty((y.shape[2], y.shape[3], 3), dtype=np.uint8)
        bands = _bands(y.shape[2], self.plan.rows)
        for o0, o1 in bands:
            z = torch.sigmoid(self.norms[last].normalize(y[:, :, o0:o1], stats, relu=last.relu))
            out[o0:o1] = z[0].clamp(0.0, 1.0).mul(255.0).add_(0.5).to(torch.uint8).permute(1, 2, 0).numpy()
            self.prog.band(FINISH_COST, len(bands))
        return out


def paint_in_bands(
    net: StyleTransformer,
    image: Tensor,
    styles: Tensor,
    weights: Tensor,
    *,
    plan: BandPlan,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """``net`` over ``image`` in bands -> uint8 (H, W, 3), the picture a whole pass paints.

    ``image`` is uint8 (H, W, 3) or float (1, 3, H, W) in 0..1, sides a multiple of 4. ``styles``
    (K, D) are K styles in the network's own terms (rows of preset weights for multistyle26, style
    vectors for the arbitrary transformer), mixed by ``weights`` (K,).

    Example (preset 16, in bands of 32 rows):
        >>> image = torch.from_numpy(np.array(photo.resize((96, 64))))  # uint8 (64, 96, 3)
        >>> preset = torch.eye(26)[[16]]
        >>> paint_in_bands(nets.multistyle, image, preset, torch.ones(1), plan=BandPlan(32)).shape
        (64, 96, 3)
    """
    h, w = (image.shape[0], image.shape[1]) if image.dtype == torch.uint8 else image.shape[2:]
    sweep = _Sweep(styled_norms(net, styles, weights), plan, _Progress(_total_cost(net), progress))
    contract: list[ConvLayer] = list(net.contract)  # type: ignore[arg-type]
    blocks: list[Residual] = list(net.residual)  # type: ignore[arg-type]
    expand: list[ConvLayer] = list(net.expand)  # type: ignore[arg-type]
    scale = _scales(contract, 1)[-1]  # the residual blocks' resolution: 1/4 of the picture
    # Handed over in a list, the residual output has no other reference (nor has ``a``, whose view
    # it is): the expanding half frees it once its first layer has read it.
    a = [sweep.contract(image_rows(image), (h, w), contract, blocks[0].pad)]
    handed = [sweep.residual(a.pop(), blocks, scale)]
    return sweep.expand(handed, scale, expand)
