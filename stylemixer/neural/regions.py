"""Style Mixer regions: which style goes where (after Huang, Zhang and Liao, "Style Mixer", CGF 2019).

The paper matches content regions to the style whose deep features fit them best, so the sky takes
the style that fits a sky. Here, with the networks this project has:

1. **Content features** from the style predictor's MobileNetV2 trunk (Sandler et al. 2018), the
   stride-16 (96 channels) and stride-32 (1280 channels, upsampled) maps of the photo at
   :data:`FEATURE_SIDE` px, each L2-normalised per position and concatenated.
2. **Regions**: k-means on those feature vectors with the position (row, column in 0..1) appended
   and scaled by ``position_weight``, as the paper weights spatial position in, so regions stay in
   one piece. Deterministic: farthest-point seeding from the point nearest the mean, a fixed number
   of iterations (float32: on the test pictures the labels equal float64's).
3. **Matching**: each style is described by the same (stride-16) features of a picture: a custom style by its
   own painting; a preset, whose painting is not at hand, by its own rendering of the photo. A
   region's fit to a style is the mean, over the region's positions, of the best cosine similarity
   to any position of the style's picture (nearest-neighbour patch matching). Fits are centred per
   style over the picture, so a style is judged by where it fits *best*, not by how photo-like its
   picture is; then each region goes to its best style, under the rule that every chosen style gets
   at least :data:`MIN_SHARE` of the picture when the regions allow it (a style the person picked
   should be seen).
4. **A soft map**: the regions' one-hot map snapped to the photo's edges by a guided filter (He et
   al. 2013) and blurred by ``softness``, so styles meet along the picture's own boundaries and fade
   into each other over a short distance. The networks take it as per-pixel weights of their
   normalisation parameters (one pass for presets, one for custom styles).

The palette region map (value k where the k-th style dominates) is the argmax of that soft map.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image
from torch import Tensor

from stylemixer.neural.tensors import image_to_tensor

if TYPE_CHECKING:
    from collections.abc import Sequence

    from stylemixer.neural.networks import StylePredictor

#: Long side of the photo the content features and the region map are computed at.
FEATURE_SIDE = 384
#: Reflect padding around a picture before its features are taken (a multiple of 32).
FEATURE_PAD = 32
#: MobileNetV2 blocks up to the stride-16, 96-channel map (as ``StylePredictor.stages`` takes it).
STRIDE16_BLOCKS = 13
#: Channels of the descriptor used for matching: the stride-16 map (96 channels).
MATCH_CHANNELS = 96
#: Long side a style picture is described at (smaller pictures are described as they are).
STYLE_SIDE = 256
#: Long side a preset paints the photo at to be described (see :func:`style_features`). Measured
#: on 9 photos x 4 preset pairs: the maps agree with those from 256-pixel renderings on 88 % of the
#: pixels on average (where not, whole regions went to the other style), at less than half the cost
#: of rendering and describing the presets.
PRESET_SIDE = 160
#: Every chosen style gets at least this share of the picture when the regions allow it.
MIN_SHARE = 0.1
#: k-means iterations (fixed, for determinism and bounded time).
KMEANS_ITERATIONS = 25
#: Colours of the palette region map, one per style (distinct, readable on screen and in print).
PALETTE: tuple[tuple[int, int, int], ...] = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 200, 25))


@dataclass(frozen=True, slots=True)
class RegionSettings:
    """The controls: how many regions, how much position counts, how soft the edges are.

    Example:
        >>> RegionSettings(n_regions=6, position_weight=0.5, softness=0.3).n_regions
        6
    """

    n_regions: int
    position_weight: float
    softness: float


@dataclass(frozen=True, slots=True)
class RegionPlan:
    """Where each style goes.

    ``weight_map`` (1, K, h, w) per-pixel style weights summing to 1 (at the feature picture's size);
    ``labels`` (gh, gw) the region of each feature-grid cell; ``assignment`` the style of each region;
    ``fit`` (regions, styles) the centred fits the assignment was made from.
    """

    weight_map: Tensor
    labels: np.ndarray
    assignment: tuple[int, ...]
    fit: np.ndarray

    def shares(self) -> list[float]:
        """Fraction of the picture each style dominates."""
        dominant = self.weight_map[0].argmax(dim=0)
        k = self.weight_map.shape[1]
        return [float((dominant == i).float().mean()) for i in range(k)]


def resize_long_side(img: Image.Image, side: int) -> Image.Image:
    """``img`` scaled so its longer side is ``side`` (sides kept at least 32 px)."""
    scale = side / max(img.size)
    size = (max(32, round(img.width * scale)), max(32, round(img.height * scale)))
    return img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def feature_map(predictor: StylePredictor, x: Tensor, *, deep: bool = True) -> Tensor:
    """Unit-length descriptors (D, gh, gw) on the stride-16 grid of ``x`` (1, 3, H, W).

    The picture is reflect-padded by :data:`FEATURE_PAD` px first and the grid cropped back: the
    trunk zero-pads at its borders, which otherwise gives the outermost cells features of their own
    (a frame that clustering would take for a region). ``deep=False`` stops at the stride-16 map
    (what matching uses; a style picture needs no more).

    Example:
        >>> feature_map(nets.predictor, image_to_tensor(photo)).shape  # doctest: +SKIP
        torch.Size([1376, 24, 32])
    """
    h, w = x.shape[-2:]
    padded = F.pad(x, (FEATURE_PAD,) * 4, mode="reflect").contiguous(memory_format=torch.channels_last)
    if deep:
        _, _, f16, f32 = predictor.stages(padded)
        maps = [f16, F.interpolate(f32, size=f16.shape[-2:], mode="bilinear", align_corners=False)]
    else:
        maps = [predictor.blocks[:STRIDE16_BLOCKS](predictor.stem(padded))]
    cut = FEATURE_PAD // 16
    gh, gw = -(-h // 16), -(-w // 16)
    parts = [F.normalize(f[0, :, cut : cut + gh, cut : cut + gw].float(), dim=0) for f in maps]
    return torch.cat(parts, dim=0) / np.sqrt(len(parts))  # (D, gh, gw), unit length per position


def style_features(predictor: StylePredictor, pictures: Sequence[Image.Image]) -> list[Tensor]:
    """Stride-16 descriptors (96, gh, gw) of each style picture at :data:`STYLE_SIDE` (smaller ones
    as they are: a preset's rendering is made at :data:`PRESET_SIDE`), as :func:`feature_map` with
    ``deep=False`` gives them; pictures of one size go through the trunk as one batch (a preset's
    renderings of the photo all share its size).

    Example:
        >>> [s.shape[0] for s in style_features(nets.predictor, [painting_a, painting_b])]  # doctest: +SKIP
        [96, 96]
    """
    sized = [resize_long_side(p, STYLE_SIDE) if max(p.size) > STYLE_SIDE else p for p in pictures]
    tensors = [image_to_tensor(p) for p in sized]
    out: list[Tensor | None] = [None] * len(tensors)
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, t in enumerate(tensors):
        by_size.setdefault(tuple(t.shape[-2:]), []).append(i)
    for (h, w), members in by_size.items():
        batch = torch.cat([tensors[i] for i in members])
        padded = F.pad(batch, (FEATURE_PAD,) * 4, mode="reflect").contiguous(
            memory_format=torch.channels_last
        )
        f16 = predictor.blocks[:STRIDE16_BLOCKS](predictor.stem(padded))
        cut = FEATURE_PAD // 16
        gh, gw = -(-h // 16), -(-w // 16)
        for j, i in enumerate(members):
            out[i] = F.normalize(f16[j, :, cut : cut + gh, cut : cut + gw].float(), dim=0)
    return [t for t in out if t is not None]


def kmeans(points: np.ndarray, k: int, iterations: int = KMEANS_ITERATIONS) -> np.ndarray:
    """Deterministic k-means labels of ``points`` (N, D): farthest-point seeding, fixed iterations.

    Example:
        >>> kmeans(np.array([[0.0], [0.1], [5.0], [5.1]]), 2).tolist()
        [0, 0, 1, 1]
    """
    pts = torch.as_tensor(points, dtype=torch.float32)
    k = min(k, len(pts))
    sq = (pts * pts).sum(dim=1)  # (N,)

    def dist_to(c: Tensor) -> Tensor:  # (N, k) squared distances
        return sq[:, None] - 2 * pts @ c.T + (c * c).sum(dim=1)[None, :]

    first = int(torch.argmin(((pts - pts.mean(dim=0)) ** 2).sum(dim=1)))
    chosen = [first]
    dist = dist_to(pts[[first]])[:, 0]
    for _ in range(1, k):
        nxt = int(torch.argmax(dist))
        chosen.append(nxt)
        dist = torch.minimum(dist, dist_to(pts[[nxt]])[:, 0])
    centres = pts[chosen].clone()
    labels = torch.zeros(len(pts), dtype=torch.int64)
    for i in range(iterations):
        previous, labels = labels, dist_to(centres).argmin(dim=1)
        if i > 0 and torch.equal(labels, previous):
            break  # a fixed point: the centres would come out the same, as would every later step
        members = F.one_hot(labels, k).T.to(pts.dtype)  # (k, N)
        counts = members.sum(dim=1)
        sums = members @ pts  # one matrix product, not N scattered row additions
        centres = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], centres)
    # Number regions by first appearance (row-major) so labels do not depend on seeding order.
    order = {old: new for new, old in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[v] for v in labels.tolist()], dtype=np.int64)


def cluster(features: Tensor, n_regions: int, position_weight: float) -> np.ndarray:
    """Region labels (gh, gw) of a feature map (D, gh, gw), position weighted in."""
    d, gh, gw = features.shape
    pts = features.reshape(d, -1).T.float().numpy()  # (N, D), unit rows
    rows, cols = np.meshgrid(np.linspace(0, 1, gh), np.linspace(0, 1, gw), indexing="ij")
    aspect = np.array([gh, gw], dtype=np.float32) / max(gh, gw)  # position in units of the long side
    pos = np.stack([rows.ravel() * aspect[0], cols.ravel() * aspect[1]], axis=1) * position_weight
    return kmeans(np.concatenate([pts, pos.astype(np.float32)], axis=1), n_regions).reshape(gh, gw)


def region_fit(features: Tensor, labels: np.ndarray, style_sets: Sequence[Tensor]) -> np.ndarray:
    """Fit (regions, styles): mean over a region of the best cosine match in each style's set.

    Matched on the stride-16 part of the descriptors (:data:`MATCH_CHANNELS`): on the paper's own
    cases (../shared/testdata/multistyle) it put the field, sky and horse where a person would more
    often than the 1280-channel part or both. Centred per style (area-weighted mean over the picture
    subtracted), so each style is compared by where it fits best.
    """
    features = F.normalize(features[:MATCH_CHANNELS], dim=0)
    style_sets = [F.normalize(s[:MATCH_CHANNELS], dim=0) for s in style_sets]
    d = features.shape[0]
    pts = features.reshape(d, -1).T  # (N, D)
    flat = labels.reshape(-1)
    n_regions = int(flat.max()) + 1
    area = np.bincount(flat, minlength=n_regions).astype(np.float64)
    fit = np.zeros((n_regions, len(style_sets)))
    for s, style in enumerate(style_sets):
        best = (pts @ style.reshape(d, -1)).max(dim=1).values.double().numpy()  # (N,)
        per_region = np.bincount(flat, weights=best, minlength=n_regions) / np.maximum(area, 1)
        fit[:, s] = per_region - (per_region * area).sum() / area.sum()
    return fit


def assign(fit: np.ndarray, area: np.ndarray, min_share: float = MIN_SHARE) -> tuple[int, ...]:
    """The style of each region: most total fit, every style given ``min_share`` of the area if possible.

    Exhaustive over the at most 4**8 assignments, so the answer is the true best and deterministic.

    Example:
        >>> assign(np.array([[1.0, 0.0], [0.9, 0.1]]), np.array([0.5, 0.5]))
        (0, 1)
    """
    n_regions, n_styles = fit.shape
    combos = np.array(list(itertools.product(range(n_styles), repeat=n_regions)), dtype=np.int64)
    score = (fit[np.arange(n_regions)[None, :], combos] * area[None, :]).sum(axis=1)
    shares = np.stack([((combos == s) * area[None, :]).sum(axis=1) for s in range(n_styles)], axis=1)
    shares /= area.sum()
    for floor in (min_share, 1e-9):  # all styles visibly present; else all present at all
        ok = (shares >= floor).all(axis=1)
        if ok.any():
            best = int(np.flatnonzero(ok)[np.argmax(score[ok])])
            return tuple(int(v) for v in combos[best])
    return tuple(int(v) for v in fit.argmax(axis=1))


def guided_filter(guide: Tensor, src: Tensor, radius: int, eps: float = 1e-3) -> Tensor:
    """He et al.'s guided filter: ``src`` (1, K, H, W) made to follow the edges of ``guide`` (1, 1, H, W)."""

    k = 2 * radius + 1

    def box(t: Tensor) -> Tensor:  # mean over a k x k window, by running sums (cost independent of k)
        # Running sums in float32: a 384-pixel map's sums stay below 2**18, so a window's mean keeps
        # about 1e-5 of absolute precision, far inside the filter's eps (1e-3).
        c = F.pad(t, (radius + 1, radius, radius + 1, radius), mode="replicate")
        c = c.cumsum(dim=3)
        c = c[..., k:] - c[..., :-k]
        c = c.cumsum(dim=2)
        return (c[:, :, k:] - c[:, :, :-k]) / (k * k)

    mean_i, mean_p = box(guide), box(src)
    cov = box(guide * src) - mean_i * mean_p
    var = box(guide * guide) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of (1, K, H, W), replicate-padded."""
    if sigma < 0.3:
        return x
    r = max(1, int(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(
        F.pad(x, (r, r, 0, 0), mode="replicate"), k.reshape(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c
    )
    return F.conv2d(
        F.pad(x, (0, 0, r, r), mode="replicate"), k.reshape(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c
    )


def soft_map(
    labels: np.ndarray, assignment: Sequence[int], n_styles: int, photo: Tensor, softness: float
) -> Tensor:
    """Per-pixel style weights (1, K, H, W) at ``photo``'s size: one-hot, edge-snapped, blurred, sum 1."""
    h, w = photo.shape[-2:]
    style_of_cell = torch.as_tensor(np.asarray(assignment)[labels])  # (gh, gw)
    onehot = F.one_hot(style_of_cell, n_styles).permute(2, 0, 1).unsqueeze(0).float()  # (1, K, gh, gw)
    m = F.interpolate(onehot, size=(h, w), mode="bilinear", align_corners=False)
    gray = (photo * torch.tensor([0.299, 0.587, 0.114]).reshape(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    cell = max(h, w) / max(labels.shape)  # feature-grid cell in pixels
    m = guided_filter(gray, m, radius=max(2, round(cell)), eps=1e-3).clamp(0.0, 1.0)
    m = gaussian_blur(m, sigma=softness * 0.04 * max(h, w))
    return m / m.sum(dim=1, keepdim=True).clamp(min=1e-6)


def plan_regions(
    predictor: StylePredictor,
    photo: Image.Image,
    style_pictures: Sequence[Image.Image],
    settings: RegionSettings,
) -> RegionPlan:
    """Regions of ``photo`` and the style each takes, from the styles' pictures (in the order given).

    For a preset, pass its own rendering of the photo as its picture.

    Example:
        >>> plan = plan_regions(nets.predictor, photo, [painting_a, painting_b], RegionSettings(4, 1.0, 0.3))
        >>> plan.assignment  # doctest: +SKIP
        (0, 1, 1, 0)
    """
    with torch.inference_mode():
        x = image_to_tensor(resize_long_side(photo, FEATURE_SIDE))
        features = feature_map(predictor, x)
        labels = cluster(features, settings.n_regions, settings.position_weight)
        sets = style_features(predictor, style_pictures)
        fit = region_fit(features, labels, sets)
        area = np.bincount(labels.reshape(-1), minlength=fit.shape[0]).astype(np.float64)
        assignment = assign(fit, area)
        weight_map = soft_map(labels, assignment, len(style_pictures), x, settings.softness)
    return RegionPlan(weight_map=weight_map, labels=labels, assignment=assignment, fit=fit)


def region_image(weight_map: Tensor, size: tuple[int, int]) -> Image.Image:
    """The palette ("P") region map of ``size`` (W, H): pixel k where the k-th style dominates.

    Each style's weight is resized bilinearly to the output (in Pillow, one float plane at a
    time, so a 16 MP map needs a few 64 MB planes, not K float maps at once), then the largest wins.

    Example:
        >>> region_image(plan.weight_map, (4000, 3000)).mode  # doctest: +SKIP
        'P'
    """
    width, height = size
    k = weight_map.shape[1]
    planes = weight_map[0].float()
    # The weights sum to 1 at every pixel, and so do their bilinear resizes: the last style's plane
    # is 1 minus the others', which saves resizing it.
    best = np.zeros((height, width), dtype=np.float32)
    rest = np.ones((height, width), dtype=np.float32)
    out = np.zeros((height, width), dtype=np.uint8)
    for i in range(k - 1):
        values = np.asarray(Image.fromarray(planes[i].numpy(), "F").resize(size, Image.Resampling.BILINEAR))
        rest -= values
        if i == 0:
            best[:] = values
            continue
        better = values > best
        out[better] = i
        np.maximum(best, values, out=best)
    out[rest > best] = k - 1
    img = Image.fromarray(out, "P")
    palette = [v for colour in PALETTE for v in colour]
    img.putpalette(palette + [0] * (768 - len(palette)))
    return img
