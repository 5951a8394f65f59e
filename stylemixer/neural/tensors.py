"""Tensor helpers shared by the networks, the bands and the engine: one home, one behaviour.

Pictures cross between Pillow and torch here (:func:`image_to_tensor`, :func:`tensor_to_image`);
the networks and the bands write each layer's output straight into a reflect-padded channels-last
buffer for the next convolution (:func:`padded_buffer`, :func:`reflect_borders`), and both take
instance-norm statistics with the same sums (:func:`moment_sums`), so a picture run in bands gets
the same numbers as one pass; a map (the regions mix's) is resized row band by row band
(:func:`map_rows`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image
from torch import Tensor

#: Both transformers halve the picture twice, so sides are padded to a multiple of this.
SIDE_MULTIPLE = 4


def image_to_tensor(img: Image.Image) -> Tensor:
    """An RGB PIL image as a float tensor in 0..1.

    Example:
        >>> image_to_tensor(Image.new("RGB", (8, 4))).shape
        torch.Size([1, 3, 4, 8])
    """
    arr = np.asarray(img.convert("RGB"), dtype=np.float32)  # (H, W, 3)
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).div_(255.0)  # (1, 3, H, W)


def tensor_to_image(x: Tensor) -> Image.Image:
    """A (1, 3, H, W) tensor in 0..1 as an RGB PIL image (clamped, rounded).

    Example:
        >>> tensor_to_image(torch.ones(1, 3, 2, 5)).size
        (5, 2)
    """
    arr = x[0].clamp(0.0, 1.0).mul(255.0).add_(0.5).to(torch.uint8).permute(1, 2, 0)  # (H, W, 3)
    return Image.fromarray(arr.contiguous().numpy(), "RGB")


def pad_to_multiple(x: Tensor, multiple: int = SIDE_MULTIPLE) -> tuple[Tensor, int, int]:
    """Reflect-pad H and W up to a multiple; returns the padded tensor and the original H, W.

    Example:
        >>> padded, h, w = pad_to_multiple(torch.zeros(1, 3, 10, 7))
        >>> tuple(padded.shape[-2:]), h, w
        ((12, 8), 10, 7)
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    return x, h, w


