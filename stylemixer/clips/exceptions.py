"""The kinds of a clip's refusals, each with its default code; the codes themselves are constants of
:mod:`stylemixer.errors`, like every other code (their table: docs/clips.md).

Example:
    >>> from stylemixer.errors import CLIP_TOO_LONG
    >>> ClipTooLargeError(CLIP_TOO_LONG, "The clip is 75 s long; the longest accepted is 60 s.").status
    413
"""

from __future__ import annotations

from stylemixer.errors import (
    CLIP_TOO_LARGE,
    CORRUPT_CLIP,
    REGIONS_NOT_FOR_CLIPS,
    UNSUPPORTED_VIDEO_CODEC,
    StyleMixerError,
)


class InvalidClipError(StyleMixerError):
    """The bytes are not a clip we can read (not a video, cut off, damaged)."""

    code = CORRUPT_CLIP


class ClipTooLargeError(StyleMixerError):
    """The clip is larger than a limit allows (bytes, length, frame size, work)."""

    code = CLIP_TOO_LARGE


class UnsupportedClipError(StyleMixerError):
    """A clip of a kind we do not take (its video codec)."""

    code = UNSUPPORTED_VIDEO_CODEC


def regions_not_for_clips() -> StyleMixerError:
    """The refusal of the regions mix (or a region map) for a clip, wherever a clip is asked for.

    Example:
        >>> regions_not_for_clips().status
        400
    """
    return StyleMixerError(
        REGIONS_NOT_FOR_CLIPS,
        "The regions mix places styles on a photo's regions; a clip is painted in one style or a "
        "blend. Choose one style, or blend them.",
    )
