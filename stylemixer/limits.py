"""Hard limits, named once. Every one has a test at and past the limit.

They are enforced by our own code whatever the transport: the S3 POST policy enforces the byte
limit in AWS, but the local stand-in does not, and a file can lie about its type.
"""

from __future__ import annotations

#: Largest upload accepted, in bytes. Phones save a 50 MP photo (the largest painted at its own size)
#: as a 15-30 MB JPEG or an 8-15 MB HEIC, and their 108-200 MP modes (brought down to 50 MP) as
#: 20-60 MB; a PNG of that many pixels is bigger and is sent saved as JPEG instead.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
#: Largest picture painted at its own size, in pixels: 50 megapixels, the largest mode phones save
#: (8160 x 6120 = 49.9 MP on Samsung, Xiaomi and Pixel phones; 8064 x 6048 on iPhones). A larger
#: picture, up to :data:`MAX_DECODED_PIXELS`, is brought down to this size and painted there.
MAX_PIXELS = 50_000_000
#: Longest side painted, in pixels; stops 20000 x 10 strips that pass the pixel limit (a longer
#: picture is brought down to it, as a larger one is to :data:`MAX_PIXELS`).
MAX_SIDE = 8192
#: Largest picture decoded at all, in pixels: the 200 MP modes of phones (16320 x 12240 = 199.8 MP)
#: with room to spare. A header that claims more is refused before a pixel is decoded (a
#: decompression bomb); decoding this many takes 750 MB, and JPEGs are decoded at a half or less.
MAX_DECODED_PIXELS = 250_000_000
#: Longest side decoded at all, in pixels (four times :data:`MAX_SIDE`: a phone's panorama).
MAX_DECODED_SIDE = 4 * MAX_SIDE
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
    """A byte count in megabytes for a sentence: ``64 MB``, ``40.5 MB``.

    Example:
        >>> megabytes(MAX_UPLOAD_BYTES), megabytes(42_467_328)
        ('64 MB', '40.5 MB')
    """
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
