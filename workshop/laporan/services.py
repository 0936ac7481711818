"""The laporan's texts and photos: saving the organiser's texts, checking and storing a photo
(judged by its content, never by its name), deleting one."""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import func, select

from workshop import audit, pictures
from workshop.auth.models import User
from workshop.db import Session
from workshop.errors import ServiceError
from workshop.laporan.models import ReportPhoto, ReportText
from workshop.programs.models import Program, Stage

PHOTO_MAX_BYTES = 8 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000  # width x height of the upload
PHOTO_MAX_SIDE = 1600  # the stored copy's longest side
PHOTOS_PER_STAGE = 12
TEXT_MAX_LENGTH = 10_000
CAPTION_MAX_LENGTH = 300


class LaporanError(ServiceError):
    """A refused text or photo: not_an_image, too_many_pixels, too_large, too_many_photos."""


def texts_of(session: Session, program: Program) -> ReportText:
    """The programme's texts (a new, unsaved row with empty texts if none was saved)."""
    return session.get(ReportText, program.id) or ReportText(
        program_id=program.id, basis="", purpose="", summary="", closing=""
    )


def save_texts(
    session: Session,
    program: Program,
    *,
    basis: str,
    purpose: str,
    summary: str,
    closing: str,
    actor: User | None,
    now: datetime,
) -> ReportText:
    texts = session.get(ReportText, program.id)
    if texts is None:
        texts = ReportText(program_id=program.id)
        session.add(texts)
    texts.basis, texts.purpose, texts.summary, texts.closing = basis, purpose, summary, closing
    texts.updated_at = now
    texts.updated_by_id = actor.id if actor is not None else None
    session.flush()
    audit.record(session, actor, "laporan.texts", f"program:{program.id}")
    return texts


def normalised_photo(content: bytes) -> tuple[bytes, str, int, int]:
    """The photo to store: (bytes, type, width, height), re-encoded in its own format at most
    PHOTO_MAX_SIDE pixels wide or high, turned upright as its EXIF says, metadata dropped.
    Refuses what is not a whole PNG or JPEG picture (workshop/pictures.py), or has too many pixels."""
    if len(content) > PHOTO_MAX_BYTES:
        raise LaporanError("too_large", "photo")
    try:
        image = pictures.decode(content, max_pixels=PHOTO_MAX_PIXELS)
    except pictures.PictureError as error:
        raise LaporanError(
            "too_many_pixels" if error.code == "too_large" else "not_an_image", "photo"
        ) from None
    from PIL import ImageOps  # loaded with the picture (workshop/pictures.py)

    upright = ImageOps.exif_transpose(image)
    upright.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    if image.format == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    else:
        upright.save(out, "PNG", optimize=True)
    return out.getvalue(), pictures.mime_type(image), upright.width, upright.height


def add_photo(
    session: Session, stage: Stage, content: bytes, caption: str, *, actor: User | None, now: datetime
) -> ReportPhoto:
    stored = session.scalar(select(func.count()).where(ReportPhoto.stage_id == stage.id)) or 0
    if stored >= PHOTOS_PER_STAGE:
        raise LaporanError("too_many_photos", "photo")
    body, kind, width, height = normalised_photo(content)
    photo = ReportPhoto(
        stage_id=stage.id,
        caption=caption,
        content=body,
        content_type=kind,
        width=width,
        height=height,
        uploaded_at=now,
        uploaded_by_id=actor.id if actor is not None else None,
    )
    session.add(photo)
    session.flush()
    audit.record(
        session, actor, "laporan.photo", f"stage:{stage.id}", f"photo:{photo.id} {kind}, {len(body)} bytes"
    )
    return photo


def delete_photo(session: Session, photo: ReportPhoto, *, actor: User | None) -> None:
    stage_id, photo_id = photo.stage_id, photo.id
    session.delete(photo)
    session.flush()
    audit.record(session, actor, "laporan.photo_deleted", f"stage:{stage_id}", f"photo:{photo_id}")
