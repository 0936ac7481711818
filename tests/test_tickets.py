"""Tickets and badges, read back the way a scanner and a printer would.

QR codes are decoded with Debian's zbarimg (zbar-tools); SVGs are rasterised with rsvg-convert
(librsvg2-bin); PDFs are read with pdftotext and rendered with pdftoppm (poppler-utils).
"""

from __future__ import annotations

import html
import itertools
import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from tests import factories
from workshop.auth.models import Role
from workshop.programs.models import OrgKind
from workshop.registration import links, services
from workshop.registration.models import Mode, Registration, Status
from workshop.tickets import badges, codes, qr
from workshop.tickets import image as ticket_image

SECRET_KEY = "test-secret-key"
DPI = 150
CODE_WORD = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")


# Tools


def _tool(command: str, package: str) -> str:
    path = shutil.which(command)
    if path is None:
        pytest.fail(
            f"{command} not found: install Debian's {package} (apt-get install {package})", pytrace=False
        )
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def decode(image: Path) -> list[str]:
    """Every QR code zbarimg finds in the image, as text."""
    result = _run(_tool("zbarimg", "zbar-tools"), "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(image))
    assert result.returncode in (0, 4), result.stderr  # 4: no code found
    return result.stdout.splitlines()


def rasterise_svg(svg: str, tmp_path: Path) -> Path:
    source, target = tmp_path / "ticket.svg", tmp_path / "ticket-svg.png"
    source.write_text(svg)
    result = _run(_tool("rsvg-convert", "librsvg2-bin"), "--width", "400", str(source), "-o", str(target))
    assert result.returncode == 0, result.stderr
    return target


def render_page(pdf: bytes, tmp_path: Path, page: int = 1) -> Path:
    source = tmp_path / "badges.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / f"page-{page}"
    result = _run(
        _tool("pdftoppm", "poppler-utils"),
        *("-png", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile", str(source), str(prefix)),
    )
    assert result.returncode == 0, result.stderr
    return prefix.with_suffix(".png")


def pdf_words(pdf: bytes, tmp_path: Path) -> list[tuple[int, float, float, float, float, str]]:
    """(page, x_min, y_min, x_max, y_max, word) for every word; points, y measured from the top."""
    source, target = tmp_path / "words.pdf", tmp_path / "words.html"
    source.write_bytes(pdf)
    result = _run(_tool("pdftotext", "poppler-utils"), "-bbox", str(source), str(target))
    assert result.returncode == 0, result.stderr
    words = []
    for page, body in enumerate(re.findall(r"<page .*?</page>", target.read_text(), re.S), start=1):
        for x0, y0, x1, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', body
        ):
            words.append((page, float(x0), float(y0), float(x1), float(y1), html.unescape(word)))
    return words


def page_count(pdf: bytes, tmp_path: Path) -> int:
    source = tmp_path / "count.pdf"
    source.write_bytes(pdf)
    result = _run(_tool("pdfinfo", "poppler-utils"), str(source))
    assert result.returncode == 0, result.stderr
    return int(re.search(r"^Pages:\s+(\d+)$", result.stdout, re.M).group(1))


def slot_box(slot: int) -> tuple[float, float, float, float]:
    """A card slot as (x_min, y_min, x_max, y_max) in points from the top left, as pdftotext measures."""
    x, y = badges.slot_origin(slot)
    top = badges.PAGE_HEIGHT - y - badges.CARD_HEIGHT
    return x, top, x + badges.CARD_WIDTH, top + badges.CARD_HEIGHT


def slot_of(x: float, y: float) -> int:
    for slot in range(badges.PER_PAGE):
        x0, y0, x1, y1 = slot_box(slot)
        if x0 <= x <= x1 and y0 <= y <= y1:
            return slot
    raise AssertionError(f"({x}, {y}) is on no card")


def decode_slot(page_png: Path, slot: int, tmp_path: Path) -> list[str]:
    scale = DPI / 72
    x0, y0, x1, y1 = slot_box(slot)
    card = tmp_path / f"slot-{slot}.png"
    with Image.open(page_png) as image:
        image.crop((round(x0 * scale), round(y0 * scale), round(x1 * scale), round(y1 * scale))).save(card)
    return decode(card)


# Data


def approved(session, program=None, *, name: str = "Rosmawati Sihombing", mode: Mode = Mode.LURING):
    program = program or factories.program(session, stages=2)
    registration = factories.registration(session, program, name=name, mode=mode)
    services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=SECRET_KEY)
    session.commit()
    return registration


