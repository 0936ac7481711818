"""What the organiser adds to the laporan kegiatan: its texts (one row per programme) and the
documentation photos of each stage.

A photo is stored in the database, outside the web root, as the certificates' logo is: re-encoded
from the upload (PNG stays PNG, JPEG stays JPEG), at most PHOTO_MAX_SIDE pixels on its longest
side, without the upload's metadata.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workshop.db import Model, utcnow


class ReportText(Model):
    __tablename__ = "laporan_text"

    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), primary_key=True)
    basis: Mapped[str] = mapped_column(Text, default="")  # dasar pelaksanaan
    purpose: Mapped[str] = mapped_column(Text, default="")  # maksud dan tujuan
    summary: Mapped[str] = mapped_column(Text, default="")  # ringkasan pelaksanaan (optional)
    closing: Mapped[str] = mapped_column(Text, default="")  # penutup (optional)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class ReportPhoto(Model):
    __tablename__ = "laporan_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    caption: Mapped[str] = mapped_column(String(300), default="")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(20))  # image/png, image/jpeg
    width: Mapped[int]
    height: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