def padded_buffer(
    shape: tuple[int, ...] | torch.Size, pad_h: int, pad_w: int, like: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """A channels-last buffer of ``shape`` (N, C, H, W) grown by ``pad_h`` rows and ``pad_w`` columns
    on each side, and its interior view; float32 on the CPU unless ``like`` says otherwise.

    A layer writes its output into the interior and :func:`reflect_borders` fills the rest, so the
    next convolution reads a padded input without a padded copy being made.

    Example:
        >>> buf, inner = padded_buffer((1, 8, 4, 6), 1, 2)
        >>> tuple(buf.shape), tuple(inner.shape)
        ((1, 8, 6, 10), (1, 8, 4, 6))
    """
    n, c, h, w = shape
    dtype = like.dtype if like is not None else torch.float32
    device = like.device if like is not None else None
    buf = torch.empty((n, h + 2 * pad_h, w + 2 * pad_w, c), dtype=dtype, device=device).permute(0, 3, 1, 2)
    return buf, buf[:, :, pad_h : pad_h + h, pad_w : pad_w + w]


def reflect_borders(buf: Tensor, pad_h: int, pad_w: int) -> Tensor:
    """Fill the borders of a :func:`padded_buffer` by reflecting its interior (as ``F.pad`` reflect);
    returns ``buf``.

    Example:
        >>> buf, inner = padded_buffer((1, 1, 1, 3), 0, 1)
        >>> _ = inner.copy_(torch.tensor([[[[1.0, 2.0, 3.0]]]]))
        >>> reflect_borders(buf, 0, 1).flatten().tolist()
        [2.0, 1.0, 2.0, 3.0, 2.0]
    """
    h, w = buf.shape[2] - 2 * pad_h, buf.shape[3] - 2 * pad_w
    for i in range(1, pad_h + 1):  # rows first (interior columns), then whole columns (corners too)
        buf[:, :, pad_h - i, pad_w : pad_w + w] = buf[:, :, pad_h + i, pad_w : pad_w + w]
        buf[:, :, pad_h + h - 1 + i, pad_w : pad_w + w] = buf[:, :, pad_h + h - 1 - i, pad_w : pad_w + w]
    for i in range(1, pad_w + 1):
        buf[:, :, :, pad_w - i] = buf[:, :, :, pad_w + i]
        buf[:, :, :, pad_w + w - 1 + i] = buf[:, :, :, pad_w + w - 1 - i]
    return buf


#: Bytes of a layer taken at a time by :func:`moment_sums` and :func:`scale_shift_into`: a block
#: that stays in a core's L2 cache between two passes over it (squared, then summed; scaled and
#: shifted, then clamped), so the first pass's result never goes out to memory and back.
CACHE_BLOCK_BYTES = 1 << 20


def _block_rows(x: Tensor) -> int:
    """How many image rows of ``x`` (N, C, H, W) make one :data:`CACHE_BLOCK_BYTES` block."""
    n, c, _, w = x.shape
    return max(1, CACHE_BLOCK_BYTES // max(1, n * c * w * x.element_size()))


def moment_sums(x: Tensor) -> tuple[Tensor, Tensor]:
    """Per-picture, per-channel sums of values and of squares of ``x`` (N, C, H, W), as float64 (N, C).

    Float32 sums within an image row (a row is at most a few thousand numbers, so float32 keeps its
    digits), rows added up in float64: several times faster than float64 throughout and far more
    precise than float32 throughout, whose error grows with the picture (visible at 2048 pixels).
    The networks (one pass) and the bands (band by band) both take their statistics from these sums.

    The rows are read a block of :data:`CACHE_BLOCK_BYTES` at a time, each block squared into one
    small buffer and summed while it is still in the cache: squaring a whole layer at once wrote and
    read back a tensor as large as the layer, which made the statistics the slowest part of the
    norm (docs/speed.md). The sums are the same numbers either way.

    Example:
        >>> [t.tolist() for t in moment_sums(torch.full((1, 1, 2, 3), 2.0))]
        [[[12.0]], [[24.0]]]
    """
    rows = x.permute(0, 2, 3, 1)  # (N, H, W, C): a view for channels-last x
    n, h, w, c = rows.shape
    step = _block_rows(x)
    row_sums = torch.empty((n, h, c), dtype=torch.float32)
    row_squares = torch.empty((n, h, c), dtype=torch.float32)
    squares = torch.empty((n, min(step, h), w, c), dtype=torch.float32)
    for top in range(0, h, step):
        block = rows[:, top : top + step]
        squared = squares[:, : block.shape[1]]
        torch.mul(block, block, out=squared)
        torch.sum(squared, dim=2, out=row_squares[:, top : top + step])
        torch.sum(block, dim=2, dtype=torch.float32, out=row_sums[:, top : top + step])
    return row_sums.double().sum(dim=1), row_squares.double().sum(dim=1)


def scale_shift_into(x: Tensor, scale: Tensor, shift: Tensor, out: Tensor, *, relu: bool) -> Tensor:
    """``x * scale + shift`` (a folded instance norm; ``scale`` and ``shift`` (N, C, 1, 1)) written
    into ``out`` (the interior of the next layer's padded input, or any tensor of ``x``'s shape),
    then ReLU in place if asked; returns ``out``.

    A block of rows at a time (:data:`CACHE_BLOCK_BYTES`), so the ReLU reads what the product has
    just written from the cache instead of from memory. The networks (one pass) and the bands
    apply their norms here.

    Example:
        >>> x, one = torch.tensor([[[[-1.0, 2.0]]]]), torch.ones(1, 1, 1, 1)
        >>> scale_shift_into(x, 2 * one, one, torch.empty(1, 1, 1, 2), relu=True).tolist()
        [[[[0.0, 5.0]]]]
    """
    step = _block_rows(x)
    for top in range(0, x.shape[2], step):
        part = out[:, :, top : top + step]
        torch.addcmul(shift, x[:, :, top : top + step], scale, out=part)
        if relu:
            part.clamp_(min=0.0)
    return out


def map_rows(m: Tensor, size: tuple[int, int], rows: Tensor | None = None) -> Tensor:
    """Rows ``rows`` (all by default) of a map ``m`` (1, K, h, w) resized to ``size`` (H, W).

    Bilinear (half-pixel centres, as ``F.interpolate(align_corners=False)``) when growing, area
    average when shrinking; only the rows asked for are computed, with the same numbers as resizing
    the whole map, so a map can be brought to a large picture band by band.

    Example:
        >>> map_rows(torch.tensor([[[[0.0, 1.0]]]]), (2, 4)).tolist()
        [[[[0.0, 0.25, 0.75, 1.0], [0.0, 0.25, 0.75, 1.0]]]]
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