def log_in_as_participant(client, registration) -> None:
    response = client.post(f"/p/{links.token_for(registration, SECRET_KEY)}")
    assert response.status_code == 302


# QR images


def test_png_decodes_to_exactly_the_versioned_secret(tmp_path):
    secret = codes.new_secret()
    image = tmp_path / "ticket.png"
    image.write_bytes(qr.png(secret))

    assert decode(image) == [f"BH1:{secret}"]
    with Image.open(image) as png:
        assert png.size == (370, 370)  # 29 modules + 2 x 4 quiet zone, 10 pixels each (version 3)


def test_svg_rasterised_decodes_to_exactly_the_versioned_secret(tmp_path):
    secret = codes.new_secret()
    svg = qr.svg(secret)

    assert decode(rasterise_svg(svg, tmp_path)) == [f"BH1:{secret}"]
    assert svg.startswith('<svg width="37mm" height="37mm"')
    assert 'viewBox="0 0 37 37"' in svg  # 29 modules and a quiet zone of 4 on each side
    assert "style" not in svg and "<script" not in svg  # inline under the strict CSP
    assert len(svg) < 8_000


def test_pdf_modules_are_the_same_symbol_with_a_quiet_zone_of_four():
    secret = codes.new_secret()
    rows = qr.modules(secret)

    assert len(rows) == 37 and all(len(row) == 37 for row in rows)
    assert not any(rows[r][c] for r in range(37) for c in range(37) if min(r, c, 36 - r, 36 - c) < 4)
    assert rows[4][4:11] == [True] * 7  # the top-left finder pattern starts right after the quiet zone


# Participant


def test_participant_downloads_own_ticket_png_and_svg(session, client, tmp_path):
    registration = approved(session)
    log_in_as_participant(client, registration)
    slug = registration.program.slug
    payload = f"BH1:{registration.ticket_secret}"

    png = client.get(f"/saya/{slug}/tiket.png")
    svg = client.get(f"/saya/{slug}/tiket.svg")

    assert (png.status_code, png.mimetype) == (200, "image/png")
    assert png.headers["Content-Disposition"] == f"attachment; filename=tiket-{slug}.png"
    assert png.headers["Cache-Control"] == "private, no-store"
    (tmp_path / "own.png").write_bytes(png.data)
    assert decode(tmp_path / "own.png") == [payload]
    assert (svg.status_code, svg.mimetype) == (200, "image/svg+xml")
    assert decode(rasterise_svg(svg.get_data(as_text=True), tmp_path)) == [payload]


def drawn_text(text: str, style: ticket_image.Style) -> Image.Image:
    """`text` as the ticket draws it (same font, size and colour on white), cut to its ink."""
    font = ticket_image.font(style)
    *_, right, bottom = font.getbbox(text)
    canvas = Image.new("RGB", (right + 4, bottom + 4), "white")
    ImageDraw.Draw(canvas).text((2, 2), text, font=font, fill=style.colour)
    return canvas.crop(ImageChops.invert(canvas).getbbox())


