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

# -- clips (short videos; see stylemixer/clips/ and docs/clips.md) -----------------------------------

#: Longest clip accepted, in seconds: a phone's short clip. Its painting must fit in one worker run
#: (Lambda stops a function after 15 minutes): a minute of 1080p at 30 fps at the default stroke size
#: is the measured worst (docs/clips.md).
MAX_CLIP_SECONDS = 60
#: Largest frame accepted: 1080p, either way round (what phones record by default). 4K frames would be
#: four times the decoding, and painted at the same stroke size, twice the painting, per frame.
MAX_CLIP_SIDE = 1920
MAX_CLIP_PIXELS = 1920 * 1080
#: Largest clip accepted, in bytes: a minute of 1080p from a phone is 40-100 MB at 30 fps (HEVC or
#: H.264) and up to about 150 MB at 60 fps; 200 MB leaves room and fits the worker's disk twice over.
MAX_CLIP_BYTES = 200 * 1024 * 1024
#: Most frames painted per second of clip: a clip recorded at 60 fps is painted (and plays) at 30 fps,
#: every other frame, which halves its painting and looks the same for a painting.
MAX_CLIP_FPS = 30
#: The most painting one clip may ask for, in frames times the megapixels each is painted at: a minute
#: at 30 fps painted at the default stroke size of 1080p (991 x 557, 0.55 MP) is 990; the finest
#: stroke size paints 1080p at 2.1 MP a frame, so a clip at it may be about a quarter as long.
MAX_CLIP_WORK = 1000.0
#: Video codecs decoded (the sample entries of ISO/IEC 14496-15), by the name people know them by.
CLIP_VIDEO_CODECS: dict[str, str] = {"avc1": "H.264", "avc3": "H.264", "hvc1": "HEVC", "hev1": "HEVC"}
#: Content types a clip upload may declare: MP4 and QuickTime (.mov, what iPhones write).
CLIP_CONTENT_TYPES: tuple[str, ...] = ("video/mp4", "video/quicktime")
