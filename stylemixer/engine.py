"""The style-transfer engine: presets, custom styles, blends, strength and colour, on CPU torch.

This is the one module that imports torch. The API function never imports it; the worker and the CLI
do, once, and keep one :class:`Engine` (weights loaded once per process).

Two networks do the painting:

- presets run through multistyle26 (Dumoulin et al. 2017); a blend of presets is a blend of their
  conditional instance-norm tables, which is what the network was trained to interpolate;
- any picture as a style goes through the style predictor and the arbitrary transformer (Ghiasi et al.
  2017); a blend of custom styles is a weighted mean of their 100-number style vectors.

The two spaces do not meet, so a blend that mixes presets with custom styles is refused; the regions
mix places each kind on its own part of the picture instead.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image

from stylemixer.errors import InvalidRequestError
from stylemixer.imageio import fit_within
from stylemixer.options import StylizeOptions
from stylemixer.presets import NUM_PRESETS, get_preset
from stylemixer.progress import ProgressCallback, Stages
from stylemixer.styles import ImageStyle, PresetStyle, Style, StylizeResult
from stylemixer.weights import Networks, default_weights_path, load_networks

if TYPE_CHECKING:
    from pathlib import Path

#: The predictor sees styles at this size (it was trained on 256 x 256 centre crops).
PREDICTOR_SIZE = 256
#: Both networks halve the picture twice, so sides are padded to a multiple of this.
SIDE_MULTIPLE = 4


def image_to_tensor(img: Image.Image) -> torch.Tensor:
    """An RGB PIL image as a float tensor in 0..1.

    Example:
        >>> image_to_tensor(Image.new("RGB", (8, 4))).shape
        torch.Size([1, 3, 4, 8])
    """
    arr = np.asarray(img.convert("RGB"), dtype=np.float32)  # (H, W, 3)
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).div_(255.0)  # (1, 3, H, W)


def tensor_to_image(x: torch.Tensor) -> Image.Image:
    """A (1, 3, H, W) tensor in 0..1 as an RGB PIL image (clamped, rounded)."""
    arr = x[0].clamp(0.0, 1.0).mul(255.0).add_(0.5).to(torch.uint8).permute(1, 2, 0)  # (H, W, 3)
    return Image.fromarray(arr.contiguous().numpy(), "RGB")


def pad_to_multiple(x: torch.Tensor, multiple: int = SIDE_MULTIPLE) -> tuple[torch.Tensor, int, int]:
    """Reflect-pad H and W up to a multiple; returns the padded tensor and the original H, W."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    return x, h, w


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


class Engine:
    """Stylizes pictures with the project's torch networks.

    Example:
        >>> engine = Engine.default()
        >>> result = engine.stylize(photo, [PresetStyle("swirling-night")], StylizeOptions(strength=0.8))
        >>> result.image.save("out.jpg")
    """

    def __init__(self, networks: Networks) -> None:
        self.networks = networks

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

        The output has the content's size, or less if ``options.max_size`` asks for it.
        """
        options = options or StylizeOptions()
        options.validate(len(styles))
        weights = options.normalized_weights(len(styles))
        if options.mix == "regions":
            raise InvalidRequestError(
                "RegionsUnavailable", "Mixing styles by region is not available yet; use a blend."
            )
        presets = [s for s in styles if isinstance(s, PresetStyle)]
        if presets and len(presets) != len(styles):
            raise InvalidRequestError(
                "MixedStyleKinds",
                "A blend can combine presets with presets or your own pictures with each other, "
                "not both; choose the regions mix to combine them.",
            )
        stages = Stages({"prepare": 1, "style": 1, "stylize": 12, "finish": 1}, progress)
        stages.report("prepare", 0.0)
        photo = fit_within(content.convert("RGB"), options.max_size)
        x, h, w = pad_to_multiple(image_to_tensor(photo))  # (1, 3, H', W')
        stages.report("prepare", 1.0)

        with torch.inference_mode():
            if presets:
                table = self.preset_weights(presets, weights)  # (26,)
                stages.report("style", 1.0)
                with _LayerProgress(self.networks.multistyle, stages.report):
                    out = self.networks.multistyle(x, table)
            else:
                vector = self.blended_style_vector(
                    [s for s in styles if isinstance(s, ImageStyle)], weights, photo, options.strength
                )
                stages.report("style", 1.0)
                with _LayerProgress(self.networks.transformer, stages.report):
                    out = self.networks.transformer(x, vector)
        stylized = tensor_to_image(out[..., :h, :w])  # (1, 3, H, W)

        if options.preserve_color:
            stylized = keep_colors(stylized, photo)
        if presets and options.strength < 1.0:
            # multistyle26 has no "no style" entry to interpolate towards, so strength fades the
            # stylization into the photo; custom styles interpolate in style space instead (above).
            stylized = Image.blend(photo, stylized, float(options.strength))
        stages.report("finish", 1.0)
        return StylizeResult(image=stylized)

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

    @staticmethod
    def preset_weights(presets: Sequence[PresetStyle], weights: Sequence[float]) -> torch.Tensor:
        """The 26-entry weight vector multistyle26 blends its normalisation tables with."""
        table = torch.zeros(NUM_PRESETS)
        for style, weight in zip(presets, weights, strict=True):
            table[get_preset(style.preset_id).index] += weight
        return table


@functools.cache
def _default_engine(weights_path: Path | None) -> Engine:
    return Engine(load_networks(weights_path))
