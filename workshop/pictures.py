"""PNG and JPEG pictures that organisers upload (the certificates' logo, the laporan's photos),
judged by their content, never by their name: the file's signature, then Pillow reads its header
(the size is checked before a pixel is decoded), then decodes every pixel, so that a truncated or
broken file is refused here rather than when a PDF is made."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is loaded by the first picture, not at start-up (issue 15: memory)
    from PIL import Image

TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


class PictureError(ValueError):
    """`code`: not_a_picture (not a whole PNG or JPEG), too_large (more pixels than allowed)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def mime_type(image: Image.Image) -> str:
    """The MIME type of a picture that `decode` returned."""
    assert image.format is not None  # decode checked it is one of TYPES
    return TYPES[image.format]


def decode(content: bytes, *, max_side: int | None = None, max_pixels: int | None = None) -> Image.Image:
    """The picture, decoded; its `format` is PNG or JPEG (TYPES gives its MIME type)."""
    if not content.startswith(SIGNATURES):
        raise PictureError("not_a_picture")
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(content))
        if image.format not in TYPES:
            raise PictureError("not_a_picture")
        width, height = image.size
        if (max_side is not None and max(width, height) > max_side) or (
            max_pixels is not None and width * height > max_pixels
        ):
            raise PictureError("too_large")
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        if isinstance(error, PictureError):
            raise
        raise PictureError("not_a_picture") from None
    return image
