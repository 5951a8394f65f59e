"""The regions mix's two candidate ways of painting, measured: does each style look like itself?

Both paint the Style Mixer paper's cases (../shared/testdata/multistyle/m1..m3) with the same map
(the engine's plan, brought to the picture along its edges) and are judged inside each region's
interior (the map eroded by 3 % of the short side) against the same style painted alone:
mean-colour difference (CIELAB ΔE76) and fine-texture energy (luminance minus its Gaussian blur,
sigma 2) as a ratio.

- ``composite``: what the engine does: each style painted alone over the whole picture, the
  paintings composited along the map (:meth:`stylemixer.neural.engine.Engine.paint_regions`);
- ``region_norm``: one pass of the arbitrary transformer in which every instance norm takes each
  style's statistics over that style's own region (weighted by the map), so the styles' statistics
  no longer mix; implemented here only, for this measurement (a plain walk of the network's
  layers with per-pixel conditioning, which the service does not have).

    PYTHONPATH=. .venv/bin/python bench/regions_looks.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image
from skimage.color import rgb2lab
from skimage.filters import gaussian
from skimage.morphology import erosion, footprint_rectangle

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stylemixer.images import read_image  # noqa: E402
from stylemixer.neural import networks  # noqa: E402
from stylemixer.neural.engine import Engine  # noqa: E402
from stylemixer.neural.networks import ConvLayer, Layer, Residual  # noqa: E402
from stylemixer.neural.regions import EdgeMap  # noqa: E402
from stylemixer.neural.stroke import restore_detail, working_size  # noqa: E402
from stylemixer.neural.tensors import image_to_tensor, pad_to_multiple, tensor_to_image  # noqa: E402
from stylemixer.options import StylizeOptions  # noqa: E402
from stylemixer.styles import ImageStyle  # noqa: E402

TESTDATA = ROOT.parent / "shared" / "testdata" / "multistyle"
REGIONS = StylizeOptions(mix="regions")


def interior(regions: np.ndarray, k: int) -> np.ndarray:
    """Region k's pixels at least 3 % of the short side from any other region."""
    r = max(1, round(0.03 * min(regions.shape)))
    return erosion(regions == k, footprint_rectangle((2 * r + 1, 2 * r + 1)))


def looks(mixed: np.ndarray, alone: np.ndarray, inside: np.ndarray) -> tuple[float, float]:
    """Mean-colour ΔE76 and fine-texture energy ratio of ``mixed`` against ``alone`` over ``inside``."""
    lab_m, lab_a = rgb2lab(mixed), rgb2lab(alone)
    delta_e = float(np.linalg.norm(lab_m[inside].mean(axis=0) - lab_a[inside].mean(axis=0)))

    def texture(lab: np.ndarray) -> float:
        light = lab[..., 0]
        return float(((light - gaussian(light, sigma=2, preserve_range=True))[inside] ** 2).mean())

    return delta_e, texture(lab_m) / texture(lab_a)


def _region_normalize(
    layer: ConvLayer, y: torch.Tensor, vectors: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """``layer``'s instance norm of ``y`` with each style's statistics over its own region of the map
    ``weights`` (1, K, h, w), scaled and shifted by that style's parameters, blended by the map."""
    assert layer.style is not None
    m = F.interpolate(weights, size=y.shape[-2:], mode="bilinear", align_corners=False)
    gamma, beta = layer.style.params(vectors)  # (K, C)
    out = torch.zeros_like(y)
    for k in range(gamma.shape[0]):
        w = m[:, k : k + 1]
        total = w.sum().clamp(min=1e-6)
        mean = (y * w).sum(dim=(2, 3), keepdim=True) / total
        var = ((y - mean) ** 2 * w).sum(dim=(2, 3), keepdim=True) / total
        z = (y - mean) * torch.rsqrt(var + networks.NORM_EPS)
        out += w * (z * gamma[k].reshape(1, -1, 1, 1) + beta[k].reshape(1, -1, 1, 1))
    return out


def _region_layer(
    layer: Layer, x: torch.Tensor, vectors: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """One layer of the network's description, run plainly, its norm by region (the comparison's own
    copy of a pass with per-pixel conditioning, which the service does not use)."""
    if isinstance(layer, Residual):
        h = _region_layer(layer.conv1, x, vectors, weights)
        return x + _region_layer(layer.conv2, h, vectors, weights)
    if layer.upsample:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
    y = layer.conv(F.pad(x, (layer.pad,) * 4, mode="reflect"))
    if layer.style is not None:
        y = _region_normalize(layer, y, vectors, weights)
    return y.clamp(min=0.0) if layer.relu else y


def region_norm(
    engine: Engine, photo: Image.Image, styles: list[ImageStyle], weights: torch.Tensor
) -> np.ndarray:
    """One pass of the arbitrary transformer, each style normalised over its own region of ``weights``
    (1, K, h, w), painted at the working size the stroke asks for and brought to the photo's size as
    a single style is (so it compares with the style alone on equal terms)."""
    size = working_size(photo.size, REGIONS.stroke)  # as the engine resizes the photo to paint it
    work = photo if size == photo.size else photo.resize(size, Image.Resampling.LANCZOS)
    x, h, w = pad_to_multiple(image_to_tensor(work))
    weights = F.interpolate(weights, size=(h, w), mode="bilinear", align_corners=False)
    weights = F.pad(weights, (0, x.shape[-1] - w, 0, x.shape[-2] - h), mode="replicate")
    vectors = torch.cat([engine.style_vector(s.image) for s in styles])
    with torch.inference_mode():
        for layer in engine.networks.transformer.layers():
            x = _region_layer(layer, x, vectors, weights)
        out = torch.sigmoid(x)
    painted = np.asarray(tensor_to_image(out[..., :h, :w]))
    if work.size == photo.size:
        return painted
    return restore_detail(painted, np.asarray(work), np.asarray(photo))


def weights_at(engine: Engine, photo: Image.Image, styles: list[ImageStyle]) -> torch.Tensor:
    """The plan's map at the photo's size, along its edges, as (1, K, H, W)."""
    with torch.inference_mode():
        plan = engine.plan_regions(photo, styles, REGIONS)
        edges = EdgeMap(plan.weight_map, photo)
        rgb = np.asarray(photo)
        return torch.cat([m for _, _, m in edges.bands(rgb)], dim=2)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    engine = Engine.default()
    print("| case | style | composite ΔE76 | composite texture | region norm ΔE76 | region norm texture |")
    print("|---|---|---|---|---|---|")
    for case in ("m1", "m2", "m3"):
        photo = read_image(TESTDATA / case / "c.jpg")
        styles = [ImageStyle(read_image(TESTDATA / case / f"s{i}.jpg")) for i in (1, 2)]
        composite = engine.stylize(photo, styles, REGIONS)
        assert composite.regions is not None
        regions = np.asarray(composite.regions)
        normed = region_norm(engine, photo, styles, weights_at(engine, photo, styles))
        for k, style in enumerate(styles):
            alone = np.asarray(engine.stylize(photo, [style]).image)
            inside = interior(regions, k)
            a = looks(np.asarray(composite.image), alone, inside)
            b = looks(normed, alone, inside)
            print(f"| {case} | s{k + 1} | {a[0]:.2f} | {a[1]:.2f} | {b[0]:.1f} | {b[1]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
