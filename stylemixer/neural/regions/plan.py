"""Where each style goes on a photo: the plan of the regions mix (see :mod:`stylemixer.neural.regions`).

1. **Superpixels** that follow the photo's edges (at :data:`SEGMENT_SIDE` px): SLIC (Achanta et al.
   2012), k-means on CIELAB colour and position with each pixel compared only to the nearby
   centres, a fixed number of rounds.
2. **Cuts into regions**: k-means on the superpixels (farthest-point seeding, fixed iterations, so
   deterministic), each described by the trunk's stride-16 features (blocks 9 and 12, unit length
   per position, averaged over the superpixel), its mean colour and its position weighted by
   ``position_weight``, as the paper weights spatial position in. Several cuts
   (:data:`POSITION_FRACTIONS` x :data:`COLOUR_WEIGHTS`): one cut's mistakes, an object split in two
   or joined to its background, are rarely every cut's.
3. **Matching, like with like** (the photo at :data:`FEATURE_SIDE` px): every stride-32 cell of the
   photo is compared with every cell of each style's picture (the trunk's last, 960-channel
   expanded layer, unit length; its deepest, most semantic features): the cell's fit to a style
   is its mean cosine similarity to the :data:`MATCH_SHARE` of that picture's cells nearest to it.
   A custom style is described by its own painting; a preset, whose painting is not at hand, by
   its own rendering of the photo. Fits are centred per style over the photo, so a style is judged
   by where it fits *best* rather than by how photo-like its painting is.
4. **Decision**: each cut's regions average their cells' fits; each superpixel takes the style its
   regions favour on average over the cuts; a style left with less than :data:`MIN_SHARE` of the
   picture gets the superpixels it loses least on, up to that share (a style the person picked
   should be seen).
5. **The map**: each pixel's style as per-pixel weights (one plane per style, summing to 1),
   feathered by ``softness`` (:func:`soft_map`), which :mod:`~stylemixer.neural.regions.paint`
   brings to any size along the photo's edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image
from torch import Tensor

from stylemixer.neural.tensors import image_to_tensor, pad_to_multiple, tensor_to_image
from stylemixer.presets import NUM_PRESETS, get_preset
from stylemixer.styles import ImageStyle, PresetStyle

if TYPE_CHECKING:
    from collections.abc import Sequence

    from stylemixer.neural.networks import MultiStyleNet, StylePredictor
    from stylemixer.neural.weights import Networks
    from stylemixer.options import StylizeOptions
    from stylemixer.styles import Style

#: Long side of the photo its features are taken at.
FEATURE_SIDE = 384
#: Reflect padding around a picture before its features are taken (a multiple of 32).
FEATURE_PAD = 32
#: Trunk blocks whose outputs describe a superpixel (stride 16: 64 and 96 channels).
SEGMENT_BLOCKS = (9, 12)
#: The trunk block whose expanded (960-channel, stride-32) features are matched.
MATCH_BLOCK = 16
#: A cell's fit to a style: mean cosine similarity to this share of the style picture's cells, its
#: nearest (the least similar rest of the painting does not count against it).
MATCH_SHARE = 0.8
#: Long side a style picture is described at (the predictor was trained on 256-pixel pictures).
STYLE_SIDE = 256
#: Long side a preset paints the photo at to be described (see :func:`style_features`).
PRESET_SIDE = 160
#: Long side of the photo its superpixels, regions and the plan's map are made at (the map is brought
#: to full resolution along the photo's edges by :class:`EdgeMap`).
SEGMENT_SIDE = 256
#: Superpixels per photo, their compactness (colour against position, SLIC's ``m``) and iterations.
SUPERPIXELS = 250
SUPERPIXEL_COMPACTNESS = 10.0
SUPERPIXEL_ITERATIONS = 10
#: The cuts of the photo into regions, whose verdicts each superpixel averages: every pairing of a
#: position weight (these fractions of the control's) with a weight of a superpixel's mean colour
#: (CIELAB / 100) beside its deep features. Several cuts, because one cut's mistakes (an object split
#: in two, or joined to its background) are rarely every cut's.
POSITION_FRACTIONS = (1.0, 0.5, 0.25)
COLOUR_WEIGHTS = (0.5, 1.0)
#: Every chosen style gets at least this share of the picture when the regions allow it.
MIN_SHARE = 0.1
#: k-means iterations (fixed, for determinism and bounded time).
KMEANS_ITERATIONS = 25
#: Feathering of the map: Gaussian sigma at ``softness`` 1, as a fraction of the long side.
SOFTNESS_SCALE = 0.01


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

    ``weight_map`` (1, K, h, w): per-pixel style weights summing to 1, at the planned picture's size
    (:data:`SEGMENT_SIDE`); any (1, K, h, w) map of that kind can drive the painting, this one or one
    drawn by a person. ``labels`` (h, w): the region of each pixel in the cut made with the
    controls' own settings.
    """

    weight_map: Tensor
    labels: np.ndarray

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


