"""The files organisations hand in: PDF, DOCX or XLSX, known by their content, not their name.

`filetype` reads the content's signature (a PDF's header; for an Office file, the ZIP's first
entries name `word/` or `xl/`): a program renamed to .pdf, or a ZIP renamed to .docx, is refused.
A file is kept under a random key in the assignment files folder (ASSIGNMENT_FILES_DIR, outside
the web root) and only ever served as a download (web.download: an attachment, nosniff), under
its own name with the extension of what it really is.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import filetype

from workshop.errors import ServiceError
from workshop.text import clean_line

ALLOWED = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
MIMETYPES = {extension: mime for mime, extension in ALLOWED.items()}
MAX_NAME = 120


class FileError(ServiceError):
    pass


@dataclass(frozen=True)
class CheckedFile:
    name: str  # the name to offer it under: its own stem, the extension of its content
    type: str  # pdf, docx, xlsx
    data: bytes


def check(filename: str, data: bytes) -> CheckedFile:
    """The file if it is a PDF, DOCX or XLSX by its content; FileError "empty_file" or "bad_file"."""
    if not data:
        raise FileError("empty_file", "file")
    guessed = filetype.guess(data)
    extension = ALLOWED.get(guessed.mime) if guessed is not None else None
    if extension is None:
        raise FileError("bad_file", "file")
    stem = clean_line(Path(filename.replace("\\", "/")).stem)[:MAX_NAME] or "berkas"
    return CheckedFile(name=f"{stem}.{extension}", type=extension, data=data)


def store(folder: str, checked: CheckedFile) -> str:
    """Write the file under a new random key; returns the key."""
    key = secrets.token_hex(16)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = Path(folder) / key
    with open(path, "xb") as handle:
        handle.write(checked.data)
    return key


def read(folder: str, key: str) -> bytes:
    if not key or not key.isalnum():
        raise FileNotFoundError(key)
    return (Path(folder) / key).read_bytes()
