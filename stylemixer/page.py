"""The page's ``config.json``: one function, so the local stack and the CDK stack serve the same shape.

The page reads it once at start; it carries the API's base URL, the limits the page checks before
uploading (the API checks them again; the page only saves the user a wasted upload), and under
``request`` what a job request may hold: the id pattern, the most styles, and each option's type,
allowed values with their labels, bounds, default and help text, so the page builds its choices from
the rules the API applies rather than from copies of its own.
"""

from __future__ import annotations

import copy
from dataclasses import MISSING, fields
from typing import Any

from stylemixer.jobs.model import ID_PATTERN, JobParams
from stylemixer.limits import (
    MAX_OUTPUT_SIDE,
    MAX_PIXELS,
    MAX_SIDE,
    MAX_STYLES,
    MAX_UPLOAD_BYTES,
    MIN_OUTPUT_SIDE,
    MIN_SIDE,
    OUTPUT_FORMATS,
    UPLOAD_CONTENT_TYPES,
)
from stylemixer.options import MAX_POSITION_WEIGHT, MAX_REGIONS, MIN_REGIONS, MIX_MODES, STROKES
from stylemixer.styles import MIXED_KINDS_CODE, MIXED_KINDS_MESSAGE

#: What lies in ``static_site/`` for npm (Bootstrap's package, the lint tools and their config) and is
#: not part of the page: the local front door never serves it and the CDK deployment leaves it out.
SITE_TOOLING: tuple[str, ...] = ("node_modules", "package.json", "package-lock.json", "eslint.config.mjs")

#: Each option a job request may hold: its type, allowed values (with a label each) or bounds, from
#: the constants the API validates with, and a short title and a sentence of help for a person.
_OPTIONS: dict[str, dict[str, Any]] = {
    "mix": {
        "type": "string",
        "enum": list(MIX_MODES),
        "labels": {"blend": "Blend, by weight", "regions": "Regions (Style Mixer)"},
        "title": "How to mix several styles",
        "description": "blend mixes the looks everywhere, by weight; regions gives each part of the photo "
        "the style that fits it best.",
    },
    "strength": {
        "type": "number",
        "minimum": 0.0,
        "maximum": 1.0,
        "title": "Strength",
        "description": "0 keeps the photo, 1 is the full style.",
    },
    "preserve_color": {
        "type": "boolean",
        "title": "Keep the photo's colours",
        "description": "Paint with the style's strokes but keep the photo's original colours.",
    },
    "max_size": {
        "type": "integer",
        "minimum": MIN_OUTPUT_SIDE,
        "maximum": MAX_OUTPUT_SIDE,
        "title": "Output size",
        "description": "The longest side of the picture in pixels (downscale only); null keeps the photo's.",
    },
    "stroke": {
        "type": "string",
        "enum": list(STROKES),
        "labels": {"fine": "Fine", "medium": "Medium", "coarse": "Coarse"},
        "title": "Stroke size",
        "description": "How big the strokes are relative to the picture: coarse paints at 512 px, fine at "
        "the photo's own resolution (at least 1024 px), medium between; null is medium.",
    },
    "format": {
        "type": "string",
        "enum": list(OUTPUT_FORMATS),
        "labels": {"jpeg": "JPEG", "png": "PNG", "webp": "WebP"},
        "title": "File type",
        "description": "The picture's file type.",
    },
    "regions": {
        "type": "integer",
        "minimum": MIN_REGIONS,
        "maximum": MAX_REGIONS,
        "title": "Regions",
        "description": "Regions mix: how many regions the photo is cut into; null is twice the number of "
        "styles, within the bounds.",
    },
    "position_weight": {
        "type": "number",
        "minimum": 0.0,
        "maximum": MAX_POSITION_WEIGHT,
        "title": "Position weight",
        "description": "Regions mix: how much a pixel's position counts against its content.",
    },
    "edge_softness": {
        "type": "number",
        "minimum": 0.0,
        "maximum": 1.0,
        "title": "Edge softness",
        "description": "Regions mix: how far styles fade into each other at a region edge (0 sharp, 1 soft).",
    },
}


def request_description() -> dict[str, Any]:
    """What a job request may hold: ``config.json``'s ``request``.

    The defaults are the stored request's own (:class:`stylemixer.jobs.model.JobParams`); a null
    default means the service decides (the photo's size, the medium stroke size, ...).

    Example:
        >>> described = request_description()
        >>> described["options"]["stroke"]["enum"], described["options"]["stroke"]["default"]
        (['fine', 'medium', 'coarse'], None)
    """
    defaults = {f.name: f.default for f in fields(JobParams) if f.default is not MISSING}
    described = copy.deepcopy(_OPTIONS)
    options = {name: {**option, "default": defaults[name]} for name, option in described.items()}
    return {"id_pattern": ID_PATTERN, "max_styles": MAX_STYLES, "options": options}


def site_config(api_base_url: str) -> dict[str, Any]:
    """The JSON object served as ``/config.json``.

    Example:
        >>> site_config("/api")["api_base_url"]
        '/api'
    """
    return {
        "api_base_url": api_base_url.rstrip("/"),
        "max_upload_bytes": MAX_UPLOAD_BYTES,
        "max_pixels": MAX_PIXELS,
        "max_side": MAX_SIDE,
        "min_side": MIN_SIDE,
        "max_styles": MAX_STYLES,
        "accepted_types": list(UPLOAD_CONTENT_TYPES),
        "poll_interval_ms": 1000,
        "request": request_description(),
        # Refusals the page can foresee, with the API's own words, keyed by the API's error code.
        "messages": {MIXED_KINDS_CODE: MIXED_KINDS_MESSAGE},
    }


def content_security_policy(api_origin: str, data_origins: tuple[str, ...] | list[str] = ()) -> str:
    """The page's content security policy: its own files, the API, and the data bucket, nothing else.

    ``connect-src`` lets the page call the API and POST uploads to (and fetch results from) the data
    bucket; ``img-src`` shows results from the bucket, previews from ``blob:`` URLs, and Bootstrap's
    inline ``data:`` icons. No inline script, no framing, no plugins. The CDK stack sends it as a
    CloudFront response header; the local stack can send the same with its own origins.

    Example:
        >>> "connect-src 'self' https://api.example" in content_security_policy("https://api.example")
        True
    """
    others = " ".join([api_origin, *data_origins])
    data = " ".join(data_origins)
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data: blob: {data}".rstrip(),
        "font-src 'self'",
        f"connect-src 'self' {others}",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
    return "; ".join(directives)
