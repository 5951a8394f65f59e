"""Hard limits, named once. Every one has a test at and past the limit.

They are enforced by our own code whatever the transport: the S3 POST policy enforces the byte
limit in AWS, but the local stand-in does not, and a file can lie about its type.
"""

from __future__ import annotations

#: Largest upload accepted, in bytes (a 16 MP phone JPEG is 4-8 MB; PNGs of that size are bigger).
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
#: Largest picture decoded, in pixels: 16 megapixels (4096 x 4096 and other shapes of that area).
MAX_PIXELS = 4096 * 4096
#: Longest side accepted, in pixels; stops 20000 x 10 strips that pass the pixel limit.
MAX_SIDE = 8192
#: Largest region map accepted, in bytes: a map is one style number per pixel, which PNG packs tightly
#: (a 16 MP map of four regions is well under 1 MB; only noise comes near this).
MAX_MAP_BYTES = 4 * 1024 * 1024
#: Shortest side accepted, in pixels; the networks downsample by 4 and pad by 4 at each level.
MIN_SIDE = 32
#: Most styles in one job (a blend or a regions mix).
MAX_STYLES = 4
#: How long after it is stored an upload may be named by new jobs, in seconds: a visit's further
#: tries reuse the photo instead of sending it again. The bucket deletes uploads at least a day after
#: they are stored (the deployment's lifecycle rule, at least one day); stopping new jobs four hours
#: sooner leaves a job accepted at the last moment time to wait in the queue and be read.
UPLOAD_REUSE_SECONDS = 20 * 3600
#: Smallest and largest cap on the output's longer side a caller may ask for.
MIN_OUTPUT_SIDE = 64
MAX_OUTPUT_SIDE = MAX_SIDE
#: Content types we accept, decided from the bytes, never from what the client says. HEIF is what
#: phones write as .heic (HEVC inside the HEIF container); AVIF is AV1 inside the same container.
ALLOWED_FORMATS: dict[str, str] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
    "AVIF": "image/avif",
}
#: Content types an upload may declare (the S3 POST policy holds the client to it): the formats'
#: own, and ``image/heif``, which some systems give the same .heic files.
UPLOAD_CONTENT_TYPES: tuple[str, ...] = (*ALLOWED_FORMATS.values(), "image/heif")


def megabytes(size: int) -> str:
    """A byte count in megabytes for a sentence: ``25 MB``, ``40.5 MB``.

    Example:
        >>> megabytes(MAX_UPLOAD_BYTES), megabytes(42_467_328)
        ('25 MB', '40.5 MB')
    """
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
