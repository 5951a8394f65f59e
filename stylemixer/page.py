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


def content_security_policy(api_origin: str, data_origins: tuple[str, ...] | list[str] = ()) -> str:
    """The page's content security policy: its own files, the API, and the data bucket, nothing else.

    ``connect-src`` lets the page call the API and POST uploads to (and fetch results from) the data
    bucket; ``img-src`` shows results from the bucket, previews from ``blob:`` URLs, and Bootstrap's
    inline ``data:`` icons. No inline script, no framing, no plugins. The CDK stack sends it as a
    CloudFront response header on every file; the local stack sends the same with its own origins.

    The in-browser preview needs two more words, and nothing broader: ``'wasm-unsafe-eval'`` lets
    the page's own scripts compile WebAssembly (onnxruntime-web; it allows no JavaScript ``eval``),
    and ``worker-src 'self'`` lets it start its Web Worker from the page's own files only. A
    worker's policy is the one sent with its script, which is this one too.

    Example:
        >>> "connect-src 'self' https://api.example" in content_security_policy("https://api.example")
        True
    """
    others = " ".join([api_origin, *data_origins])
    data = " ".join(data_origins)
    directives = [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "worker-src 'self'",
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
