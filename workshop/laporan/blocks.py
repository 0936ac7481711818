"""The laporan as a list of plain blocks, already in words: the DOCX (word.py) and the PDF (pdf.py)
are two renderings of the same list, so they say the same figures. Plain values only, so that a
rendering can run in a process of its own (workshop/offload.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cover:
    title: str  # LAPORAN PELAKSANAAN KEGIATAN
    lines: tuple[str, ...]  # the programme, the stage, the organiser, the dates


@dataclass(frozen=True)
class Heading:
    text: str
    level: int  # 1: a chapter, 2: a section


@dataclass(frozen=True)
class Paragraph:
    text: str
    muted: bool = False


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total: bool = False  # the last row is a total (bold)
    widths: tuple[int, ...] = ()  # relative column widths in the PDF; none: the first column wider


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart, drawn as a PNG by charts.py: per bar its label, its count and the
    count as written beside it ("12 (40%)")."""

    title: str
    bars: tuple[tuple[str, int, str], ...]


@dataclass(frozen=True)
class Picture:
    content: bytes  # PNG or JPEG
    width: int
    height: int
    caption: str


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Cover | Heading | Paragraph | Table | Chart | Picture | PageBreak


@dataclass(frozen=True)
class Document:
    title: str  # the document's properties (DOCX core title, PDF title)
    author: str
    blocks: tuple[Block, ...]
