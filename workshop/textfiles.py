"""Reading uploaded text files (CSV) the way spreadsheet programs write them."""

import codecs


def decode_upload(data: bytes) -> str:
    """UTF-8 (with or without BOM), Excel's "Unicode text" (UTF-16), or the Windows code page
    Excel uses for "CSV (comma delimited)". A UTF-16 file cut in half a character or holding a
    lone surrogate keeps the rest, with U+FFFD for what cannot be read."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
