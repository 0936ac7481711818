"""The laporan's routes and forms with what hypothesis makes of them (a bounded number of examples,
on SQLite and PostgreSQL): ids that name no row (0, -1, beyond any integer column, not digits),
control bytes, very long texts, any bytes as a photo. Never a 5xx; a refused photo stores nothing,
a saved text is stored cleaned."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import test_laporan
from tests.laporan_world import png
from workshop.laporan.models import ReportPhoto, ReportText
from workshop.text import clean_lines

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
odd_ids = st.sampled_from(
    ["0", "-1", "2147483647", "2147483648", str(2**63), str(10**20), "1e3", "abc", "%00", "١٢"]
)
typed = st.text(alphabet=st.sampled_from("abc XYZ\x00\x01\x1b\x7f\t\r\n\u200béÜ<>&\"'%_\\"), max_size=60)
world = test_laporan.world  # the laporan tests' programme, logged in as its organiser
long_text = st.sampled_from(["", "x" * 10_000, "x" * 10_001, "\x00" * 50_000, "Dasar\r\n" * 1500])


@EXAMPLES
@given(program_id=odd_ids, stage_id=odd_ids, photo_id=odd_ids, tahap=typed | odd_ids)
@example(program_id="0", stage_id="-1", photo_id=str(10**20), tahap="\x00")
def test_odd_ids_are_not_found_never_a_server_error(client, world, program_id, stage_id, photo_id, tahap):
    program = world["program"]
    for method, url in [
        ("GET", f"/admin/programs/{program_id}/laporan"),
        ("GET", f"/admin/programs/{program_id}/laporan.docx"),
        ("GET", f"/admin/programs/{program.id}/laporan.pdf?tahap={tahap}"),
        ("POST", f"/admin/programs/{program_id}/laporan/texts"),
        ("POST", f"/admin/stages/{stage_id}/laporan/photos"),
        ("GET", f"/admin/laporan/photos/{photo_id}"),
        ("POST", f"/admin/laporan/photos/{photo_id}/delete"),
    ]:
        response = client.open(url, method=method)
        assert response.status_code in (400, 404), (url, response.status_code)


@EXAMPLES
@given(basis=typed | long_text, purpose=typed | long_text, summary=typed, closing=typed)
def test_any_text_is_saved_cleaned_or_refused(client, session, world, basis, purpose, summary, closing):
    program = world["program"]
    form = {"basis": basis, "purpose": purpose, "summary": summary, "closing": closing}
    response = client.post(f"/admin/programs/{program.id}/laporan/texts", data=form)
    assert response.status_code in (200, 302, 413)
    if response.status_code == 302:
        session.expire_all()
        texts = session.get(ReportText, program.id)
        assert (texts.basis, texts.purpose) == (clean_lines(basis), clean_lines(purpose))


@EXAMPLES
@given(
    content=st.binary(max_size=2000)
    | st.sampled_from([png()[:100], png()[:-20], b"\xff\xd8\xff" + b"\x00" * 500]),
    filename=typed,
    caption=typed | long_text,
)
def test_any_file_as_a_photo_is_refused_or_stored_never_a_server_error(
    client, session, world, content, filename, caption
):
    stage = world["program"].stages[0]
    before = session.scalar(select(func.count()).select_from(ReportPhoto))
    response = client.post(
        f"/admin/stages/{stage.id}/laporan/photos",
        data={f"stage{stage.id}-photo": (io.BytesIO(content), filename), f"stage{stage.id}-caption": caption},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 413), response.status_code  # none of these is a whole picture
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReportPhoto)) == before
