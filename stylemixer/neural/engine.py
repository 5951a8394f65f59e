"""The style-transfer engine: presets, custom styles, blends, strength and colour, on CPU torch.

The API function never imports it (nor anything in :mod:`stylemixer.neural`); the worker and the
CLI do, once, and keep one :class:`Engine` (weights loaded once per process).

Two networks do the painting:

- presets run through multistyle26 (Dumoulin et al. 2017); a blend of presets is a blend of their
  conditional instance-norm tables, which is what the network was trained to interpolate;
- any picture as a style goes through the style predictor and the arbitrary transformer (Ghiasi et al.
  2017); a blend of custom styles is a weighted mean of their 100-number style vectors.

The two spaces do not meet, so a blend that mixes presets with custom styles is refused; the regions
mix places each kind on its own part of the picture instead (:mod:`stylemixer.neural.regions`): one pass
per network whose normalisation parameters vary per pixel with a soft map of style weights, the
two networks' shares composited with the same map.

Full resolution: the style is painted at the scale the stroke size asks for, then brought back to
the photo's resolution with its fine detail (:mod:`stylemixer.neural.stroke`); a picture too large
for one pass within the memory budget runs in bands with the whole picture's normalisation
statistics, which gives the same numbers as one pass (:mod:`stylemixer.neural.bands`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from stylemixer.images import fit_within
from stylemixer.neural.bands import (
    DEFAULT_BUDGET,
    ONE_PASS_BYTES_PER_PIXEL,
    BandPlan,
    Conditioning,
    map_rows,
    run_arbitrary,
    run_multistyle,
)
from stylemixer.neural.regions import (
    PRESET_SIDE,
    RegionPlan,
    RegionSettings,
    plan_regions,
    region_image,
    resize_long_side,
)
from stylemixer.neural.stroke import restore_detail, working_size
from stylemixer.neural.tensors import SIDE_MULTIPLE, image_to_tensor, pad_to_multiple, tensor_to_image
from stylemixer.neural.weights import Networks, default_weights_path, load_networks
from stylemixer.options import Mix, StylizeOptions
from stylemixer.presets import NUM_PRESETS, get_preset
from stylemixer.progress import ProgressCallback, Stages
from stylemixer.styles import ImageStyle, PresetStyle, Style, StylizeResult

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

#: The predictor sees styles at this size (it was trained on 256 x 256 centre crops).
PREDICTOR_SIZE = 256


def square_crop(img: Image.Image, size: int = PREDICTOR_SIZE) -> Image.Image:
    """The centre square of ``img`` resized to ``size``: what the style predictor was trained on."""
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)


def keep_colors(stylized: Image.Image, photo: Image.Image) -> Image.Image:
    """Luminance from the stylization, colour (Cb, Cr) from the photo."""
    y, _, _ = stylized.convert("YCbCr").split()
    _, cb, cr = photo.resize(stylized.size, Image.Resampling.LANCZOS).convert("YCbCr").split()
    return Image.merge("YCbCr", (y, cb, cr)).convert("RGB")


class _LayerProgress:
    """Reports a forward pass's progress by counting its convolutions as they finish.

    A single pass has no natural progress of its own; convolutions are where the time goes and come in
    a fixed order, so the count of finished ones is an honest fraction.
    """

    def __init__(self, module: torch.nn.Module, report: ProgressCallback) -> None:
        self._convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
        self._report = report
        self._done = 0
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> _LayerProgress:
        total = max(len(self._convs), 1)

        def hook(*_args: object) -> None:
            self._done += 1
            self._report("stylize", min(self._done / total, 1.0))

        self._handles = [conv.register_forward_hook(hook) for conv in self._convs]
        return self

    def __exit__(self, *_exc: object) -> None:
        for handle in self._handles:
            handle.remove()


@dataclass(frozen=True, slots=True)
class _Painting:
    """One network's pass: presets ``indices`` or custom ``vectors`` (K, 100), mixed by ``cond``."""

    cond: Conditioning
    indices: list[int] | None = None
    vectors: torch.Tensor | None = None


