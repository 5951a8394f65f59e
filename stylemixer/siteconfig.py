"""The page's ``config.json``: one function, so the local stack and the CDK stack serve the same shape.

The page reads it once at start; it carries the API's base URL and the limits the page checks
before uploading (the API checks them again; the page only saves the user a wasted upload).
"""

from __future__ import annotations

from typing import Any

from stylemixer.limits import MAX_PIXELS, MAX_SIDE, MAX_STYLES, MAX_UPLOAD_BYTES, MIN_SIDE


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
        "accepted_types": ["image/jpeg", "image/png", "image/webp"],
        "poll_interval_ms": 1000,
    }
