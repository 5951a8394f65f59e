"""Painting along a region map: the map brought to the picture along the photo's edges, and each
style's painting folded into one composite (see :mod:`stylemixer.neural.regions`).

A map (a plan's, :func:`~stylemixer.neural.regions.plan.plan_regions`, or one a person drew,
:func:`as_weight_map`) is per-pixel weights, one plane per style, at a small size. :class:`EdgeMap`
brings it to any size with a fast guided filter (He and Sun 2015) whose linear coefficients,
fitted at :data:`GUIDE_SIDE`, are applied to the luminance of the photo at the size painted, so the
boundaries follow the full-resolution photo's edges rather than the map's pixels. Each style is
painted alone over the whole picture (by the engine) and :func:`composite` folds the paintings in
along the map, band by band, one painting alive at a time: inside its region each style is
exactly its painting. The palette region map (value k where the k-th style dominates) is the
output contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image
from torch import Tensor

from stylemixer.neural.regions.plan import resize_long_side, soft_map
from stylemixer.neural.stroke import LUMA
from stylemixer.neural.tensors import map_rows
from stylemixer.regionmap import invalid, style_missing, with_palette

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

#: Long side the edge-following coefficients are fitted at, and their window radius and
#: regularisation there (luminance in 0..1: edges of contrast above about sqrt(eps) are followed).
GUIDE_SIDE = 512
GUIDE_RADIUS = 4
GUIDE_EPS = 1e-3


def box_mean(t: Tensor, radius: int) -> Tensor:
    """Mean of (N, K, H, W) over (2 radius + 1)^2 windows, edges replicated, by running sums (cost
    independent of the radius; float32 sums of values in 0..1 over a few hundred thousand pixels keep
    about 1e-5 of precision, far inside the guided filter's eps).

    Example:
        >>> box_mean(torch.ones(1, 1, 5, 5), 1).flatten()[:3].tolist()
        [1.0, 1.0, 1.0]
    """
    k = 2 * radius + 1
    c = F.pad(t, (radius + 1, radius, radius + 1, radius), mode="replicate")
    c = c.cumsum(dim=3)
    c = c[..., k:] - c[..., :-k]
    c = c.cumsum(dim=2)
    return (c[:, :, k:] - c[:, :, :-k]) / (k * k)


def guided_coefficients(guide: Tensor, src: Tensor, radius: int, eps: float) -> tuple[Tensor, Tensor]:
    """He et al.'s guided filter of ``src`` (1, K, H, W) by ``guide`` (1, 1, H, W), as its window-mean
    coefficients: the filtered map is ``a * guide + b`` (and stays so for the guide at another size:
    the fast guided filter)."""
    mean_i, mean_p = box_mean(guide, radius), box_mean(src, radius)
    cov = box_mean(guide * src, radius) - mean_i * mean_p
    var = box_mean(guide * guide, radius) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    return box_mean(a, radius), box_mean(b, radius)


def drawn_weights(numbers: np.ndarray, n_styles: int, softness: float) -> Tensor:
    """A map of style numbers (h, w) as per-pixel weights (1, K, h', w'), treated as a planned map is:
    brought down (nearest neighbour) to at most :data:`GUIDE_SIDE` on its long side, the size
    :class:`EdgeMap` fits its edges at (so a 16 MP map costs no full-size planes), and feathered by
    ``softness`` (:func:`soft_map`, a fraction of the long side, so it does not depend on the size).

    Example:
        >>> numbers = np.zeros((1200, 1600), dtype=np.uint8); numbers[:, 800:] = 1
        >>> weights = drawn_weights(numbers, 2, 0.25)
        >>> tuple(weights.shape), [round(float(v), 2) for v in weights[0, :, 0, 0]]
        ((1, 2, 384, 512), [1.0, 0.0])
    """
    h, w = numbers.shape
    scale = min(1.0, GUIDE_SIDE / max(h, w))
    if scale < 1.0:
        th, tw = max(1, round(h * scale)), max(1, round(w * scale))
        rows = ((np.arange(th) + 0.5) * h / th).astype(np.int64)
        cols = ((np.arange(tw) + 0.5) * w / tw).astype(np.int64)
        numbers = numbers[rows[:, None], cols[None, :]]
    return soft_map(torch.as_tensor(np.asarray(numbers, dtype=np.int64)), n_styles, softness)


def luminance(rgb: np.ndarray) -> Tensor:
    """Luminance (H, W) in 0..1 of a uint8 (H, W, 3) picture."""
    return torch.from_numpy(rgb.astype(np.float32) @ np.array(LUMA, dtype=np.float32) / 255.0)


class EdgeMap:
    """A style map brought to any size along the photo's own edges (the output contract's geometry).

    Built once from a weight map (1, K, h, w) and the photo: the map is resized to the photo at
    :data:`GUIDE_SIDE` and guided-filtered by its luminance there; the filter's coefficients ``a``,
    ``b`` (1, K - 1, hg, wg each) are kept (the filter is linear and keeps constants, so the last style's
    weight is one minus the others'). :meth:`rows` resizes them (bilinearly) to any picture of the
    same framing and applies them to that picture's own luminance, ``a * I + b``: so the weights
    change where the full-resolution photo has an edge, row band by row band in bounded memory.

    Example:
        >>> edges = EdgeMap(plan.weight_map, photo)  # doctest: +SKIP
        >>> edges.rows(np.asarray(photo)[:64], 0, photo.size[::-1]).shape  # doctest: +SKIP
        torch.Size([1, 2, 64, 1024])
    """

    def __init__(self, weight_map: Tensor, photo: Image.Image) -> None:
        side = min(GUIDE_SIDE, max(photo.size))
        guide = luminance(np.asarray(resize_long_side(photo, side)))[None, None]  # (1, 1, hg, wg)
        self.n_styles = weight_map.shape[1]
        first = weight_map[:, :-1].float()
        if self.n_styles > 1:
            src = F.interpolate(first, size=guide.shape[-2:], mode="bilinear", align_corners=False)
            a, b = guided_coefficients(guide, src, GUIDE_RADIUS, GUIDE_EPS)
            self.ab = torch.cat([a, b], dim=1)  # (1, 2 (K - 1), hg, wg): resized together
        else:  # one style: weight 1 everywhere
            self.ab = torch.zeros(1, 0, *guide.shape[-2:])

    def rows(self, rgb_rows: np.ndarray, top: int, size: tuple[int, int]) -> Tensor:
        """Weights (1, K, len, W) of rows ``top``.. of a picture of ``size`` (H, W) whose rows these are
        (``rgb_rows`` uint8 (len, W, 3)), summing to 1 at every pixel."""
        idx = torch.arange(top, top + rgb_rows.shape[0])
        k = self.n_styles - 1
        ab = map_rows(self.ab, size, idx)
        first = torch.addcmul(ab[:, k:], ab[:, :k], luminance(rgb_rows)[None, None]).clamp_(0.0, 1.0)
        if k > 1:  # weights over 1 in total are scaled down to 1 (two styles: never the case)
            first /= first.sum(dim=1, keepdim=True).clamp_(min=1.0)
        return torch.cat([first, (1.0 - first.sum(dim=1, keepdim=True)).clamp_(min=0.0)], dim=1)

    def bands(self, rgb: np.ndarray, rows_per_band: int = 256) -> Iterator[tuple[int, int, Tensor]]:
        """(top, bottom, weights) for each band of rows of the picture ``rgb`` (H, W, 3) uint8."""
        height = rgb.shape[0]
        for r0 in range(0, height, rows_per_band):
            r1 = min(r0 + rows_per_band, height)
            yield r0, r1, self.rows(rgb[r0:r1], r0, rgb.shape[:2])


def region_image(edges: EdgeMap, photo: Image.Image) -> Image.Image:
    """The palette ("P") region map of ``photo``'s size: pixel k where the k-th style dominates, along
    the photo's edges (computed band by band: a 16 MP map needs no full-size float planes).

    Example:
        >>> region_image(EdgeMap(plan.weight_map, photo), photo).mode  # doctest: +SKIP
        'P'
    """
    rgb = np.asarray(photo.convert("RGB"))
    out = np.empty(rgb.shape[:2], dtype=np.uint8)
    for r0, r1, m in edges.bands(rgb):
        out[r0:r1] = dominant_style(m[0])
    return with_palette(Image.fromarray(out))


def dominant_style(weights: Tensor) -> np.ndarray:
    """The index (uint8) of the largest of K weight planes (K, H, W), the first on ties.

    Plane by plane: ``argmax`` over the outer dimension is many times slower on the CPU.

    Example:
        >>> dominant_style(torch.tensor([[[0.2, 0.6]], [[0.8, 0.4]]])).tolist()
        [[1, 0]]
    """
    best = weights[0].clone()
    index = torch.zeros(best.shape, dtype=torch.uint8)
    for k in range(1, weights.shape[0]):
        better = weights[k] > best
        index.masked_fill_(better, k)
        torch.maximum(best, weights[k], out=best)
    return index.numpy()


def as_weight_map(weights: Tensor | np.ndarray, n_styles: int, softness: float = 0.0) -> Tensor:
    """The weights (1, K, h, w) a map gives: a weight map, checked and scaled to sum 1, or an (h, w)
    map of style numbers (a drawn one) as weights feathered by ``softness`` as a planned map is
    (:func:`drawn_weights`). A map that is neither is refused as a bad map file is.

    Example:
        >>> drawn = np.zeros((4, 4), dtype=np.int64); drawn[:, 2:] = 1
        >>> tuple(as_weight_map(drawn, 2).shape)
        (1, 2, 4, 4)
    """
    if isinstance(weights, np.ndarray) and weights.ndim == 2:
        if weights.size == 0 or not np.issubdtype(weights.dtype, np.integer):
            raise invalid("A region map gives a whole style number per pixel.")
        if weights.min() < 0 or weights.max() >= n_styles:
            raise style_missing(int(weights.min() if weights.min() < 0 else weights.max()), n_styles)
        return drawn_weights(weights, n_styles, softness)
    m = torch.as_tensor(weights, dtype=torch.float32)
    if m.dim() != 4 or m.shape[0] != 1 or m.shape[1] != n_styles or min(m.shape[2:]) < 1:
        raise invalid(f"A region map has one plane of weights per style: {n_styles} here.")
    if not bool(torch.isfinite(m).all()) or float(m.min()) < 0.0:
        raise invalid("Region weights must be finite and not negative.")
    return m / m.sum(dim=1, keepdim=True).clamp(min=1e-6)


def composite(
    photo: Image.Image,
    photo_rgb: np.ndarray,
    paintings: Iterable[np.ndarray],
    weight_map: Callable[[], Tensor],
) -> tuple[np.ndarray, Image.Image]:
    """Each style's painting (uint8, the photo's size, in the styles' order) folded into one composite
    along the map ``weight_map()`` brought to ``photo``'s edges; returns it and the palette region map.

    ``weight_map()`` is first asked for once the first painting is at hand (a plan may still be in
    the making until then). One painting is alive at a time: the next is made once the one before is
    folded in (a 16 MP one is 48 MB).
    """
    out = np.empty_like(photo_rgb)
    dominant = np.zeros(photo_rgb.shape[:2], dtype=np.uint8)  # made with the last compositing
    edges: EdgeMap | None = None
    for k, painted in enumerate(paintings):
        if edges is None:  # (a plan made beside the first painting is not a stage of its own)
            edges = EdgeMap(weight_map(), photo)
        last = k == edges.n_styles - 1
        fold_in(out, painted, k, edges, photo_rgb, dominant=dominant if last else None)
        del painted
    return out, with_palette(Image.fromarray(dominant))


def fold_in(
    out: np.ndarray,
    painted: np.ndarray,
    k: int,
    edges: EdgeMap,
    guide: np.ndarray,
    *,
    dominant: np.ndarray | None = None,
) -> None:
    """Fold the k-th style's painting into the composite ``out`` (uint8, in place), band by band.

    A running weighted mean over the styles so far: ``out += w_k / (w_0 + .. + w_k) * (painted -
    out)``, so one composite is kept however many styles there are, and wherever style k's weight
    is 1 (and the others' 0) the composite is exactly its painting. With ``dominant`` (H, W) uint8,
    the index of each pixel's strongest style is written there too, from the same weights.
    """
    if k == 0 and dominant is None:
        out[:] = painted
        return
    for r0, r1, m in edges.bands(guide):
        w = m[0]  # (K, rows, W)
        if dominant is not None:
            dominant[r0:r1] = dominant_style(w)
        if k == 0:
            out[r0:r1] = painted[r0:r1]
            continue
        upto = w[: k + 1].sum(dim=0)
        t = torch.where(upto > 1e-6, w[k] / upto.clamp(min=1e-6), torch.zeros_like(upto))
        band = torch.from_numpy(out[r0:r1])  # a view: written in place below
        mixed = torch.lerp(band.float(), torch.tensor(painted[r0:r1], dtype=torch.float32), t[..., None])
        band.copy_(mixed.add_(0.5).clamp_(0.0, 255.0).to(torch.uint8))
