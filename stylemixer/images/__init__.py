"""Pictures in and out, under hard limits: reading hostile input, and writing results.

- :mod:`~stylemixer.images.reading`: a JPEG, PNG, WebP, HEIC or AVIF read under the limits, in a
  fixed order that stops at the first broken rule (bytes, type, header size, decode), into upright
  sRGB (:func:`read_image`, :func:`read_bounded`);
- :mod:`~stylemixer.images.formats`: what a file is from its first bytes, and the size its header
  claims (:func:`check_format`, :func:`header_size`), which the API runs on an upload;
- :mod:`~stylemixer.images.writing`: results within a size, encoded and saved whole
  (:func:`fit_within`, :func:`encode_image`, :func:`save_image`), and their small copies for lists
  (:func:`thumbnail_jpeg`);
- :mod:`~stylemixer.images.colour`: the sRGB both read into and write in.

No torch here: the API function imports this package to sniff types.
"""

from __future__ import annotations

from stylemixer.images.formats import check_format, content_type_for, header_size, sniff_format
from stylemixer.images.reading import ImageSource, ImageTooSmallError, read_bounded, read_image
from stylemixer.images.writing import encode_image, fit_within, fitted_size, save_image, thumbnail_jpeg

__all__ = [
    "ImageSource",
    "ImageTooSmallError",
    "check_format",
    "content_type_for",
    "encode_image",
    "fit_within",
    "fitted_size",
    "header_size",
    "read_bounded",
    "read_image",
    "save_image",
    "sniff_format",
    "thumbnail_jpeg",
]
