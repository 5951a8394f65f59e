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

# -- clips (short videos; see stylemixer/clips/ and docs/clips.md) -----------------------------------

#: Longest clip accepted, in seconds: a phone's short clip (at a size and stroke size whose painting
#: fits one job: MAX_CLIP_PAINT_SECONDS).
MAX_CLIP_SECONDS = 60
#: Largest frame accepted: 1080p, either way round (what phones record by default). 4K frames would be
#: four times the decoding and the finishing, and at the same stroke size twice the painting, per frame.
MAX_CLIP_SIDE = 1920
MAX_CLIP_PIXELS = 1920 * 1080
#: Largest clip accepted, in bytes: a minute of 1080p from a phone is 40-100 MB at 30 fps (HEVC or
#: H.264) and up to about 150 MB at 60 fps; 200 MB leaves room and fits the worker's disk with its
#: painting (at most 12 Mbit/s: stylemixer.clips.stream).
MAX_CLIP_BYTES = 200 * 1024 * 1024
#: Most frames painted per second of clip: a clip recorded at 60 fps is painted (and plays) at 30 fps,
#: every other frame, which halves its painting and looks the same for a painting.
MAX_CLIP_FPS = 30
#: What painting a clip's frame costs on 2 cores, measured (bench/clips.py, docs/clips.md): per
#: megapixel it is painted at (the network and the carrying along the motion: two thirds of a 1080p
#: frame's time in a profile of its steps) and per megapixel of output (decoding, bringing the
#: painting to the frame's size with its detail, encoding), scaled to the slowest quiet run of the
#: whole clip, 0.585 s a 1080p frame at the default stroke size (991 x 557): 0.7 x 0.55 + 0.1 x 2.07
#: = 0.59 s. Other quiet runs took 0.43 to 0.49 s, which leaves them a fifth to a third to spare;
#: under a load average of 3 to 5 the same frame took 0.99 s (a Lambda function's vCPUs are its own).
CLIP_SECONDS_PER_WORK_MEGAPIXEL = 0.7
CLIP_SECONDS_PER_OUTPUT_MEGAPIXEL = 0.1
#: The most painting one clip may ask for, in seconds on 2 cores by the figures above: on the worker's
#: 1.7 vCPUs that is 635 s, which with fetching and storing the clip fits the 900 s Lambda allows a
#: function with a quarter to spare (stylemixer.resources). That is 30 s of 1080p at 30 fps at the
#: default stroke size, 57 s at the coarse one, 51 s of 720p, and a minute of 720p at the coarse one.
MAX_CLIP_PAINT_SECONDS = 540.0
#: Video codecs decoded (the sample entries of ISO/IEC 14496-15), by the name people know them by.
CLIP_VIDEO_CODECS: dict[str, str] = {"avc1": "H.264", "avc3": "H.264", "hvc1": "HEVC", "hev1": "HEVC"}
#: Content types a clip upload may declare: MP4 and QuickTime (.mov, what iPhones write).
CLIP_CONTENT_TYPES: tuple[str, ...] = ("video/mp4", "video/quicktime")


def megabytes(size: int) -> str:
    """A byte count in megabytes for a sentence: ``64 MB``, ``40.5 MB``.

    Example:
        >>> megabytes(MAX_UPLOAD_BYTES), megabytes(42_467_328)
        ('64 MB', '40.5 MB')
    """
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


# -- a public page: what one client may cost, and what the workers can take ------------------------
# A client is the address a request comes from (API Gateway's source address, or the viewer's
# address CloudFront forwards when the API is served behind the site's distribution). Many people
# can share one address (a campus, a mobile carrier's NAT), so each limit is sized for several
# people behind one address, not for one: a script at one address still gets no more than that.

#: Jobs one client may submit in one hour (a fixed window, so at most twice this across a window's
#: edge). A person trying styles sends one every minute or two while the page shows each result; a
#: class of twenty behind one address sending six each is 120.
CLIENT_JOBS_PER_HOUR = 120
#: Jobs of one client not yet finished (queued or running). The page sends one job at a time and
#: waits for it, so three is three people behind one address painting at once; a script holds no
#: more of the workers than that, and every other client's job waits behind at most three of its.
CLIENT_JOBS_IN_FLIGHT = 3
#: Bytes one client may declare for uploads in one hour (counted when the upload is signed: the
#: POST policy holds the file to its declared size). 16 photos at the 64 MB limit, 40 of a phone's
#: 25 MB: more than a visit sends (a photo is sent once and named again by its further tries),
#: while one address cannot use the bucket as free storage (it keeps uploads a day: at most 24 GB,
#: about 0.02 USD a day).
CLIENT_UPLOAD_BYTES_PER_HOUR = 1024 * 1024 * 1024
#: Jobs that may name one upload: a visit's further tries on one photo (the page sends it again
#: after this, which the upload bytes above then count). Without a bound one upload could be named
#: by any number of jobs for 20 hours.
MAX_JOBS_PER_UPLOAD = 20
#: How many jobs one worker finishes per minute, measured: five workers finished 350 to 900 of the
#: page's jobs an hour (1.2 to 3 a minute each, full-size phone photos and regions mixes among
#: small ones); the estimate is their middle. Admission control counts the queue in minutes of work
#: with it, so an estimate too low refuses early and one too high lets the wait grow past the limit.
WORKER_JOBS_PER_MINUTE = 2.0
#: ``POST /jobs`` answers "busy" (503) while the queue holds more than this many minutes of the
#: workers' work: a job accepted waits at most about this long, instead of hours behind a flood.
ADMISSION_BACKLOG_MINUTES = 10.0
#: The API reads the queue's depth (SQS ApproximateNumberOfMessages) at most this often per
#: container, and counts the jobs it queued since: SQS's own figure lags by about a minute anyway.
QUEUE_DEPTH_CACHE_SECONDS = 5.0
#: A link to a picture (a result, or the photo for its owner) works this long; the page asks for
#: fresh ones when they lapse, so a link that leaks is soon useless and downloads are not for ever.
LINK_SECONDS = 15 * 60
