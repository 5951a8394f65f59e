"""One error type for everything a caller can get wrong.

Every refusal carries a stable ``code`` (what programs match on), a ``message`` written for a person,
and the HTTP ``status`` the API answers with. Anything that is *not* a :class:`StyleMixerError` is
a bug or an outage and is reported as a generic failure that leaks nothing internal.
"""

from __future__ import annotations


class StyleMixerError(Exception):
    """A failure the caller can understand and act on.

    Example:
        >>> error = StyleMixerError("ImageTooLarge", "The picture is 60 MB; the limit is 25 MB.", status=413)
        >>> error.status, error.to_dict()
        (413, {'code': 'ImageTooLarge', 'message': 'The picture is 60 MB; the limit is 25 MB.'})
    """

    code: str = "BadRequest"
    status: int = 400

    def __init__(self, code: str | None = None, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The body the API and the CLI's ``--json`` report: ``{"code", "message"}``."""
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class InvalidImageError(StyleMixerError):
    """The bytes are not a picture we can read (not an image, truncated, unsupported type)."""

    code = "InvalidImage"
    status = 400


class ImageTooLargeError(StyleMixerError):
    """The picture is larger than a limit allows (bytes, pixels or side length)."""

    code = "ImageTooLarge"
    status = 413


class ImageTooSmallError(StyleMixerError):
    """The picture is too small to stylize."""

    code = "ImageTooSmall"
    status = 400


class InvalidRequestError(StyleMixerError):
    """A parameter is out of range or the request is inconsistent (e.g. too many styles)."""

    code = "InvalidRequest"
    status = 400


class UnknownStyleError(StyleMixerError):
    """A preset id that does not exist."""

    code = "UnknownStyle"
    status = 400


class WeightsMissingError(StyleMixerError):
    """The converted weight file has not been built on this machine (an operator's problem)."""

    code = "WeightsMissing"
    status = 500
