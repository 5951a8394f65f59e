"""The refusals of a clip: each a stable code (what programs match on) and a sentence for a person.

Example:
    >>> ClipTooLargeError(CLIP_TOO_LONG, "The clip is 75 s long; the longest accepted is 60 s.").status
    413
"""

from __future__ import annotations

from typing import Final

from stylemixer.errors import StyleMixerError

#: The file is not a video at all (or a container with no video in it: a voice memo).
NOT_A_VIDEO: Final = "NotAVideo"
#: The file ends before its last box does, or has no picture data.
TRUNCATED_CLIP: Final = "TruncatedClip"
#: The container or its video cannot be read.
CORRUPT_CLIP: Final = "CorruptClip"
#: Longer than the limit.
CLIP_TOO_LONG: Final = "ClipTooLong"
#: More bytes than the limit.
CLIP_TOO_LARGE: Final = "ClipTooLarge"
#: Larger frames than the limit (4K).
CLIP_DIMENSIONS_TOO_LARGE: Final = "ClipDimensionsTooLarge"
#: Smaller frames than the networks take.
CLIP_TOO_SMALL: Final = "ClipTooSmall"
#: More painting than one job may do (a long clip at the finest stroke size).
CLIP_TOO_MUCH_WORK: Final = "ClipTooMuchWork"
#: A video stream in a codec we do not decode (ProRes, AV1...).
UNSUPPORTED_VIDEO_CODEC: Final = "UnsupportedVideoCodec"
#: The regions mix asked for a clip.
REGIONS_NOT_FOR_CLIPS: Final = "RegionsNotForClips"
#: A clip where only a picture can be (a style, a region map), or a picture written as a clip.
CLIP_NOT_ALLOWED: Final = "ClipNotAllowed"


class InvalidClipError(StyleMixerError):
    """The bytes are not a clip we can read (not a video, cut off, damaged)."""

    code = CORRUPT_CLIP
    status = 400


class ClipTooLargeError(StyleMixerError):
    """The clip is larger than a limit allows (bytes, length, frame size, work)."""

    code = CLIP_TOO_LARGE
    status = 413


class UnsupportedClipError(StyleMixerError):
    """A clip of a kind we do not take (its video codec)."""

    code = UNSUPPORTED_VIDEO_CODEC
    status = 415