# -- features ---------------------------------------------------------------------------------------


def _crop(f: Tensor, stride: int, size: tuple[int, int]) -> Tensor:
    """The cells of a padded picture's feature map ``f`` (N, C, ., .) that cover the picture itself."""
    cut = FEATURE_PAD // stride
    gh, gw = -(-size[0] // stride), -(-size[1] // stride)
    return f[:, :, cut : cut + gh, cut : cut + gw].float()


def _trunk(predictor: StylePredictor, x: Tensor, *, segment: bool) -> tuple[Tensor | None, Tensor]:
    """Stride-16 segment features (N, 160, ., .) if asked, and the match features (N, 960, ., .).

    The picture is reflect-padded by :data:`FEATURE_PAD` px first and the grids cropped back: the
    trunk zero-pads at its borders, which otherwise gives the outermost cells features of their own
    (a frame that clustering would take for a region).
    """
    size = (x.shape[2], x.shape[3])
    padded = F.pad(x, (FEATURE_PAD,) * 4, mode="reflect")
    h = predictor.stem(padded.contiguous(memory_format=torch.channels_last))
    parts = []
    for i, block in enumerate(predictor.blocks[:MATCH_BLOCK]):
        h = block(h)
        if segment and i in SEGMENT_BLOCKS:
            parts.append(F.normalize(_crop(h, 16, size), dim=1))
    last = predictor.blocks[MATCH_BLOCK]
    assert last.expand is not None
    match = F.normalize(_crop(last.depthwise(last.expand(h)), 32, size), dim=1)
    seg = torch.cat(parts, dim=1) / np.sqrt(len(parts)) if segment else None
    return seg, match


def photo_features(predictor: StylePredictor, x: Tensor) -> tuple[Tensor, Tensor]:
    """The photo ``x`` (1, 3, H, W)'s descriptors: segment (160, ceil(H/16), ceil(W/16)), both stride-16
    blocks unit length per position; match (960, ceil(H/32), ceil(W/32)), unit length per position.

    Example:
        >>> seg, match = photo_features(nets.predictor, image_to_tensor(photo))  # doctest: +SKIP
        >>> seg.shape[0], match.shape[0]  # doctest: +SKIP
        (160, 960)
    """
    seg, match = _trunk(predictor, x, segment=True)
    assert seg is not None
    return seg[0], match[0]


def style_features(predictor: StylePredictor, pictures: Sequence[Image.Image]) -> list[Tensor]:
    """Match descriptors (960, gh, gw) of each style picture at :data:`STYLE_SIDE` (smaller ones as
    they are); pictures of one size go through the trunk as one batch (a preset's renderings of
    the photo all share its size).

    Example:
        >>> [s.shape[0] for s in style_features(nets.predictor, [painting_a, painting_b])]  # doctest: +SKIP
        [960, 960]
    """
    sized = [resize_long_side(p, STYLE_SIDE) if max(p.size) > STYLE_SIDE else p for p in pictures]
    tensors = [image_to_tensor(p) for p in sized]
    out: list[Tensor | None] = [None] * len(tensors)
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, t in enumerate(tensors):
        by_size.setdefault((t.shape[2], t.shape[3]), []).append(i)
    for members in by_size.values():
        _, match = _trunk(predictor, torch.cat([tensors[i] for i in members]), segment=False)
        for j, i in enumerate(members):
            out[i] = match[j]
    return [t for t in out if t is not None]


def cell_fit(match: Tensor, style_sets: Sequence[Tensor], share: float = MATCH_SHARE) -> Tensor:
    """Fit (K, gh, gw) of each photo cell to each style: mean cosine to its nearest ``share`` of the
    style picture's cells, centred per style over the photo and scaled by the spread of all fits.

    Example:
        >>> cell_fit(match, [style_a, style_b]).shape  # doctest: +SKIP
        torch.Size([2, 12, 9])
    """
    d, gh, gw = match.shape
    pts = match.reshape(d, -1).T  # (N, D)
    fits = []
    for style in style_sets:
        sims = pts @ style.reshape(d, -1)  # (N, M)
        fits.append(sims.topk(max(1, round(share * sims.shape[1])), dim=1).values.mean(dim=1))
    fit = torch.stack(fits)  # (K, N)
    fit = fit - fit.mean(dim=1, keepdim=True)
    return (fit / fit.std().clamp(min=1e-6)).reshape(len(style_sets), gh, gw)


# -- superpixels and regions ------------------------------------------------------------------------


def to_lab(x: Tensor) -> Tensor:
    """sRGB (1, 3, H, W) in 0..1 to CIELAB (3, H, W) (D65 white).

    Example:
        >>> [round(v) for v in to_lab(torch.ones(1, 3, 1, 1)).flatten().tolist()]
        [100, 0, 0]
    """
    lin = torch.where(x[0] <= 0.04045, x[0] / 12.92, ((x[0] + 0.055) / 1.055) ** 2.4)
    m = torch.tensor([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = torch.einsum("ij,jhw->ihw", m, lin) / torch.tensor([0.95047, 1.0, 1.08883]).reshape(3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp(min=1e-8) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.stack([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def superpixels(
    lab: Tensor,
    n_segments: int = SUPERPIXELS,
    compactness: float = SUPERPIXEL_COMPACTNESS,
    iterations: int = SUPERPIXEL_ITERATIONS,
) -> Tensor:
    """SLIC superpixels (Achanta et al. 2012) of a CIELAB picture (3, H, W) -> labels (H, W), 0..n-1.

    Centres start at the middles of a grid of blocks of about S x S pixels; each pixel joins the
    nearest of the 3 x 3 centres around its block by colour distance plus ``compactness / S``-scaled
    position distance; centres move to their pixels' means; a fixed number of rounds. The pixels are
    held block by block, so each round is one batched product of every block's pixels with its nine
    candidate centres (no per-pixel gathers). Deterministic; labels numbered compactly.

    Example:
        >>> superpixels(torch.zeros(3, 40, 40), n_segments=4).unique().numel()
        4
    """
    _, h, w = lab.shape
    step = max(2, round((h * w / n_segments) ** 0.5))
    gh, gw = max(1, round(h / step)), max(1, round(w / step))
    sy, sx = -(-h // gh), -(-w // gw)  # block size; the picture is padded to whole blocks
    s = compactness / step
    rows = torch.arange(h, dtype=torch.float32)[:, None].expand(h, w) * s
    cols = torch.arange(w, dtype=torch.float32)[None, :].expand(h, w) * s
    pad = (0, gw * sx - w, 0, gh * sy - h)
    feat = F.pad(torch.cat([lab, rows[None], cols[None]])[None], pad, mode="replicate")[0]  # (5, H', W')
    valid = F.pad(torch.ones(1, 1, h, w), pad)[0, 0]  # padding pixels move no centre
    blocks = feat.reshape(5, gh, sy, gw, sx).permute(1, 3, 2, 4, 0).reshape(gh, gw, sy * sx, 5)
    weight = valid.reshape(gh, sy, gw, sx).permute(0, 2, 1, 3).reshape(-1)
    norms = (blocks**2).sum(dim=-1, keepdim=True)  # (gh, gw, P, 1)
    mid_y = (torch.arange(gh) * sy + sy // 2).clamp(max=h - 1)
    mid_x = (torch.arange(gw) * sx + sx // 2).clamp(max=w - 1)
    centres = feat[:, mid_y][:, :, mid_x].permute(1, 2, 0).reshape(gh * gw, 5).clone()
    ids = F.pad(torch.arange(gh * gw, dtype=torch.float32).reshape(1, 1, gh, gw), (1, 1, 1, 1), value=-1.0)
    around = F.unfold(ids, 3).reshape(9, gh, gw).permute(1, 2, 0).long()  # (gh, gw, 9), -1 outside
    outside = (around < 0)[:, :, None, :]
    around = around.clamp(min=0)
    flat = blocks.reshape(-1, 5) * weight[:, None]
    label = around[:, :, 4:5].expand(gh, gw, sy * sx)
    for _ in range(iterations):
        c = centres[around]  # (gh, gw, 9, 5)
        d = norms - 2 * torch.matmul(blocks, c.transpose(-1, -2)) + (c**2).sum(dim=-1)[:, :, None, :]
        label = around.gather(2, d.masked_fill_(outside, float("inf")).argmin(dim=-1))  # (gh, gw, P)
        sums = torch.zeros(gh * gw, 5).index_add_(0, label.reshape(-1), flat)
        count = torch.zeros(gh * gw).index_add_(0, label.reshape(-1), weight)
        centres = torch.where(count[:, None] > 0, sums / count.clamp(min=1)[:, None], centres)
    image = label.reshape(gh, gw, sy, sx).permute(0, 2, 1, 3).reshape(gh * sy, gw * sx)[:h, :w]
    return torch.unique(image, return_inverse=True)[1]


def _pool(labels: Tensor, n: int, values: Tensor) -> Tensor:
    """Mean of ``values`` (C, H, W) over each of the ``n`` labels of ``labels`` (H, W) -> (n, C)."""
    flat = labels.reshape(-1)
    sums = torch.zeros(values.shape[0], n).index_add_(1, flat, values.reshape(values.shape[0], -1))
    count = torch.bincount(flat, minlength=n).clamp(min=1)
    return (sums / count).T


def _pool_cells(labels: Tensor, n: int, cells: Tensor, step: int = 2) -> Tensor:
    """Mean over each label of ``labels`` (H, W) of the grid ``cells`` (C, gh, gw) covering the picture,
    bilinearly interpolated: sampled at every ``step``-th pixel, not as C full-size maps."""
    sampled = labels[step // 2 :: step, step // 2 :: step]
    grid = F.interpolate(cells[None], size=sampled.shape, mode="bilinear", align_corners=False)[0]
    return _pool(sampled, n, grid)


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
    # Number regions by first appearance so labels do not depend on seeding order.
    order = {old: new for new, old in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[v] for v in labels.tolist()], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Superpixels:
    """A photo's superpixels and what regions are cut from: ``labels`` (h, w); per superpixel its mean
    deep features ``deep`` (n, D), colour ``colour`` (n, 3, CIELAB / 100), centroid ``centre`` (n, 2,
    in units of the long side) and ``area`` (n,) in pixels."""

    labels: Tensor
    deep: Tensor
    colour: Tensor
    centre: Tensor
    area: Tensor

    @classmethod
    def of(cls, lab: Tensor, segment: Tensor) -> Superpixels:
        """The superpixels of a CIELAB picture (3, h, w), described with the deep features ``segment``."""
        labels = superpixels(lab)
        h, w = labels.shape
        n = int(labels.max()) + 1
        rows = torch.arange(h, dtype=torch.float32)[:, None].expand(h, w) / max(h, w)
        cols = torch.arange(w, dtype=torch.float32)[None, :].expand(h, w) / max(h, w)
        pooled = _pool(labels, n, torch.cat([lab / 100.0, torch.stack([rows, cols])]))  # (n, 5)
        area = torch.bincount(labels.reshape(-1), minlength=n).float()
        return cls(labels, _pool_cells(labels, n, segment), pooled[:, :3], pooled[:, 3:], area)

    def cut(self, n_regions: int, position_weight: float, colour_weight: float) -> np.ndarray:
        """The region of each superpixel: k-means on its deep features, colour (weighted
        ``colour_weight``) and position (weighted ``position_weight``), as the paper weights spatial
        position in; regions numbered by first appearance."""
        points = torch.cat([self.deep, self.colour * colour_weight, self.centre * position_weight], dim=1)
        return kmeans(points.numpy(), n_regions)


def choose(fit: Tensor, area: Tensor, min_share: float = MIN_SHARE) -> Tensor:
    """The style of each superpixel from its fits (n, K): the best, then every style that holds less
    than ``min_share`` of the ``area`` (n,) favoured by the least constant that gives it that share
    (a style the person picked should be seen), styles taken in order. Deterministic.

    Example:
        >>> fit = torch.tensor([[0.3, 0.0], [0.2, 0.0], [0.1, 0.05]])
        >>> choose(fit, torch.tensor([5.0, 3.0, 2.0])).tolist()
        [0, 0, 1]
    """
    fit = fit.clone()
    total = float(area.sum())
    for k in range(fit.shape[1]):
        style = fit.argmax(dim=1)
        if float(area[style == k].sum()) >= min_share * total:
            continue
        others = torch.cat([fit[:, :k], fit[:, k + 1 :]], dim=1).max(dim=1).values
        margin = fit[:, k] - others  # how much style k loses on each superpixel (< 0 where it does)
        order = torch.argsort(margin, descending=True, stable=True)
        reached = torch.cumsum(area[order], dim=0) >= min_share * total
        last = order[int(torch.nonzero(reached)[0])] if bool(reached.any()) else order[-1]
        fit[:, k] += float(-margin[last]) + 1e-6  # style k now wins exactly its best share
    return fit.argmax(dim=1)


# -- the map ----------------------------------------------------------------------------------------


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


def soft_map(styles: Tensor, n_styles: int, softness: float) -> Tensor:
    """Per-pixel weights (1, K, h, w) from each pixel's style (h, w): one-hot, feathered by ``softness``
    (a Gaussian of ``softness`` x :data:`SOFTNESS_SCALE` of the long side), summing to 1."""
    m = F.one_hot(styles, n_styles).permute(2, 0, 1).unsqueeze(0).float()
    m = gaussian_blur(m, sigma=softness * SOFTNESS_SCALE * max(styles.shape))
    return m / m.sum(dim=1, keepdim=True).clamp(min=1e-6)


# -- planning ---------------------------------------------------------------------------------------


def plan_regions(
    predictor: StylePredictor,
    photo: Image.Image,
    style_pictures: Sequence[Image.Image],
    settings: RegionSettings,
) -> RegionPlan:
    """Where each style goes on ``photo``, from the styles' pictures (in the order given).

    For a preset, pass its own rendering of the photo as its picture.

    Example:
        >>> plan = plan_regions(nets.predictor, photo, [painting_a, painting_b], RegionSettings(6, 1.0, 0.25))
        >>> plan.shares()  # doctest: +SKIP
        [0.62, 0.38]
    """
    with torch.inference_mode():
        segment, match = photo_features(predictor, image_to_tensor(resize_long_side(photo, FEATURE_SIDE)))
        lab = to_lab(image_to_tensor(resize_long_side(photo, SEGMENT_SIDE)))
        h, w = lab.shape[1], lab.shape[2]
        spx = Superpixels.of(lab, segment)
        fit_map = cell_fit(match, style_features(predictor, style_pictures))  # (K, gh, gw)
        fit_px = F.interpolate(fit_map[None], size=(h, w), mode="bilinear", align_corners=False)[0]
        # Each cut's regions average their cells' fits; each superpixel takes the mean over the cuts.
        fit = torch.zeros(len(spx.area), len(style_pictures))
        cuts = []
        for position_weight in (settings.position_weight * f for f in POSITION_FRACTIONS):
            for colour_weight in COLOUR_WEIGHTS:
                region_of = torch.as_tensor(spx.cut(settings.n_regions, position_weight, colour_weight))
                fit += _pool(region_of[spx.labels], int(region_of.max()) + 1, fit_px)[region_of]
                cuts.append(region_of)
        fit /= len(cuts)
        choice = choose(fit, spx.area)
        weight_map = soft_map(choice[spx.labels], len(style_pictures), settings.softness)
        main = cuts[0]  # the cut at the controls' own settings
    return RegionPlan(weight_map=weight_map, labels=main[spx.labels].numpy())


def preset_renderings(
    multistyle: MultiStyleNet, photo: Image.Image, preset_ids: Sequence[str], side: int = PRESET_SIDE
) -> list[Image.Image]:
    """The photo painted in each preset at ``side`` px, in one batched pass: how presets are
    described for matching (their own painting is not at hand)."""
    if not preset_ids:
        return []
    small = resize_long_side(photo, side)
    x, h, w = pad_to_multiple(image_to_tensor(small))
    table = torch.zeros(len(preset_ids), NUM_PRESETS)
    for row, preset_id in enumerate(preset_ids):
        table[row, get_preset(preset_id).index] = 1.0
    with torch.inference_mode():
        out = multistyle(x.expand(len(preset_ids), -1, -1, -1).contiguous(), table)
        return [tensor_to_image(out[i : i + 1, :, :h, :w]) for i in range(len(preset_ids))]


def plan_for_styles(
    networks: Networks, photo: Image.Image, styles: Sequence[Style], options: StylizeOptions
) -> RegionPlan:
    """:func:`plan_regions` for ``styles`` as a job names them (presets described by their rendering
    of the photo, pictures by themselves), with the region controls of ``options``."""
    presets = [s.preset_id for s in styles if isinstance(s, PresetStyle)]
    rendered = iter(preset_renderings(networks.multistyle, photo, presets))
    pictures = [s.image if isinstance(s, ImageStyle) else next(rendered) for s in styles]
    count = options.region_count(len(styles))
    settings = RegionSettings(count, options.position_weight, options.edge_softness)
    return plan_regions(networks.predictor, photo, pictures, settings)
