"""Style Mixer regions: which style goes where, and each style painted there as it looks alone.

After Huang, Zhang and Liao, "Style Mixer" (CGF 2019): the paper cuts the photo into regions by
their deep features and position, and gives each region the style whose features match it best, so
the sky takes the style that fits a sky. Here, with the networks this project has (the style
predictor's MobileNetV2 trunk, Sandler et al. 2018), in two steps with a map between them:

- :mod:`~stylemixer.neural.regions.plan`: where each style goes (superpixels that follow the
  photo's edges, cuts into regions, each region matched to the style whose own features fit it,
  like with like) as a soft per-pixel map, one plane per style (:class:`RegionPlan`);
- :mod:`~stylemixer.neural.regions.paint`: that map (or one a person drew) brought to the painted
  size along the full-resolution photo's edges (:class:`EdgeMap`), and each style's painting,
  made alone over the whole picture, folded into one composite along it (:func:`composite`):
  inside its region a style looks exactly as it does alone.

The region map as a file (the palette PNG given out and taken back) is :mod:`stylemixer.regionmap`,
which the API reads without torch; the engine (:meth:`stylemixer.neural.engine.Engine.stylize`,
``mix="regions"``) paints each style and runs the two steps. Measured on labelled points and
against each style alone: docs/regions.md.
"""

from __future__ import annotations

from stylemixer.neural.regions.paint import EdgeMap, as_weight_map, composite, region_image
from stylemixer.neural.regions.plan import RegionPlan, RegionSettings, plan_regions

__all__ = [
    "EdgeMap",
    "RegionPlan",
    "RegionSettings",
    "as_weight_map",
    "composite",
    "plan_regions",
    "region_image",
]
