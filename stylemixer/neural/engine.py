"""The style-transfer engine: presets, custom styles, blends, strength and colour, on CPU torch.

The API function never imports it (nor anything in :mod:`stylemixer.neural`); the worker and the
CLI do, once, and keep one :class:`Engine` (weights loaded once per process).

Two networks do the painting:

- presets run through multistyle26 (Dumoulin et al. 2017); a blend of presets is a blend of their
  conditional instance-norm tables, which is what the network was trained to interpolate;
- any picture as a style goes through the style predictor and the arbitrary transformer (Ghiasi et al.
  2017); a blend of custom styles is a weighted mean of their 100-number style vectors.

The two spaces do not meet, so a blend that mixes presets with custom styles is refused; the regions
mix places each style, of either kind, on its own part of the picture instead, in two steps with a
map between them: :meth:`Engine.plan_regions` decides where each style goes
(:mod:`stylemixer.neural.regions`), :meth:`Engine.paint_regions` paints each style alone over the
whole picture and composites the paintings along the map, brought to full resolution along the
photo's edges. A map from elsewhere (one a person drew) drives the second step the same way.

Why each style alone and not one pass with per-pixel normalisation parameters: that was measured
on the Style Mixer paper's cases. The styles' statistics mix through every later layer (the
instance norms normalise with the whole picture's statistics, which are now a mixture), and each
style's colours and strokes change inside its own region: mean colour 5 to 23 CIELAB units away
from the same style alone, fine texture down to a tenth of it. Normalising each style with its own
region's statistics instead keeps the textures closer but still moves the colours (up to 11
units: a region's statistics are not the picture's). Painted alone and composited, a style is
exactly itself inside its region; it costs one pass per style.

Full resolution: the style is painted at the scale the stroke size asks for, then brought back to
the photo's resolution with its fine detail (:mod:`stylemixer.neural.stroke`); a picture too large
for one pass within the memory budget runs in bands with the whole picture's normalisation
statistics, which gives the same numbers as one pass (:mod:`stylemixer.neural.bands`).
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from stylemixer.images import fit_within
from stylemixer.neural.bands import DEFAULT_BUDGET, ONE_PASS_BYTES_PER_PIXEL, BandPlan, paint_in_bands
from stylemixer.neural.networks import PREDICTOR_SIZE, STYLE_DIM, StyleTransformer
from stylemixer.neural.regions import RegionPlan, as_weight_map, composite
from stylemixer.neural.regions.plan import plan_for_styles
from stylemixer.neural.runtime import release_memory, tune_runtime
from stylemixer.neural.stroke import restore_detail, working_size
from stylemixer.neural.tensors import SIDE_MULTIPLE, image_to_tensor, pad_to_multiple, tensor_to_image
from stylemixer.neural.weights import Networks, default_weights_path, load_networks
from stylemixer.options import Mix, StylizeOptions
from stylemixer.presets import NUM_PRESETS, get_preset
from stylemixer.progress import ProgressCallback, Stages
from stylemixer.styles import ImageStyle, PresetStyle, Style, StylizeResult

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from stylemixer.clips.header import ClipHeader
    from stylemixer.neural.clip import ClipResult

#: Bytes per pixel of the style-independent first layers kept for several styles (multistyle26's
#: first convolution: 32 float channels; the arbitrary transformer's is at quarter resolution).
SHARED_BYTES_PER_PIXEL = 136
#: Share of the memory budget each painting of the regions mix may use in bands (see _paint_regions):
#: at 16 MP two presets by region peaked at 1.35-1.57 GB with the whole budget, by the allocator's
#: chance from run to run, and at 1.19-1.29 GB with three quarters of it (figures in docs/regions.md).
REGIONS_BANDS_SHARE = 0.75


def square_crop(img: Image.Image, size: int = PREDICTOR_SIZE) -> Image.Image:
    """The centre square of ``img`` resized to ``size``: what the style predictor was trained on
    (256 x 256 centre crops)."""
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
    """One network's pass: K ``styles`` (K, D) in the network's own terms (presets as one-hot rows
    of preset weights, pictures as style vectors) mixed by ``weights`` (K,)."""

    network: StyleTransformer
    styles: torch.Tensor
    weights: torch.Tensor

    def style(self) -> torch.Tensor:
        """The mix as one style, (1, D): what a whole pass takes."""
        return (self.weights @ self.styles).unsqueeze(0)


class _SharedLayers:
    """A picture's input tensor and each network's layers that no style changes
    (:meth:`~stylemixer.neural.networks.StyleTransformer.encode`), each made once when first asked
    for: several styles painted over one picture share them, with the very numbers a single pass
    computes (a style painted this way is bit for bit the style alone)."""

    def __init__(self, work: Image.Image) -> None:
        self.x, self.height, self.width = pad_to_multiple(image_to_tensor(work))
        self._encoded: dict[StyleTransformer, torch.Tensor] = {}

    def encoded(self, network: StyleTransformer) -> torch.Tensor:
        if network not in self._encoded:
            self._encoded[network] = network.encode(self.x)
        return self._encoded[network]


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
    def default(cls, weights_path: Path | None = None, *, threads: int | None = None) -> Engine:
        """The process-wide engine: weights are read once, however often this is called.

        ``threads``: torch's intra-op threads from now on (``None`` keeps torch's choice, one per
        CPU it sees); the worker passes the vCPUs its memory buys.
        """
        tune_runtime(threads)
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
        ``mix=Mix.REGIONS`` the styles are placed by :meth:`plan_regions` and painted by
        :meth:`paint_regions`, and the result also carries the palette region map.
        """
        options = options or StylizeOptions()
        presets = [s for s in styles if isinstance(s, PresetStyle)]
        options.validate(len(styles), n_presets=len(presets))
        weights = options.normalized_weights(len(styles))
        if options.mix is Mix.REGIONS:
            stages = Stages({"prepare": 1, "style": 2, "stylize": 12 * len(styles), "finish": 1}, progress)
            photo = self._prepare(content, options, stages)
            width, height = self._work(photo, options).size
            if width * height * ONE_PASS_BYTES_PER_PIXEL > self.budget:
                # Painted in bands: the plan is a small part of the time, made first, so that its
                # memory and threads never add to the bands' peak.
                weight_map = as_weight_map(self.plan_regions(photo, styles, options).weight_map, len(styles))
                stages.report("style", 1.0)
                return self._paint_regions(photo, styles, lambda: weight_map, options, stages)
            # Planning needs no painting and the first painting no plan: they run side by side (the
            # plan's many small operations leave the cores idle much of the time on their own).
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="plan-regions") as pool:
                planned = pool.submit(self.plan_regions, photo, styles, options)
                plan = lambda: as_weight_map(planned.result().weight_map, len(styles))  # noqa: E731
                return self._paint_regions(photo, styles, plan, options, stages)

        stages = Stages({"prepare": 1, "style": 1, "stylize": 12, "finish": 1}, progress)
        photo = self._prepare(content, options, stages)
        work = self._work(photo, options)
        with torch.inference_mode():
            painting = self._blend(styles, weights, work, options.strength)
            stages.report("style", 1.0)
            painted = self._paint(work, painting, lambda _s, f: stages.report("stylize", f))

        stylized = self._finished(painted, work, photo, options, faded=bool(presets))
        stages.report("finish", 1.0)
        return StylizeResult(image=stylized)

    def paint_clip(
        self,
        source: Path,
        target: Path,
        styles: Sequence[Style],
        options: StylizeOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        header: ClipHeader | None = None,
    ) -> ClipResult:
        """Paint the clip at ``source`` into an MP4 file at ``target`` (see :mod:`stylemixer.neural.clip`)."""
        from stylemixer.neural.clip import paint_clip

        return paint_clip(self, source, target, styles, options, progress=progress, header=header)

    def frame_painter(
        self, styles: Sequence[Style], options: StylizeOptions, first: Image.Image
    ) -> FramePainter:
        """Paints a clip's frames one at a time, each exactly as :meth:`stylize` paints a photo.

        The style is worked out once, on the ``first`` frame (a painting's strength below 1 moves
        its style toward the first frame's own, so that the clip's style does not drift from frame
        to frame). The regions mix is refused: its regions would be planned anew on every frame.

        Example:
            >>> painter = Engine.default().frame_painter([PresetStyle("tapestry")], StylizeOptions(), photo)
            >>> photo_at, work = painter.prepare(photo)
            >>> painter.finish(painter.paint(work), work, photo_at).size
            (512, 512)
        """
        from stylemixer.clips.exceptions import regions_not_for_clips

        presets = [s for s in styles if isinstance(s, PresetStyle)]
        options.validate(len(styles), n_presets=len(presets))
        if options.mix is Mix.REGIONS:
            raise regions_not_for_clips()
        photo = fit_within(first.convert("RGB"), options.max_size)
        with torch.inference_mode():
            weights = options.normalized_weights(len(styles))
            painting = self._blend(styles, weights, self._work(photo, options), options.strength)
        return FramePainter(self, painting, options, faded=bool(presets))

    def paint_regions(
        self,
        content: Image.Image,
        styles: Sequence[Style],
        weights: torch.Tensor | np.ndarray,
        options: StylizeOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> StylizeResult:
        """Paint each of ``styles`` where the map ``weights`` puts it: the regions mix without its planning.

        ``weights`` is a map of the content's framing at any resolution: per-pixel style weights
        (1, K, h, w) summing to 1 (a :class:`RegionPlan`'s ``weight_map``), or the index of the style
        at each pixel (h, w) (a map a person drew, or :mod:`stylemixer.regionmap`'s numbers), feathered
        by ``options.edge_softness`` as a planned map is. It is brought to the picture's size along the
        photo's own edges (:class:`~stylemixer.neural.regions.EdgeMap`); each style is painted alone
        over the whole picture and the paintings are composited with it, so inside its region each
        style looks exactly as it does alone. Presets and pictures combine freely. ``options`` as for
        :meth:`stylize` (``weights`` and the region controls aside); a map is refused without the
        regions mix (the rule every entry asks: :meth:`~stylemixer.options.StylizeOptions.validate`,
        ``with_map``).

        Example:
            >>> engine = Engine.default()
            >>> styles = [PresetStyle("swirling-night"), ImageStyle(painting_b)]
            >>> small = photo.resize((128, 128))
            >>> engine.plan_regions(small, styles, StylizeOptions(mix="regions")).weight_map.shape[1]
            2
            >>> drawn = np.zeros((4, 4), dtype=np.int64); drawn[:, 2:] = 1  # right half: the picture
            >>> engine.paint_regions(small, styles, drawn).regions.getpixel((127, 64))
            1
        """
        options = options or StylizeOptions(mix="regions")
        options.validate(len(styles), with_map=True)
        weight_map = as_weight_map(weights, len(styles), options.edge_softness)
        stages = Stages({"prepare": 1, "style": 1, "stylize": 12 * len(styles), "finish": 1}, progress)
        photo = self._prepare(content, options, stages)
        return self._paint_regions(photo, styles, lambda: weight_map, options, stages)

    def plan_regions(
        self, photo: Image.Image, styles: Sequence[Style], options: StylizeOptions
    ) -> RegionPlan:
        """Where each style goes on ``photo``: regions, their styles, the soft per-pixel map
        (:func:`~stylemixer.neural.regions.plan.plan_for_styles`)."""
        return plan_for_styles(self.networks, photo, styles, options)

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
            start=torch.zeros(1, STYLE_DIM),
        )
        if strength < 1.0:
            vector = strength * vector + (1.0 - strength) * self.style_vector(photo)
        return vector

    # -- painting -------------------------------------------------------------------------------

    def _presets(self, presets: Sequence[PresetStyle], weights: Sequence[float]) -> _Painting:
        """multistyle26's painting of a blend of ``presets`` (one-hot rows of its preset weights)."""
        indices = torch.tensor([get_preset(p.preset_id).index for p in presets])
        one_hot = torch.nn.functional.one_hot(indices, NUM_PRESETS).float()
        return _Painting(self.networks.multistyle, one_hot, torch.tensor(weights, dtype=torch.float32))

    def _prepare(self, content: Image.Image, options: StylizeOptions, stages: Stages) -> Image.Image:
        """The content as RGB within ``options.max_size``."""
        stages.report("prepare", 0.0)
        photo = fit_within(content if content.mode == "RGB" else content.convert("RGB"), options.max_size)
        stages.report("prepare", 1.0)
        return photo

    @staticmethod
    def _work(photo: Image.Image, options: StylizeOptions) -> Image.Image:
        """The picture at the scale the stroke size asks for (see :mod:`stylemixer.neural.stroke`)."""
        work_size = working_size(photo.size, options.stroke)
        return photo if work_size == photo.size else photo.resize(work_size, Image.Resampling.LANCZOS)

    @staticmethod
    def _finish(
        painted: np.ndarray, work: Image.Image, photo: Image.Image, options: StylizeOptions
    ) -> Image.Image:
        """A painting at the working scale brought to the photo's size, colours kept if asked."""
        stylized = Image.fromarray(painted, "RGB")
        if work.size != photo.size:
            stylized = Image.fromarray(restore_detail(painted, np.asarray(work), np.asarray(photo)), "RGB")
        if options.preserve_color:
            stylized = keep_colors(stylized, photo)
        return stylized

    def _blend(
        self, styles: Sequence[Style], weights: Sequence[float], work: Image.Image, strength: float
    ) -> _Painting:
        """The painting of a blend: presets' tables mixed, or pictures' style vectors mixed."""
        presets = [s for s in styles if isinstance(s, PresetStyle)]
        if presets:
            return self._presets(presets, weights)
        images = [s for s in styles if isinstance(s, ImageStyle)]
        vector = self.blended_style_vector(images, weights, work, strength)
        return _Painting(self.networks.transformer, vector, torch.ones(1))

    def _finished(
        self,
        painted: np.ndarray,
        work: Image.Image,
        photo: Image.Image,
        options: StylizeOptions,
        *,
        faded: bool,
    ) -> Image.Image:
        """:meth:`_finish`, then a preset's strength below 1 as a fade into the photo."""
        stylized = self._finish(painted, work, photo, options)
        if faded and options.strength < 1.0:
            # multistyle26 has no "no style" entry to interpolate towards, so strength fades the
            # stylization into the photo; custom styles interpolate in style space instead.
            stylized = Image.blend(photo, stylized, float(options.strength))
        return stylized

    def _alone(self, style: Style, work: Image.Image, strength: float) -> _Painting:
        """One style's painting, exactly as a single-style stylization makes it."""
        if isinstance(style, PresetStyle):
            return self._presets([style], (1.0,))
        vector = self.blended_style_vector([style], (1.0,), work, strength)
        return _Painting(self.networks.transformer, vector, torch.ones(1))

    def _paint_regions(
        self,
        photo: Image.Image,
        styles: Sequence[Style],
        weight_map: Callable[[], torch.Tensor],
        options: StylizeOptions,
        stages: Stages,
    ) -> StylizeResult:
        """Each style painted alone over the working picture and brought to the photo's size as it
        would be alone, the paintings composited along the map (:func:`composite`).

        ``weight_map()`` gives the map; it is first asked for once the first style is painted (so a
        plan may still be in the making until then).
        """
        work = self._work(photo, options)
        work_rgb = np.array(work)  # writable: the bands read it as it is
        photo_rgb = work_rgb if work.size == photo.size else np.asarray(photo)
        n = len(styles)
        # The styles share their networks' style-independent first layers when those fit beside a pass.
        fits = work.width * work.height * (ONE_PASS_BYTES_PER_PIXEL + SHARED_BYTES_PER_PIXEL) <= self.budget
        fits_one_pass = work.width * work.height * ONE_PASS_BYTES_PER_PIXEL <= self.budget
        # In bands, a share of the budget is left to what the mix keeps beside each painting (the
        # composite, the map) and to the allocator's slack between two large paintings.
        bands_budget = int(self.budget * REGIONS_BANDS_SHARE)

        def painted(k: int, style: Style, shared: _SharedLayers | None) -> np.ndarray:
            report = lambda _s, f: stages.report("stylize", (k + f) / n)  # noqa: E731
            if not fits_one_pass:
                release_memory()  # each painting in bands starts from a lean heap
            out = self._paint(
                work,
                self._alone(style, work, options.strength),
                report,
                shared=shared,
                rgb=work_rgb,
                budget=bands_budget,
            )
            # Brought to the photo's size as it would be alone (the detail it gets back depends on
            # its own), and a preset faded into the photo as alone (see stylize).
            if work.size != photo.size:
                out = restore_detail(out, work_rgb, photo_rgb)
            if isinstance(style, PresetStyle) and options.strength < 1.0:
                out = np.asarray(Image.blend(photo, Image.fromarray(out), float(options.strength)))
            return out

        with torch.inference_mode():
            shared = _SharedLayers(work) if fits else None
            paintings = (painted(k, style, shared) for k, style in enumerate(styles))
            image, regions = composite(photo, photo_rgb, paintings, weight_map)
            stylized = Image.fromarray(image, "RGB")
            if options.preserve_color:
                stylized = keep_colors(stylized, photo)
        stages.report("finish", 1.0)
        return StylizeResult(image=stylized, regions=regions)

    def _paint(
        self,
        work: Image.Image,
        painting: _Painting,
        report: ProgressCallback,
        *,
        shared: _SharedLayers | None = None,
        rgb: np.ndarray | None = None,
        budget: int | None = None,
    ) -> np.ndarray:
        """One network over ``work`` -> uint8 (H, W, 3): one pass if it fits the budget, else in bands.

        ``shared``: the style-independent first layers of the networks over ``work``, made once for
        several styles (the regions mix, when they fit the budget beside a pass). ``rgb``: ``work``
        as a writable uint8 array if one is at hand (the bands read it; no copy is made). ``budget``:
        the bands' memory budget, if not the engine's own.
        """
        width, height = work.size
        if width * height * ONE_PASS_BYTES_PER_PIXEL <= self.budget:
            if shared is None:
                shared = _SharedLayers(work)
            network = painting.network
            with _LayerProgress(network, report):
                out = network(shared.x, painting.style(), encoded=shared.encoded(network))
            return np.asarray(tensor_to_image(out[..., : shared.height, : shared.width]))
        arr = np.array(work) if rgb is None else rgb  # writable (torch wants it so), (H, W, 3) uint8
        ph, pw = (-height) % SIDE_MULTIPLE, (-width) % SIDE_MULTIPLE
        if ph or pw:
            arr = np.pad(arr, ((0, ph), (0, pw), (0, 0)), mode="reflect")
        plan = BandPlan.for_size(height + ph, width + pw, budget or self.budget)
        out = paint_in_bands(
            painting.network,
            torch.from_numpy(arr),
            painting.styles,
            painting.weights,
            plan=plan,
            progress=report,
        )
        return np.ascontiguousarray(out[:height, :width])


