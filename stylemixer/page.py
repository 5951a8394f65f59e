"""The page's ``config.json``: one function, so the local stack and the CDK stack serve the same shape.

The page reads it once at start; it carries the API's base URL, the limits the page checks before
uploading (the API checks them again; the page only saves the user a wasted upload), and under
``regions_map`` what a region map sent back must be (type, size, the palette's colours), under
``request`` what a job may ask for: the id pattern, the most styles, and every option's type,
allowed values with their labels, bounds, default and help, read from
:class:`~stylemixer.options.StylizeOptions`, so the page offers exactly what the API accepts and has
no copy of its own; under ``stroke`` the rule that turns a stroke size into the scale a picture is
painted at, so the in-browser preview paints at the scale the job will.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stylemixer.errors import MIXED_STYLE_KINDS
from stylemixer.jobs.model import ID_PATTERN
from stylemixer.limits import (
    CLIP_CONTENT_TYPES,
    LINK_SECONDS,
    MAX_CLIP_BYTES,
    MAX_CLIP_SECONDS,
    MAX_CLIP_SIDE,
    MAX_MAP_BYTES,
    MAX_PIXELS,
    MAX_SIDE,
    MAX_STYLES,
    MAX_UPLOAD_BYTES,
    MIN_SIDE,
    UPLOAD_CONTENT_TYPES,
)
from stylemixer.options import MIXED_KINDS_MESSAGE, option_specs

if TYPE_CHECKING:
    from stylemixer.options import OptionSpec

#: What lies in ``static_site/`` for npm (Bootstrap's package, the lint tools and their config) and is
#: not part of the page: the local front door never serves it and the CDK deployment leaves it out.
SITE_TOOLING: tuple[str, ...] = ("node_modules", "package.json", "package-lock.json", "eslint.config.mjs")

#: How the page polls a job (see static_site/js/polling.js): every second while its progress moves,
#: backing off to POLL_SLOW_MS while it does not and to POLL_QUEUED_MS while it waits in the queue
#: (a queued job moves only when a worker takes it), never while the tab is hidden. 50 people
#: watching queued jobs then ask 5 to 10 times a second in all, not 50.
POLL_INTERVAL_MS = 1000
POLL_SLOW_MS = 4000
POLL_QUEUED_MS = 10_000
#: Jobs (and their results) are kept this long; the deployment may keep uploads and results for
#: other periods (its lifecycle rules), which the page's footer says.
JOB_DAYS = 7


def site_config(api_base_url: str, *, uploads_days: int = 1, results_days: int = JOB_DAYS) -> dict[str, Any]:
    """The JSON object served as ``/config.json``; ``uploads_days`` and ``results_days`` are how long
    the deployment keeps photos and pictures (the page's footer says so).

    Example:
        >>> site_config("/api")["api_base_url"], site_config("/api")["kept"]
        ('/api', {'photos_days': 1, 'pictures_days': 7, 'link_minutes': 15})
    """
    return {
        "api_base_url": api_base_url.rstrip("/"),
        "max_upload_bytes": MAX_UPLOAD_BYTES,
        "max_pixels": MAX_PIXELS,
        "max_side": MAX_SIDE,
        "min_side": MIN_SIDE,
        "max_styles": MAX_STYLES,
        "accepted_types": list(UPLOAD_CONTENT_TYPES),
        "poll_interval_ms": POLL_INTERVAL_MS,
        "poll_slow_ms": POLL_SLOW_MS,
        "poll_queued_ms": POLL_QUEUED_MS,
        "kept": {
            "photos_days": uploads_days,
            "pictures_days": min(results_days, JOB_DAYS),
            "link_minutes": LINK_SECONDS // 60,
        },
        "request": request_description(),
        "regions_map": regions_map_description(),
        "stroke": stroke_description(),
        "clips": clips_description(),
        # Refusals the page can foresee, with the API's own words, keyed by the API's error code.
        "messages": {MIXED_STYLE_KINDS: MIXED_KINDS_MESSAGE},
    }


def clips_description() -> dict[str, Any]:
    """What a clip the page sends may be (see :mod:`stylemixer.clips`): its types, largest size in
    bytes, longest length in seconds and longest side in pixels. The API and the worker check again.

    Example:
        >>> clips_description()["content_types"], clips_description()["max_seconds"]
        (['video/mp4', 'video/quicktime'], 60)
    """
    return {
        "content_types": list(CLIP_CONTENT_TYPES),
        "max_bytes": MAX_CLIP_BYTES,
        "max_seconds": MAX_CLIP_SECONDS,
        "max_side": MAX_CLIP_SIDE,
    }


def regions_map_description() -> dict[str, Any]:
    """What a region map the page sends must be (see :mod:`stylemixer.regionmap`): its type, its
    largest size in bytes, and the palette's colours by style number (how the page draws one).

    Example:
        >>> regions_map_description()["palette"][:2]
        ['#e6194b', '#3cb44b']
    """
    from stylemixer.regionmap import PALETTE

    return {
        "content_type": "image/png",
        "max_bytes": MAX_MAP_BYTES,
        "palette": ["#{:02x}{:02x}{:02x}".format(*colour) for colour in PALETTE],
    }


def stroke_description() -> dict[str, Any]:
    """The stroke-size rule of :func:`stylemixer.neural.stroke.working_size`, as numbers the page's
    preview applies the same way: each stroke size names a working long side for a picture's size.

    Example:
        >>> stroke_description()["coarse_side"], stroke_description()["default"]
        (512, 'medium')
    """
    from stylemixer.neural import stroke  # numbers and Pillow only: the API imports no torch

    return {
        "coarse_side": stroke.COARSE_SIDE,
        "fine_min_side": stroke.FINE_MIN_SIDE,
        "max_upscale": stroke.MAX_UPSCALE,
        "snap": stroke.SNAP,
        "min_side": MIN_SIDE,
        "default": stroke.DEFAULT_STROKE.value,
    }


def request_description() -> dict[str, Any]:
    """What a job may ask for, as the page reads it: the id pattern, how many styles, each option.

    Generated from :func:`~stylemixer.options.option_specs`; the per-style weights are not among
    ``options`` (the page gives one per chosen style). A null default means the service decides (the
    photo's size, the medium stroke size...). Each call builds a new object.

    Example:
        >>> described = request_description()
        >>> described["id_pattern"], described["max_styles"]
        ('^[0-9a-f]{32}$', 4)
        >>> all(option["title"] and option["description"] for option in described["options"].values())
        True
    """
    return {
        "id_pattern": ID_PATTERN,
        "max_styles": MAX_STYLES,
        "options": {spec.name: _option(spec) for spec in option_specs() if spec.type != "array"},
    }


def _option(spec: OptionSpec) -> dict[str, Any]:
    described: dict[str, Any] = {"type": spec.type}
    if spec.choices is not None:
        described["enum"] = [choice.value for choice in spec.choices]
        described["labels"] = {choice.value: choice.label for choice in spec.choices}
    if spec.type in ("number", "integer"):
        described["minimum"] = spec.minimum
        described["maximum"] = spec.maximum
    default = spec.default
    described["default"] = default.value if spec.choices is not None and default is not None else default
    described["title"] = spec.title
    described["description"] = spec.description
    return described


def content_security_policy(api_origin: str, data_origins: tuple[str, ...] | list[str] = ()) -> str:
    """The page's content security policy: its own files, the API, and the data bucket, nothing else.

    ``connect-src`` lets the page call the API and POST uploads to (and fetch results from) the data
    bucket; ``img-src`` shows results from the bucket, previews from ``blob:`` URLs, and Bootstrap's
    inline ``data:`` icons; ``media-src`` plays a painted clip from the bucket and a chosen clip from a
    ``blob:`` URL (the camera's stream is given to its video element directly). No inline script, no
    framing, no plugins. The CDK stack sends it as a CloudFront response header on every file; the
    local stack sends the same with its own origins.

    The in-browser preview needs two more words, and nothing broader: ``'wasm-unsafe-eval'`` lets
    the page's own scripts compile WebAssembly (onnxruntime-web; it allows no JavaScript ``eval``),
    and ``worker-src 'self'`` lets it start its Web Worker from the page's own files only. A
    worker's policy is the one sent with its script, which is this one too.

    Example:
        >>> "connect-src 'self' https://api.example" in content_security_policy("https://api.example")
        True
    """
    others = " ".join(origin for origin in (api_origin, *data_origins) if origin)  # "": the page's own
    data = " ".join(data_origins)
    directives = [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "worker-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data: blob: {data}".rstrip(),
        f"media-src 'self' blob: {data}".rstrip(),
        "font-src 'self'",
        f"connect-src 'self' {others}".rstrip(),
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
    return "; ".join(directives)