def find(part: Image.Image, image: Image.Image) -> tuple[int, int] | None:
    """Where `part` appears pixel for pixel in `image` (left, top), or None."""
    width, height = part.size
    rows = [part.crop((0, y, width, y + 1)).tobytes() for y in range(height)]
    line = image.width * 3
    data = image.tobytes()
    for top in range(image.height - height + 1):
        row = data[top * line : (top + 1) * line]
        start = row.find(rows[0])
        while start != -1:
            if start % 3 == 0:
                left = start // 3
                if all(
                    data[(top + y) * line + start : (top + y) * line + start + width * 3] == rows[y]
                    for y in range(1, height)
                ):
                    return left, top
            start = row.find(rows[0], start + 1)
    return None


def test_the_downloaded_ticket_shows_name_programme_stages_and_code_under_the_qr(session, client, tmp_path):
    program = factories.program(session, stages=3, title="Bimtek Smart City Tapanuli Utara")
    registration = approved(session, program, name="Tiurma Lumbantobing")
    registration.stage_modes[1].mode = Mode.DARING  # in the hall for Tahap I and III
    session.commit()
    log_in_as_participant(client, registration)
    code = codes.format_short_code(registration.ticket_code)

    response = client.get(f"/saya/{program.slug}/tiket.png")
    (tmp_path / "ticket.png").write_bytes(response.data)

    assert decode(tmp_path / "ticket.png") == [f"BH1:{registration.ticket_secret}"]  # the secret only
    with Image.open(tmp_path / "ticket.png") as png:
        ticket = png.convert("RGB")
    assert ticket.width == ticket_image.WIDTH
    with Image.open(BytesIO(qr.png(registration.ticket_secret))) as bare:
        assert find(bare.convert("RGB"), ticket) == ((ticket.width - 370) // 2, 0)  # the QR, untouched
    lines = [
        ("Tiurma Lumbantobing", ticket_image.NAME),
        ("Bimtek Smart City Tapanuli Utara", ticket_image.PROGRAMME),
        ("Tahap I, III", ticket_image.STAGES),
        (code, ticket_image.CODE),
    ]
    found = [(text, drawn_text(text, style), find(drawn_text(text, style), ticket)) for text, style in lines]
    assert [text for text, _drawn, where in found if where is None] == []
    tops = [top for _text, _drawn, (_left, top) in found]
    assert 370 <= tops[0] < tops[1] < tops[2] < tops[3] < ticket.height  # under the QR, in this order
    for text, drawn, (left, _top) in found:  # centred, give or take the glyphs' side bearings
        assert abs(left + drawn.width / 2 - ticket.width / 2) <= 3, text


def test_the_ticket_in_english_says_stages_and_keeps_long_names_to_two_lines(session, client, tmp_path):
    program = factories.program(session, stages=2)
    long_name = "Parulian " * 20  # 179 characters: the column holds 200
    registration = approved(session, program, name=long_name.strip())
    log_in_as_participant(client, registration)
    client.post("/language/en")

    with Image.open(BytesIO(client.get(f"/saya/{program.slug}/tiket.png").data)) as png:
        ticket = png.convert("RGB")

    assert find(drawn_text("Stages I, II", ticket_image.STAGES), ticket) is not None
    assert find(drawn_text("Tahap I, II", ticket_image.STAGES), ticket) is None
    (style, name_lines), *_ = ticket_image.blocks(badges.registration_badge(registration))
    assert style == ticket_image.NAME and len(name_lines) == 2 and name_lines[1].endswith("\u2026")
    assert all(
        ticket_image.font(style).getlength(line) <= ticket_image.WIDTH - 2 * ticket_image.MARGIN
        for line in name_lines
    )


def test_participant_cannot_reach_a_programme_they_are_not_approved_for(session, client, tmp_path):
    mine = approved(session, name="Rosmawati Sihombing")
    other_program = factories.program(session, stages=1)
    approved(session, other_program, name="Tumpal Hutabarat")
    session.add(Registration(program=other_program, person=mine.person, status=Status.PENDING))
    session.commit()
    log_in_as_participant(client, mine)

    for suffix in ("tiket.png", "tiket.svg"):
        assert client.get(f"/saya/{other_program.slug}/{suffix}").status_code == 404
    # Same programme, another approved person: the URL has no id, so the answer is always one's own.
    neighbour = approved(session, mine.program, name="Tumpal Sitorus")
    (tmp_path / "mine.png").write_bytes(client.get(f"/saya/{mine.program.slug}/tiket.png").data)
    assert decode(tmp_path / "mine.png") == [f"BH1:{mine.ticket_secret}"]
    assert neighbour.ticket_secret != mine.ticket_secret


def test_participant_page_shows_the_qr_the_short_code_and_the_hint(session, client, tmp_path):
    registration = approved(session)
    log_in_as_participant(client, registration)

    page = client.get(f"/saya/{registration.program.slug}").get_data(as_text=True)

    svgs = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(svgs) == 1
    assert 'class="ticket-qr"' in svgs[0] and "style" not in svgs[0]
    assert decode(rasterise_svg(svgs[0], tmp_path)) == [f"BH1:{registration.ticket_secret}"]
    code = f"{registration.ticket_code[:4]}-{registration.ticket_code[4:]}"
    assert f'<p class="ticket-code" data-testid="ticket-code">{code}</p>' in page
    assert "<strong>Tiket masuk (QR)</strong>" in page
    assert "Tunjukkan kode ini di meja registrasi." in page
    assert f'href="/saya/{registration.program.slug}/tiket.png"' in page
    assert "Unduh PNG" in page
    assert "Anda mengikuti secara daring" not in page  # luring: no note for online participants


def test_online_only_participant_is_told_the_ticket_is_for_the_hall(session, client):
    registration = approved(session, mode=Mode.DARING)
    log_in_as_participant(client, registration)

    page = client.get(f"/saya/{registration.program.slug}").get_data(as_text=True)

    assert "Anda mengikuti secara daring: tiket hanya diperlukan jika Anda datang ke aula." in page
    assert 'class="ticket-qr"' in page


# Staff


def test_door_staff_download_a_ticket_png_for_an_approved_registration_only(session, client, login, tmp_path):
    registration = approved(session)
    pending = factories.registration(session, registration.program)
    login(factories.staff(session, Role.PETUGAS))
    session.commit()

    response = client.get(f"/admin/registrations/{registration.id}/ticket.png")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f"attachment; filename=tiket-{registration.id}.png"
    (tmp_path / "staff.png").write_bytes(response.data)
    assert decode(tmp_path / "staff.png") == [f"BH1:{registration.ticket_secret}"]
    assert client.get(f"/admin/registrations/{pending.id}/ticket.png").status_code == 404
    assert client.get(f"/admin/registrations/{pending.id}/badge.pdf").status_code == 404


def test_stage_badges_list_the_approved_luring_people_by_organisation_then_name(
    session, client, login, tmp_path
):
    program = factories.program(session, stages=2, title="Bimtek Penyusunan Masterplan Smart City")
    stage = program.stages[0]
    bappeda = factories.organization(session, name="Badan Perencanaan Pembangunan Daerah")
    kominfo = factories.organization(session, name="Dinas Komunikasi dan Informatika")
    kecamatan = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    desa = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=kecamatan)
    perusda = factories.organization(session, kind=OrgKind.PERUSDA, name="PD Air Minum Tirta Nauli")
    people = {}
    for name, org in [
        ("Yohana Sitompul", kominfo),
        ("Agus Simanjuntak", kominfo),
        ("Marulam Hutagalung", desa),
        ("Bonar Siregar", bappeda),
        ("Zulkifli Nasution", bappeda),
        ("cory Panjaitan", kominfo),  # sorted without regard to case
        ("Elisabeth Tambunan", desa),
        ("Fransiskus Pardede", bappeda),
        ("Gideon Manurung", perusda),
    ]:
        people[name] = factories.registration(session, program, status=Status.APPROVED, name=name, org=org)
    left_out = [
        factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING, name="Hendra X"),
        factories.registration(session, program, status=Status.PENDING, name="Intan X"),
        factories.registration(session, program, status=Status.CANCELLED, name="Jonner X"),
        factories.registration(session, program, status=Status.WAITLISTED, name="Kartini X"),
        factories.registration(session, factories.program(session), status=Status.APPROVED, name="Lamhot X"),
    ]
    in_hall_later = factories.registration(session, program, status=Status.APPROVED, name="Nurhayati X")
    in_hall_later.stage_modes[0].mode = Mode.DARING  # luring in Tahap II only
    login(factories.staff(session, Role.PETUGAS))
    session.commit()

    response = client.get(f"/admin/stages/{stage.id}/badges.pdf")

    assert (response.status_code, response.mimetype) == (200, "application/pdf")
    assert response.headers["Content-Disposition"] == "inline; filename=badges-tahap-I.pdf"
    pdf = response.data
    expected = [
        "Bonar Siregar",
        "Fransiskus Pardede",
        "Zulkifli Nasution",
        "Agus Simanjuntak",
        "cory Panjaitan",
        "Yohana Sitompul",
        "Elisabeth Tambunan",
        "Marulam Hutagalung",
        "Gideon Manurung",
    ]
    assert page_count(pdf, tmp_path) == 2
    words = pdf_words(pdf, tmp_path)
    # Each person's first name is on the card in reading order: 8 on page 1, the ninth on page 2.
    placed = {word: (page, slot_of(x0, y0)) for page, x0, y0, _, _, word in words}
    assert [placed.get(name.split()[0]) for name in expected] == [
        (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (1, 7), (2, 0)
    ]  # fmt: skip
    printed = {
        (page, slot_of(x0, y0)): word for page, x0, y0, _, _, word in words if CODE_WORD.fullmatch(word)
    }
    assert printed == {
        placed[name.split()[0]]: codes.format_short_code(people[name].ticket_code) for name in expected
    }
    text = " ".join(word for *_, word in words)
    for registration in [*left_out, in_hall_later]:
        assert registration.person.name.split()[0] not in text
    plain = [word for *_, word in words]
    assert sum(1 for a, b in itertools.pairwise(plain) if (a, b) == ("TAHAP", "I")) == 9
    assert text.count("Bimtek Penyusunan Masterplan") == 9
    assert "Kepala Bidang" in text and "Hutatoruan I, Kec. Tarutung" in text

    page_1 = render_page(pdf, tmp_path)
    payloads = [f"BH1:{people[name].ticket_secret}" for name in expected]
    # Each card's code reads as its owner's, as a scanner held to the card reads it; zbar reading
    # all eight at once from the whole sheet misses one now and then, so the sheet is only checked
    # for codes of no one else.
    for slot in range(8):
        assert decode_slot(page_1, slot, tmp_path) == [payloads[slot]]
    assert set(decode(page_1)) <= set(payloads[:8])
    assert decode(render_page(pdf, tmp_path, page=2)) == [payloads[8]]


def test_stage_without_luring_people_gets_a_page_that_says_so(session, client, login, tmp_path):
    program = factories.program(session, stages=1)
    factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
    login(factories.staff(session, Role.PANITIA))
    session.commit()

    pdf = client.get(f"/admin/stages/{program.stages[0].id}/badges.pdf").data

    assert page_count(pdf, tmp_path) == 1
    assert " ".join(word for *_, word in pdf_words(pdf, tmp_path)) == (
        "Belum ada peserta luring yang disetujui untuk Tahap I."
    )


def test_single_badge_names_the_stages_in_the_hall_and_scans(session, client, login, tmp_path):
    program = factories.program(session, stages=3)
    registration = approved(session, program, name="Rosmawati Sihombing")
    registration.stage_modes[1].mode = Mode.DARING
    login(factories.staff(session, Role.ADMIN))
    session.commit()

    response = client.get(f"/admin/registrations/{registration.id}/badge.pdf")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f"inline; filename=badge-{registration.id}.pdf"
    pdf = response.data
    assert page_count(pdf, tmp_path) == 1
    words = pdf_words(pdf, tmp_path)
    assert {slot_of(x0, y0) for _, x0, y0, *_ in words} == {0}
    text = " ".join(word for *_, word in words)
    assert "Rosmawati Sihombing" in text
    assert "TAHAP I, III" in text
    assert codes.format_short_code(registration.ticket_code) in text
    page = render_page(pdf, tmp_path)
    assert decode_slot(page, 0, tmp_path) == [f"BH1:{registration.ticket_secret}"]


def test_long_texts_wrap_or_shrink_and_stay_on_their_card(tmp_path):
    secret = codes.new_secret()
    short = badges.Badge("Ani Lubis", "Camat", "Tarutung", "Bimtek", "Tahap I", secret, "ABCD-EFGH")
    long_name = "Prof. Dr. Ir. Hotman Parulian Hutabarat Lumbantobing, S.T., M.Si., M.Eng."
    long = badges.Badge(
        long_name,
        "Kepala Bidang Infrastruktur Teknologi Informasi dan Komunikasi serta Persandian dan Statistik",
        "Dinas Komunikasi, Informatika, Persandian dan Statistik Kabupaten Tapanuli Utara Provinsi Sumatera",
        "Bimbingan Teknis Penyusunan Masterplan Smart City Kabupaten Tapanuli Utara Tahun Anggaran 2021",
        "Tahap IV",
        secret,
        "KMNP-QRST",
    )
    absurd = badges.Badge("X" * 200, "Y " * 200, "Z" * 300, "W" * 100, "Tahap I", secret, "WXYZ-2345")

    pdf = badges.render([short, long, absurd], title="Uji")

    words = pdf_words(pdf, tmp_path)
    for slot in range(3):
        x0, y0, x1, y1 = slot_box(slot)
        on_card = [w for w in words if x0 <= w[1] <= x1 and y0 <= w[2] <= y1]
        assert on_card, slot
        for _, wx0, wy0, wx1, wy1, word in on_card:
            assert x0 < wx0 and wx1 < x1 and y0 < wy0 and wy1 < y1, (slot, word)
    assert all(slot_of(w[1], w[2]) in {0, 1, 2} for w in words)
    text = " ".join(word for *_, word in words)
    assert long_name in text  # wrapped, not cut
    assert "\u2026" in text  # the absurd one is cut with an ellipsis
    height = {word: y1 - y0 for _, _, y0, _, y1, word in words}
    assert height["Ani"] > 1.6 * height["Camat"]  # the name is the large text
    assert decode_slot(render_page(pdf, tmp_path), 2, tmp_path) == [f"BH1:{secret}"]


# Links on the organiser's pages


def test_stage_and_registration_pages_link_to_badges_and_tickets(session, client, login):
    registration = approved(session)
    pending = factories.registration(session, registration.program)
    login(factories.staff(session, Role.PANITIA))
    session.commit()
    program = registration.program

    detail = client.get(f"/admin/programs/{program.id}").get_data(as_text=True)
    approved_page = client.get(f"/admin/registrations/{registration.id}").get_data(as_text=True)
    pending_page = client.get(f"/admin/registrations/{pending.id}").get_data(as_text=True)

    for stage in program.stages:
        assert f'href="/admin/stages/{stage.id}/badges.pdf"' in detail
    assert f'href="/admin/registrations/{registration.id}/badge.pdf"' in approved_page
    assert f'href="/admin/registrations/{registration.id}/ticket.png"' in approved_page
    assert "badge.pdf" not in pending_page and "ticket.png" not in pending_page
