"""QR images of a ticket: SVG for the participant's page, PNG to download, modules for PDF badges.

Every image carries `codes.qr_payload(secret)` (`BH1:<secret>`) and nothing else: no name, no row
id. Error correction M (15% of the symbol may be damaged), quiet zone of 4 modules as the standard asks.

qrcode is imported by the first symbol drawn, and its image makers by the first image of their
kind, not at start-up: qrcode brings Pillow, its SVG maker lxml, megabytes a web process need not
carry until a page shows a QR (issue 15: memory per participant).
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import TYPE_CHECKING

from markupsafe import Markup

from workshop.tickets import codes

if TYPE_CHECKING:
    import qrcode
    from qrcode.image.svg import SvgPathFillImage

QUIET_ZONE = 4  # modules
PNG_MODULE_PIXELS = 10


def _code(secret: str, **options) -> qrcode.QRCode:
    return _code_of(codes.qr_payload(secret), **options)


def _code_of(data: str, **options) -> qrcode.QRCode:
    import qrcode
    import qrcode.constants

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE, **options)
    code.add_data(data)
    code.make(fit=True)
    return code


@lru_cache(maxsize=1024)
def svg(secret: str) -> str:
    """A standalone SVG document (white background, one path), also fit to inline in HTML.

    Cached: choosing the best mask costs a few milliseconds, and the participant page shows it on every
    visit. The markup comes from the secret only (an alphabet of letters and digits), never user text.
    """
    return _svg_of(_code(secret, image_factory=_svg_factory()), "ticket-qr")


@lru_cache(maxsize=64)
def link_svg_markup(url: str) -> Markup:
    """The QR of a link (the projector's join code); the URL is encoded in the path, not in text."""
    return Markup(_svg_of(_code_of(url, image_factory=_svg_factory()), "link-qr"))


def _svg_factory() -> type[SvgPathFillImage]:
    from qrcode.image.svg import SvgPathFillImage

    return SvgPathFillImage


def _svg_of(code: qrcode.QRCode, css_class: str) -> str:
    image = code.make_image()
    path = image.path
    del path.attrib["id"]  # a fixed id would repeat if two codes were on one page
    path.set("shape-rendering", "crispEdges")
    image._img.set("class", css_class)
    return image.to_string(encoding="unicode")


def svg_markup(secret: str) -> Markup:
    """The SVG for a template; safe to inline (see `svg`), and it has no style attributes (strict CSP)."""
    return Markup(svg(secret))


def png(secret: str, module_pixels: int = PNG_MODULE_PIXELS) -> bytes:
    """A black-and-white PNG, `module_pixels` per module (370 x 370 pixels by default)."""
    from qrcode.image.pil import PilImage

    image = _code(secret, box_size=module_pixels, image_factory=PilImage).make_image()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def link_modules(url: str) -> list[list[bool]]:
    """The modules of a link's symbol (a certificate's verification page), for drawing in a PDF."""
    return _code_of(url).get_matrix()


def modules(secret: str) -> list[list[bool]]:
    """The symbol's modules row by row (True = dark), quiet zone included: for drawing in a PDF."""
    return _code(secret).get_matrix()
