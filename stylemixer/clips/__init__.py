"""Clips: short videos (MP4 and MOV, H.264 and HEVC, what phones record) painted through the same job.

Three parts, each in its own module:

- :mod:`stylemixer.clips.header`: what a clip is, read from its bytes without decoding a frame (the
  container's ``moov`` box: duration, size, codecs, frame count), and the limits it is held to.
  Pure Python: the API function checks an upload with it through a few ranged reads, before a job
  is queued, and the worker and the CLI check a file the same way, with the same codes and sentences;
- :mod:`stylemixer.clips.stream`: frames decoded one at a time and the painted frames encoded as
  they come (H.264 in MP4, the audio copied as it was), through PyAV, which bundles FFmpeg's
  libraries. Imported only when a clip is painted;
- :mod:`stylemixer.clips.exceptions`: the refusals, each a stable code with a sentence.

The painting itself (each frame by the network, carried along the clip's motion) is
:mod:`stylemixer.neural.clip` and :mod:`stylemixer.neural.temporal`.
"""

from __future__ import annotations

from stylemixer.clips.exceptions import ClipTooLargeError, InvalidClipError, UnsupportedClipError
from stylemixer.clips.header import ClipHeader, check_clip, is_clip, read_clip_header, sniff_clip

__all__ = [
    "ClipHeader",
    "ClipTooLargeError",
    "InvalidClipError",
    "UnsupportedClipError",
    "check_clip",
    "is_clip",
    "read_clip_header",
    "sniff_clip",
]
