"""The laporan kegiatan in Chromium: the organiser opens it from the programme page, writes the
dasar pelaksanaan and tujuan, adds a photo (and sees a file that is no picture refused), and
downloads the DOCX and the PDF, whose content is read back. The page fits a 360 px phone and a
1366 px laptop without sideways scrolling (screenshots in /tmp/bimtek-laporan)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from tests import laporan_world
from tests.browser.test_attendance_dashboard import log_in

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir()) / "bimtek-laporan"
WIDTHS = (360, 1366)
BASIS = "Surat Keputusan Bupati Tapanuli Utara Nomor 88 Tahun 2021"
PURPOSE = "Aparatur mampu menyusun masterplan smart city daerah."


def _screenshots(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} at {width} px"


def test_the_organiser_writes_adds_a_photo_and_downloads_the_laporan(
    live_server, page, browser_problems, tmp_path
):
    with live_server.session() as session:
        world = laporan_world.build(session)
        program_id, slug = world["program"].id, world["program"].slug
        second = world["program"].stages[1].id
        organiser = world["organiser"].username
    page.set_viewport_size({"width": 1366, "height": 800})
    log_in(page, organiser)
    page.goto(f"/admin/programs/{program_id}")
    page.get_by_test_id("laporan").click()
    expect(page.locator("h1")).to_have_text("Laporan kegiatan")

    page.get_by_label("Dasar Pelaksanaan").fill(BASIS)
    page.get_by_label("Maksud dan Tujuan").fill(PURPOSE)
    page.get_by_test_id("save-texts").click()
    expect(page.get_by_text("Teks laporan disimpan.")).to_be_visible()

    photos = page.get_by_test_id("photos-2")
    not_a_picture = tmp_path / "foto.png"
    not_a_picture.write_bytes(b"%PDF-1.4 bukan gambar")
    photos.locator(f"#stage{second}-photo").set_input_files(str(not_a_picture))
    photos.get_by_role("button", name="Tambah foto").click()
    expect(page.get_by_test_id("photos-2")).to_contain_text(
        "Berkas ini bukan gambar PNG atau JPEG (atau rusak). Tidak ada yang disimpan."
    )
    expect(page.get_by_test_id("photos-2").locator("figure")).to_have_count(0)

    picture = tmp_path / "diskusi.png"
    picture.write_bytes(laporan_world.png((800, 600), (200, 120, 40)))
    page.get_by_test_id("photos-2").locator(f"#stage{second}-photo").set_input_files(str(picture))
    page.get_by_test_id("photos-2").locator(f"#stage{second}-caption").fill("Diskusi kelompok Tahap II")
    page.get_by_test_id("photos-2").get_by_role("button", name="Tambah foto").click()
    expect(page.get_by_text("Foto ditambahkan ke Tahap II.")).to_be_visible()
    expect(page.get_by_test_id("photos-2").locator("figure")).to_have_count(1)
    expect(page.get_by_test_id("photos-2").locator("figcaption")).to_contain_text("Diskusi kelompok Tahap II")
    page.evaluate("window.scrollTo(0, 0)")
    _screenshots(page, "laporan")

    with page.expect_download() as download:
        page.get_by_test_id("docx-all").click()
    assert download.value.suggested_filename == f"laporan-{slug}.docx"
    document = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert [
        text
        for text in texts
        if text in (BASIS, PURPOSE, "Diskusi kelompok Tahap II", "Pembukaan oleh Bupati")
    ] == [BASIS, PURPOSE, "Pembukaan oleh Bupati", "Diskusi kelompok Tahap II"]  # stage I's photo first
    assert len(document.inline_shapes) == 4  # two poll charts, two photos
    assert [[cell.text for cell in row.cells] for row in document.tables[1].rows[1:3]] == [
        ["Luring", "2", "0", "1", "0", "3"],
        ["Daring", "0", "1", "0", "1", "2"],
    ]

    with page.expect_download() as download:
        page.get_by_test_id("pdf-2").click()
    assert download.value.suggested_filename == f"laporan-{slug}-tahap-II.pdf"
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed"
    text = " ".join(
        subprocess.run(["pdftotext", "-layout", download.value.path(), "-"], capture_output=True, check=True)
        .stdout.decode()
        .split()
    )
    assert BASIS in text and "Diskusi kelompok Tahap II" in text
    assert "Luring 3 0 0 0 3" in text and "Pembukaan oleh Bupati" not in text  # stage I's photo
    assert browser_problems.seen == []
