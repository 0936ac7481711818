"""Certificates: the eligibility rule at its thresholds, issuing (idempotent, numbered, at once from
two connections), the PDF (QR decoded, text read back), the ZIP, the verification page, revocation,
the participant's own download, the logo check and the announcement."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from tests import factories
from tests.test_live import participant_client
from workshop.attendance.models import AttendanceOverride, AttendanceStatus
from workshop.auth.models import AuditEntry, Role
from workshop.certificates import issuing, services
from workshop.certificates.eligibility import Rule, judge
from workshop.certificates.models import Certificate, CertificateJob, JobStatus
from workshop.checkin.models import CheckIn
from workshop.db import db, sqlite_write_intent
from workshop.evaluation.models import EvaluationResponse
from workshop.registration import links
from workshop.registration.models import Status
from workshop.reminders.models import Delivery, Kind

HADIR, TERLAMBAT, IZIN, TIDAK = (
    AttendanceStatus.HADIR,
    AttendanceStatus.TERLAMBAT,
    AttendanceStatus.IZIN,
    AttendanceStatus.TIDAK_HADIR,
)
AFTER_ALL = datetime(2021, 9, 1, 3, 0, tzinfo=UTC)  # the four stages of the factory have ended


# --- The rule, at its thresholds --------------------------------------------------------------

JP = {1: 8, 2: 8, 3: 8, 4: 6}


@pytest.mark.parametrize(
    ("statuses", "eligible"),
    [
        ([HADIR, HADIR, HADIR, TIDAK], True),  # exactly 3 of 4
        ([HADIR, TERLAMBAT, HADIR, IZIN], True),  # late counts as present
        ([HADIR, HADIR, IZIN, TIDAK], False),  # izin is not present: 2 of 4
        ([HADIR, HADIR, HADIR, HADIR], True),
    ],
)
def test_three_of_four_stages_exactly_at_the_threshold(statuses, eligible):
    standing = judge(Rule(min_stages=3), list(zip(JP, statuses, strict=True)), JP)
    assert standing.eligible is eligible


def test_jp_exactly_at_the_threshold_and_one_below():
    rule = Rule(min_jp=22)
    at = judge(rule, [(1, HADIR), (2, TIDAK), (3, HADIR), (4, HADIR)], JP)  # 8 + 8 + 6 = 22
    below = judge(rule, [(1, HADIR), (2, HADIR), (3, TIDAK), (4, TIDAK)], JP)  # 16
    assert (at.eligible, at.jp, at.stage_ids) == (True, 22, (1, 3, 4))
    assert (below.eligible, below.jp) == (False, 16)
    assert judge(Rule(min_jp=23), [(1, HADIR), (2, TIDAK), (3, HADIR), (4, HADIR)], JP).eligible is False


def test_both_criteria_must_be_met_and_a_rule_without_any_gives_nothing():
    present_three = [(1, HADIR), (2, HADIR), (3, TIDAK), (4, HADIR)]  # 22 JP
    assert judge(Rule(min_stages=3, min_jp=22), present_three, JP).eligible is True
    assert judge(Rule(min_stages=3, min_jp=24), present_three, JP).eligible is False
    assert judge(Rule(), [(1, HADIR), (2, HADIR), (3, HADIR), (4, HADIR)], JP).eligible is False


def test_with_the_evaluation_required_a_stage_counts_only_when_evaluated():
    rule = Rule(min_stages=2, require_evaluation=True)
    statuses = [(1, HADIR), (2, HADIR), (3, HADIR), (4, TIDAK)]
    assert judge(rule, statuses, JP, frozenset({1, 2})).eligible is True
    assert judge(rule, statuses, JP, frozenset({1, 4})).stage_ids == (1,)
    assert judge(rule, statuses, JP, frozenset({1, 4})).eligible is False


# --- Issuing on the records -------------------------------------------------------------------


def _attend(session, registration, statuses):
    for stage, status in zip(registration.program.stages, statuses, strict=True):
        if status is not None:
            session.add(
                AttendanceOverride(
                    registration_id=registration.id, stage_id=stage.id, status=status, reason="daftar hadir"
                )
            )
    session.flush()


def _rule(session, program, **values):
    defaults = dict(
        min_stages=3,
        min_jp=None,
        require_evaluation=False,
        signatory_name="Drs. Nikson Sitompul, M.Si",
        signatory_nip="196805121993031004",
        signatory_title="Kepala Dinas Komunikasi dan Informatika",
        place="Tarutung",
        signed_on=date(2021, 9, 1),
        number_format="800/{n}/Kominfo/{year}",
        jp={stage.id: 8 for stage in program.stages},
        actor=None,
        now=AFTER_ALL,
    )
    return services.save_settings(session, program, **(defaults | values))


@pytest.fixture
def world(session, set_now):
    set_now(AFTER_ALL)
    program = factories.program(session, title="Bimtek Penyusunan Masterplan Smart City")
    program.organiser = "Dinas Komunikasi dan Informatika Kabupaten Tapanuli Utara"
    org = factories.organization(session, name="Bappeda")
    rina = factories.registration(session, program, status=Status.APPROVED, name="Rina Siregar", org=org)
    budi = factories.registration(session, program, status=Status.APPROVED, name="Budi Hutabarat", org=org)
    sari = factories.registration(session, program, status=Status.APPROVED, name="Sari Lumbantobing", org=org)
    pending = factories.registration(
        session, program, status=Status.PENDING, name="Dedi Simanjuntak", org=org
    )
    _attend(session, rina, [HADIR, HADIR, HADIR, TIDAK])  # 3 of 4: at the threshold
    _attend(session, budi, [HADIR, TERLAMBAT, IZIN, TIDAK])  # 2 of 4
    _attend(session, sari, [TERLAMBAT, HADIR, HADIR, HADIR])
    _attend(session, pending, [HADIR, HADIR, HADIR, HADIR])  # not approved: no certificate
    _rule(session, program)
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    return {"program": program, "rina": rina, "budi": budi, "sari": sari, "organiser": organiser}


def _issue(session, program):
    """Issue what is due; the new certificates, in number order."""
    before = session.scalar(select(func.max(Certificate.number))) or 0
    issuing.issue(
        session, program, services.standings(session, program, now=AFTER_ALL), actor=None, now=AFTER_ALL
    )
    return session.scalars(
        select(Certificate).where(Certificate.number > before).order_by(Certificate.number)
    ).all()


def test_certificates_go_to_those_at_or_over_the_threshold_with_their_facts(session, world):
    created = _issue(session, world["program"])
    session.commit()
    assert [(c.name, c.number, c.number_text, c.stage_numbers, c.jp) for c in created] == [
        ("Rina Siregar", 1, "800/1/Kominfo/2021", "I,II,III", 24),
        ("Sari Lumbantobing", 2, "800/2/Kominfo/2021", "I,II,III,IV", 32),
    ]
    assert created[0].organization == "Bappeda"
    assert created[0].dated == date(2021, 9, 1)
    assert len(created[0].code) == 12


def test_a_hall_check_in_counts_as_present(session, world):
    program, budi = world["program"], world["budi"]
    stage = program.stages[2]
    session.delete(
        session.scalar(select(AttendanceOverride).filter_by(registration_id=budi.id, stage_id=stage.id))
    )
    scanned = stage.starts_at - timedelta(minutes=5)
    session.add(
        CheckIn(registration=budi, stage=stage, day=date(2021, 8, 5), scanned_at=scanned, desk="Meja 1")
    )
    scanned2 = stage.starts_at + timedelta(days=1, minutes=-5)
    session.add(
        CheckIn(registration=budi, stage=stage, day=date(2021, 8, 6), scanned_at=scanned2, desk="Meja 1")
    )
    session.flush()
    standing = {c.registration_id: c.standing for c in services.standings(session, program, now=AFTER_ALL)}
    assert standing[budi.id].stage_ids == (program.stages[0].id, program.stages[1].id, stage.id)
    assert standing[budi.id].eligible is True


def test_a_stage_not_ended_does_not_count(session, world):
    program = world["program"]
    before_the_last = program.stages[3].starts_at - timedelta(days=1)
    standing = {
        c.registration_id: c.standing for c in services.standings(session, program, now=before_the_last)
    }
    assert standing[world["sari"].id].stage_ids == tuple(stage.id for stage in program.stages[:3])


def test_issuing_again_creates_no_duplicate_and_keeps_the_numbers(session, world):
    program = world["program"]
    first = [(c.registration_id, c.number, c.code) for c in _issue(session, program)]
    session.commit()
    _attend(session, world["budi"], [None, None, None, None])
    session.execute(
        AttendanceOverride.__table__.update()
        .where(AttendanceOverride.registration_id == world["budi"].id)
        .values(status=HADIR)
    )
    again = _issue(session, program)
    session.commit()
    assert [(c.name, c.number) for c in again] == [("Budi Hutabarat", 3)]
    rows = session.execute(
        select(Certificate.registration_id, Certificate.number, Certificate.code).order_by(Certificate.number)
    ).all()
    assert [tuple(row) for row in rows[:2]] == first
    assert _issue(session, program) == []


def test_a_revoked_certificate_keeps_its_number_and_is_not_issued_again(session, world):
    program = world["program"]
    rina_certificate = _issue(session, program)[0]
    issuing.revoke(session, rina_certificate, reason="Data kehadiran keliru", actor=None, now=AFTER_ALL)
    session.commit()
    assert _issue(session, program) == []
    assert session.scalar(select(func.count()).select_from(Certificate)) == 2
    assert rina_certificate.revoked_reason == "Data kehadiran keliru"
    with pytest.raises(services.CertificateError) as refused:
        issuing.revoke(session, rina_certificate, reason="lagi", actor=None, now=AFTER_ALL)
    assert refused.value.code == "already_revoked"


def test_two_bulk_runs_at_once_give_no_duplicate_number(app, session, set_now):
    set_now(AFTER_ALL)
    program = factories.program(session)
    for number in range(40):
        registration = factories.registration(
            session, program, status=Status.APPROVED, name=f"Peserta {number}"
        )
        _attend(session, registration, [HADIR, HADIR, HADIR, HADIR])
    _rule(session, program)
    program_id = program.id
    session.commit()  # and no new transaction here: it would hold SQLite's write lock
    start = threading.Barrier(2)
    made: list[int] = []
    errors: list[BaseException] = []

    def run():
        try:
            with app.app_context():
                sqlite_write_intent.set(False)  # as the view: read first, then a short write
                mine = db.session.get(type(program), program_id)
                candidates = services.standings(db.session, mine, now=AFTER_ALL)
                db.session.commit()
                sqlite_write_intent.set(True)
                start.wait(timeout=30)
                made.append(issuing.issue(db.session, mine, candidates, actor=None, now=AFTER_ALL))
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(made) == [0, 40]
    numbers = session.scalars(select(Certificate.number).where(Certificate.program_id == program_id)).all()
    assert sorted(numbers) == list(range(1, 41))


# --- Pages ------------------------------------------------------------------------------------


def test_generate_issues_makes_the_zip_and_running_twice_changes_nothing(app, session, client, login, world):
    login(world["organiser"])
    program = world["program"]
    assert client.post(f"/admin/programs/{program.id}/sertifikat/generate").status_code == 302
    job = session.scalar(select(CertificateJob))
    assert (job.status, job.issued, job.total, job.done) == (JobStatus.DONE, 2, 2, 2)
    progress = client.get(f"/admin/programs/{program.id}/sertifikat/progress").get_json()
    assert progress == {"status": "done", "done": 2, "total": 2, "issued": 2}
    first = client.get(f"/admin/programs/{program.id}/sertifikat.zip")
    assert first.status_code == 200
    assert first.headers["Content-Disposition"] == f"attachment; filename=sertifikat-{program.slug}.zip"
    with zipfile.ZipFile(io.BytesIO(first.data)) as archive:
        assert archive.namelist() == ["0001-Rina-Siregar.pdf", "0002-Sari-Lumbantobing.pdf"]
    assert client.post(f"/admin/programs/{program.id}/sertifikat/generate").status_code == 302
    second = client.get(f"/admin/programs/{program.id}/sertifikat.zip")
    assert second.data == first.data  # the same PDFs, the same numbers
    assert session.scalar(select(func.count()).select_from(Certificate)) == 2
    page = client.get(f"/admin/programs/{program.id}/sertifikat").get_data(as_text=True)
    assert "800/2/Kominfo/2021" in page


def _decode_qr(pdf_bytes: bytes, tmp_path) -> str:
    source = tmp_path / "certificate.pdf"
    source.write_bytes(pdf_bytes)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "150",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "page.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    return decoded.stdout.strip()


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="poppler-utils, zbar-tools"
)
def test_the_pdf_carries_the_name_the_number_and_a_qr_code_of_the_verification_page(
    app, session, world, tmp_path
):
    rina = world["rina"]
    _issue(session, world["program"])
    session.commit()
    certificate = session.scalar(select(Certificate).filter_by(registration_id=rina.id))
    client = participant_client(app, session, rina)
    response = client.get(f"/saya/{world['program'].slug}/sertifikat.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    page = reader.pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
        (841.89, 595.28), abs=0.1
    )
    text = page.extract_text()
    assert "Rina Siregar" in text
    assert "Nomor: 800/1/Kominfo/2021" in text
    assert "Tahap I, II, III (3 dari 4 tahap), 24 JP" in text
    assert "Tarutung, 1 September 2021" in text
    assert certificate.code in text
    assert _decode_qr(response.data, tmp_path) == f"http://bimtek.test/verifikasi/{certificate.code}"


def test_a_participant_downloads_only_their_own_certificate(app, session, world):
    _issue(session, world["program"])
    session.commit()
    other_program = factories.program(session, stages=1)
    factories.registration(session, other_program, status=Status.APPROVED)
    budi = participant_client(app, session, world["budi"])  # approved, but not eligible
    assert budi.get(f"/saya/{world['program'].slug}/sertifikat.pdf").status_code == 404
    assert budi.get(f"/saya/{other_program.slug}/sertifikat.pdf").status_code == 404
    rina_certificate = session.scalar(select(Certificate).filter_by(registration_id=world["rina"].id))
    assert budi.get(f"/admin/sertifikat/{rina_certificate.id}.pdf").status_code == 403  # the organiser's
    rina = participant_client(app, session, world["rina"])
    page = rina.get(f"/saya/{world['program'].slug}").get_data(as_text=True)
    assert 'data-testid="participant-certificate"' in page
    assert "800/1/Kominfo/2021" in page
    own = rina.get(f"/saya/{world['program'].slug}/sertifikat.pdf")
    assert "Rina Siregar" in PdfReader(io.BytesIO(own.data)).pages[0].extract_text()


def test_verification_page_valid_revoked_and_unknown(app, session, client, world):
    certificate = _issue(session, world["program"])[0]
    session.commit()
    valid = client.get(f"/verifikasi/{certificate.code}")
    text = valid.get_data(as_text=True)
    assert valid.status_code == 200
    assert "Sertifikat ini asli dan berlaku." in text
    assert "Rina Siregar" in text and "Bimtek Penyusunan Masterplan Smart City" in text
    assert "1 September 2021" in text
    person = world["rina"].person
    assert person.phone not in text and person.email not in text
    issuing.revoke(session, certificate, reason="Data kehadiran keliru", actor=None, now=AFTER_ALL)
    session.commit()
    revoked = client.get(f"/verifikasi/{certificate.code}").get_data(as_text=True)
    assert "Sertifikat ini telah dicabut dan tidak berlaku lagi." in revoked
    assert "Data kehadiran keliru" not in revoked
    unknown = client.get("/verifikasi/AAAAAAAAAAAA")
    assert unknown.status_code == 404
    assert "Sertifikat tidak ditemukan" in unknown.get_data(as_text=True)
    client.post("/language/en")
    english = client.get("/verifikasi/AAAAAAAAAAAA")
    assert english.status_code == 404
    assert "Certificate not found" in english.get_data(as_text=True)


def test_revocation_by_the_organiser_is_audited(app, session, client, login, world):
    certificate = _issue(session, world["program"])[0]
    session.commit()
    login(world["organiser"])
    assert client.post(f"/admin/sertifikat/{certificate.id}/revoke", data={"reason": ""}).status_code == 302
    assert certificate.revoked_at is None
    client.post(f"/admin/sertifikat/{certificate.id}/revoke", data={"reason": "Tidak hadir Tahap III"})
    session.refresh(certificate)
    assert certificate.revoked_reason == "Tidak hadir Tahap III"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "certificate.revoke"))
    assert (entry.actor_id, entry.detail) == (
        world["organiser"].id,
        "800/1/Kominfo/2021: Tidak hadir Tahap III",
    )


def _png(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_logo_is_judged_by_its_content(session, world):
    assert services.check_logo(_png()) == "image/png"
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "JPEG")
    assert services.check_logo(buffer.getvalue()) == "image/jpeg"
    for refused, code in [
        (b"\x89PNG\r\n\x1a\n" + b"not really", "logo_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo_type"),
        (_png()[:60], "logo_type"),
        (b"\x89PNG\r\n\x1a\n" + bytes(services.LOGO_MAX_BYTES), "logo_size"),
    ]:
        with pytest.raises(services.CertificateError) as error:
            services.check_logo(refused)
        assert error.value.code == code


def test_the_logo_upload_and_the_settings_form(app, session, client, login, world):
    login(world["organiser"])
    program = world["program"]
    response = client.post(
        f"/admin/programs/{program.id}/sertifikat/logo/unggah",
        data={"logo": (io.BytesIO(_png()), "logo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert client.get(f"/admin/programs/{program.id}/sertifikat/logo").data == _png()
    form = {
        "min_stages": "",
        "min_jp": "30",
        "signatory_name": "Drs. Nikson Sitompul, M.Si",
        "signatory_nip": "196805121993031004",
        "signatory_title": "Kepala Dinas",
        "place": "Tarutung",
        "signed_on": "",
        "number_format": "800/{n}/Kominfo",
    } | {f"jp_{stage.id}": "8" for stage in program.stages}
    assert client.post(f"/admin/programs/{program.id}/sertifikat/settings", data=form).status_code == 302
    settings = services.settings_for(session, program)
    session.refresh(settings)
    assert (settings.min_stages, settings.min_jp, settings.number_format) == (None, 30, "800/{n}/Kominfo")
    bad = client.post(
        f"/admin/programs/{program.id}/sertifikat/settings", data=form | {"number_format": "800/{x}"}
    )
    assert bad.status_code == 400
    assert "{n}" in bad.get_data(as_text=True)
    none = client.post(f"/admin/programs/{program.id}/sertifikat/settings", data=form | {"min_jp": ""})
    assert none.status_code == 400


def test_number_format():
    assert services.format_number("800/{n}/Kominfo/{year}", 123, 2021) == "800/123/Kominfo/2021"
    assert services.check_number_format(" {n}/BIMTEK ") == "{n}/BIMTEK"
    for wrong in ["800/Kominfo", "{n}/{name}", "{n", "{0}/{n}", "{n.real}"]:
        with pytest.raises(services.CertificateError):
            services.check_number_format(wrong)


def test_the_reminder_channels_announce_the_certificates(app, session, client, login, world):
    _issue(session, world["program"])
    for registration in (world["rina"], world["sari"]):
        links.issue(registration, app.config["SECRET_KEY"])
    session.commit()
    login(world["organiser"])
    assert client.post(f"/admin/programs/{world['program'].id}/sertifikat/announce").status_code == 302
    deliveries = session.scalars(select(Delivery).order_by(Delivery.registration_id, Delivery.channel)).all()
    assert {(d.registration_id, d.kind, d.channel) for d in deliveries} == {
        (world["rina"].id, Kind.CERTIFICATE, "email"),
        (world["rina"].id, Kind.CERTIFICATE, "whatsapp"),
        (world["sari"].id, Kind.CERTIFICATE, "email"),
        (world["sari"].id, Kind.CERTIFICATE, "whatsapp"),
    }


def test_with_the_evaluation_required_only_evaluated_stages_count_on_the_records(session, world):
    program, rina, sari = world["program"], world["rina"], world["sari"]
    settings = services.settings_for(session, program)
    settings.require_evaluation = True
    stages = program.stages
    for registration, evaluated in [(rina, stages[:3]), (sari, stages[:2])]:
        for stage in evaluated:
            session.add(EvaluationResponse(registration_id=registration.id, stage_id=stage.id))
    session.flush()
    standing = {c.registration_id: c.standing for c in services.standings(session, program, now=AFTER_ALL)}
    assert (standing[rina.id].eligible, len(standing[rina.id].stage_ids)) == (True, 3)
    assert (standing[sari.id].eligible, len(standing[sari.id].stage_ids)) == (False, 2)  # present at 4


def test_before_any_stage_ended_the_page_says_so_and_offers_no_run(session, client, login, world, set_now):
    login(world["organiser"])
    set_now(datetime(2021, 6, 24, 5, 0, tzinfo=UTC))  # Tahap I running: no stage ended

    page = client.get(f"/admin/programs/{world['program'].id}/sertifikat").get_data(as_text=True)

    assert "Belum ada tahap yang selesai." in page
    assert "0 peserta berhak" not in page
    assert 'data-testid="generate" disabled>' in page
    set_now(AFTER_ALL)
    page = client.get(f"/admin/programs/{world['program'].id}/sertifikat").get_data(as_text=True)
    assert 'data-testid="generate" >' in page and "Belum ada tahap yang selesai." not in page