class Engine:
    """Stylizes pictures with the project's torch networks.

    ``budget``: bytes of working memory a pass may use; a larger picture runs in bands.

    Example:
        >>> engine = Engine.default()
        >>> result = engine.stylize(photo, [PresetStyle("swirling-night")], StylizeOptions(strength=0.8))
        >>> result.image.size
        (512, 512)
    """

    def __init__(self, networks: Networks, *, budget: int = DEFAULT_BUDGET) -> None:
        self.networks = networks
        self.budget = budget

    @classmethod
    def default(cls, weights_path: Path | None = None) -> Engine:
        """The process-wide engine: weights are read once, however often this is called."""
        return _default_engine(weights_path or default_weights_path())

    # -- public ---------------------------------------------------------------------------------

    def stylize(
        self,
        content: Image.Image,
        styles: Sequence[Style],
        options: StylizeOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> StylizeResult:
        """Paint ``content`` in ``styles`` (presets and/or pictures) as ``options`` ask.

        The output has the content's size, or less if ``options.max_size`` asks for it. With
        ``mix=Mix.REGIONS`` the result also carries the palette region map.
        """
        options = options or StylizeOptions()
        presets = [s for s in styles if isinstance(s, PresetStyle)]
        options.validate(len(styles), n_presets=len(presets))
        weights = options.normalized_weights(len(styles))
        regions = options.mix is Mix.REGIONS
        stages = Stages({"prepare": 1, "style": 3 if regions else 1, "stylize": 12, "finish": 1}, progress)
        stages.report("prepare", 0.0)
        photo = fit_within(content if content.mode == "RGB" else content.convert("RGB"), options.max_size)
        work_size = working_size(photo.size, options.stroke)
        work = photo if work_size == photo.size else photo.resize(work_size, Image.Resampling.LANCZOS)
        stages.report("prepare", 1.0)

        with torch.inference_mode():
            plan: RegionPlan | None = None
            if regions:
                plan = self.plan_regions(work, styles, options)
                paintings = self._region_paintings(styles, plan, work, options.strength)
            elif presets:
                paintings = [_Painting(Conditioning(torch.tensor(weights)), indices=self._indices(presets))]
            else:
                images = [s for s in styles if isinstance(s, ImageStyle)]
                vector = self.blended_style_vector(images, weights, work, options.strength)
                paintings = [_Painting(Conditioning(torch.ones(1)), vectors=vector)]
            stages.report("style", 1.0)
            painted = self._paint_all(
                work, paintings, plan=plan, styles=styles, strength=options.strength, stages=stages
            )

        stylized = Image.fromarray(painted, "RGB")
        if work.size != photo.size:
            stylized = Image.fromarray(restore_detail(painted, np.asarray(work), np.asarray(photo)), "RGB")
        if options.preserve_color:
            stylized = keep_colors(stylized, photo)
        if presets and len(presets) == len(styles) and options.strength < 1.0:
            # multistyle26 has no "no style" entry to interpolate towards, so strength fades the
            # stylization into the photo; custom styles interpolate in style space instead.
            stylized = Image.blend(photo, stylized, float(options.strength))
        regions_img = region_image(plan.weight_map, photo.size) if plan is not None else None
        stages.report("finish", 1.0)
        return StylizeResult(image=stylized, regions=regions_img)

    def plan_regions(
        self, photo: Image.Image, styles: Sequence[Style], options: StylizeOptions
    ) -> RegionPlan:
        """Where each style goes on ``photo``: regions, their styles, the soft per-pixel map."""
        rendered = iter(
            self.preset_renderings(photo, [s.preset_id for s in styles if isinstance(s, PresetStyle)])
        )
        pictures = [s.image if isinstance(s, ImageStyle) else next(rendered) for s in styles]
        settings = RegionSettings(
            options.region_count(len(styles)), options.position_weight, options.edge_softness
        )
        return plan_regions(self.networks.predictor, photo, pictures, settings)

    def preset_renderings(
        self, photo: Image.Image, preset_ids: Sequence[str], side: int = PRESET_SIDE
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
            out = self.networks.multistyle(x.expand(len(preset_ids), -1, -1, -1).contiguous(), table)
            return [tensor_to_image(out[i : i + 1, :, :h, :w]) for i in range(len(preset_ids))]

    def style_vector(self, image: Image.Image) -> torch.Tensor:
        """The predictor's 100-number description of a picture's style, shape (1, 100)."""
        with torch.inference_mode():
            return self.networks.predictor(image_to_tensor(square_crop(image)))

    def blended_style_vector(
        self, styles: Sequence[ImageStyle], weights: Sequence[float], photo: Image.Image, strength: float
    ) -> torch.Tensor:
        """Weighted mean of the styles' vectors, moved toward the photo's own by ``1 - strength``."""
        vector = sum(
            (w * self.style_vector(s.image) for s, w in zip(styles, weights, strict=True)),
            start=torch.zeros(1, 100),
        )
        if strength < 1.0:
            vector = strength * vector + (1.0 - strength) * self.style_vector(photo)
        return vector

    # -- painting -------------------------------------------------------------------------------

    @staticmethod
    def _indices(presets: Sequence[PresetStyle]) -> list[int]:
        return [get_preset(p.preset_id).index for p in presets]

    def _region_paintings(
        self, styles: Sequence[Style], plan: RegionPlan, photo: Image.Image, strength: float
    ) -> list[_Painting]:
        """One painting per network present, each with its styles' channels of the map, renormalised."""
        out = []
        for kind in (PresetStyle, ImageStyle):
            chosen = [i for i, s in enumerate(styles) if isinstance(s, kind)]
            if not chosen:
                continue
            m = plan.weight_map[:, chosen]
            share = m.sum(dim=1, keepdim=True)
            m = torch.where(share > 1e-6, m / share.clamp(min=1e-6), torch.full_like(m, 1.0 / len(chosen)))
            if kind is PresetStyle:
                out.append(
                    _Painting(Conditioning(weight_map=m), indices=self._indices([styles[i] for i in chosen]))
                )
            else:
                vectors = torch.cat([self.style_vector(styles[i].image) for i in chosen])  # (K, 100)
                if strength < 1.0:
                    vectors = strength * vectors + (1.0 - strength) * self.style_vector(photo)
                out.append(_Painting(Conditioning(weight_map=m), vectors=vectors))
        return out

    def _paint_all(
        self,
        work: Image.Image,
        paintings: list[_Painting],
        *,
        plan: RegionPlan | None,
        styles: Sequence[Style],
        strength: float,
        stages: Stages,
    ) -> np.ndarray:
        """Run each painting; with two (presets and custom styles), composite them with the map."""
        n = len(paintings)
        outs = []
        for i, painting in enumerate(paintings):
            report = lambda _s, f, i=i: stages.report("stylize", (i + f) / n)  # noqa: E731
            outs.append(self._paint(work, painting, report))
        if n == 1:
            return outs[0]
        assert plan is not None
        chosen = [i for i, s in enumerate(styles) if isinstance(s, PresetStyle)]
        photo = np.asarray(work)
        preset_out = outs[0]
        if strength < 1.0:  # presets fade toward the photo, as in a blend of presets
            preset_out = (strength * preset_out + (1.0 - strength) * photo.astype(np.float32)).astype(
                np.float32
            )
        return _composite(plan.weight_map[:, chosen].sum(dim=1, keepdim=True), preset_out, outs[1])

    def _paint(self, work: Image.Image, painting: _Painting, report: ProgressCallback) -> np.ndarray:
        """One network over ``work`` -> uint8 (H, W, 3): one pass if it fits the budget, else in bands."""
        width, height = work.size
        one_pass = (
            painting.cond.weight_map is None and width * height * ONE_PASS_BYTES_PER_PIXEL <= self.budget
        )
        if one_pass:
            x, h, w = pad_to_multiple(image_to_tensor(work))
            weights = painting.cond.weights
            assert weights is not None
            if painting.indices is not None:
                table = torch.zeros(NUM_PRESETS).index_add_(0, torch.tensor(painting.indices), weights)
                with _LayerProgress(self.networks.multistyle, report):
                    out = self.networks.multistyle(x, table)
            else:
                assert painting.vectors is not None
                with _LayerProgress(self.networks.transformer, report):
                    out = self.networks.transformer(x, (weights @ painting.vectors).unsqueeze(0))
            return np.asarray(tensor_to_image(out[..., :h, :w]))
        arr = np.array(work)  # one writable copy (torch wants one), (H, W, 3) uint8
        ph, pw = (-height) % SIDE_MULTIPLE, (-width) % SIDE_MULTIPLE
        if ph or pw:
            arr = np.pad(arr, ((0, ph), (0, pw), (0, 0)), mode="reflect")
        image = torch.from_numpy(arr)
        plan = BandPlan.for_size(height + ph, width + pw, self.budget)
        if painting.indices is not None:
            out = run_multistyle(
                self.networks.multistyle, image, painting.indices, painting.cond, plan=plan, progress=report
            )
        else:
            assert painting.vectors is not None
            out = run_arbitrary(
                self.networks.transformer, image, painting.vectors, painting.cond, plan=plan, progress=report
            )
        return np.ascontiguousarray(out[:height, :width])


def _composite(share: torch.Tensor, a: np.ndarray, b: np.ndarray, rows_per_band: int = 256) -> np.ndarray:
    """``share * a + (1 - share) * b`` with ``share`` (1, 1, h, w) resized to the pictures, in bands."""
    height, width = a.shape[:2]
    out = np.empty((height, width, 3), dtype=np.uint8)
    for r0 in range(0, height, rows_per_band):
        r1 = min(r0 + rows_per_band, height)
        s = map_rows(share, (height, width), torch.arange(r0, r1))[0, 0].numpy()[..., None]
        band = s * a[r0:r1].astype(np.float32) + (1.0 - s) * b[r0:r1].astype(np.float32)
        out[r0:r1] = np.clip(band + 0.5, 0, 255).astype(np.uint8)
    return out


@functools.cache
def _default_engine(weights_path: Path | None) -> Engine:
    return Engine(load_networks(weights_path))