@dataclass(frozen=True, slots=True)
class FramePainter:
    """One clip's painting, frame by frame (made by :meth:`Engine.frame_painter`).

    The three steps of :meth:`Engine.stylize` for a photo, apart, so that a clip's frames can be
    carried along their motion at the working scale, between the network and the finish
    (:mod:`stylemixer.neural.clip`): :meth:`prepare` (the frame within the output size, and at the
    stroke size's scale), :meth:`paint` (the network), :meth:`finish` (back to the frame's size with
    its detail, colours kept, strength).
    """

    engine: Engine
    painting: _Painting
    options: StylizeOptions
    faded: bool

    def prepare(self, frame: Image.Image) -> tuple[Image.Image, Image.Image]:
        """The frame within the output size, and the frame at the scale it is painted at."""
        photo = fit_within(frame if frame.mode == "RGB" else frame.convert("RGB"), self.options.max_size)
        return photo, self.engine._work(photo, self.options)

    def paint(self, work: Image.Image) -> np.ndarray:
        """The network's painting of ``work``, uint8 (H, W, 3), as :meth:`Engine.stylize` makes it."""
        with torch.inference_mode():
            return self.engine._paint(work, self.painting, lambda _s, _f: None)

    def finish(self, painted: np.ndarray, work: Image.Image, photo: Image.Image) -> Image.Image:
        """A painting at the working scale as the frame's result, as :meth:`Engine.stylize` finishes one."""
        return self.engine._finished(painted, work, photo, self.options, faded=self.faded)


@functools.cache
def _default_engine(weights_path: Path | None) -> Engine:
    return Engine(load_networks(weights_path))
