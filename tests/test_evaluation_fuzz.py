"""Every evaluation, certificate and verification route and form with what a careless or hostile
client sends (hypothesis, a bounded number of examples, on SQLite and PostgreSQL): ids no row can
have, control bytes and NUL, 300-character strings, numbers too large for any column. Never a
server error: a refused request is a 404, or the form again with its error in Indonesian, and
leaves every table as it was."""

from __future__ import annotations

import io
import string
from datetime import timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select

from tests import factories
from tests.test_certificates import AFTER_ALL, HADIR, TIDAK, _attend, _issue, _rule
from tests.test_live import participant_client
from workshop.auth.models import Role
from workshop.certificates.models import Certificate
from workshop.db import db
from workshop.evaluation import services as evaluation
from workshop.evaluation.models import EvaluationAnswer, ItemKind
from workshop.registration.models import Status
from workshop.text import clean_line, clean_lines

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOT_FOUND = "Halaman tidak ditemukan"

# Ids no row can have, as they arrive in a path: past a BIGINT, zero, negative, not digits at all.
BAD_IDS = [
    str(2**63),
    str(10**30),
    "0",
    "-1",
    "%00",
    "1%00",
    "%01%1F%7F",
    "x" * 300,
    "%C2%B2",
    "1e3",
    "9" * 5000,
]
# What people type, paste or a script sends into a form field.
HOSTILE = [
    "\x00",
    "4\x00",
    "\x01\x1b[31m\x7f",
    "x" * 300,
    "9" * 5000,
    str(2**63),
    str(10**30),
    "-1",
    "0",
    "²",
    "٣",
    " 4 ",
    "<script>alert(1)</script>",
    "{n}\x00{year}",
]
text_values = st.sampled_from(HOSTILE) | st.text(
    alphabet=st.sampled_from(string.printable + "\x00\x01\x1f\x7f\x85\u202eéÜ²٣\u200b"), max_size=300
)


@pytest.fixture
def world(app, session, client, login, set_now):
    """A programme of four stages with its questionnaire and certificate rule; Rina attended three
    stages and holds certificate 1; the organiser is logged in on `client`; at AFTER_ALL the last
    stage's evaluation is open."""
    set_now(AFTER_ALL)
    program = factories.program(session, title="Bimtek Penyusunan Masterplan Smart City")
    questionnaire = evaluation.create_default(
        session, program, actor=None, now=AFTER_ALL - timedelta(days=90)
    )
    rina = factories.registration(session, program, status=Status.APPROVED, name="Rina Siregar")
    _attend(session, rina, [HADIR, HADIR, HADIR, TIDAK])
    _rule(session, program)
    [certificate] = _issue(session, program)
    session.commit()
    login(factories.staff(session, Role.PANITIA))
    return {
        "program": program,
        "questionnaire": questionnaire,
        "stage": program.stages[-1],
        "rina": rina,
        "certificate": certificate,
        "participant": participant_client(app, session, rina),
    }


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (the world is small): a refused request changes none of them."""
    rows = {
        table.name: sorted(map(repr, db.session.execute(table.select())))
        for table in db.metadata.sorted_tables
    }
    db.session.commit()  # end the reading transaction (nothing is pending)
    return rows


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- Ids in the path and the query string ---------------------------------------------------------


def _id_routes(world) -> list[tuple[str, str, object]]:
    """(method, path with {} for the id, the client) for every route that takes an id."""
    program, organiser, participant = world["program"], world["organiser"], world["participant"]
    slug = program.slug
    routes = [
        ("GET", "/admin/programs/{}/evaluasi"),
        ("POST", "/admin/programs/{}/evaluasi/default"),
        ("POST", "/admin/programs/{}/evaluasi/items"),
        ("GET", "/admin/evaluasi/items/{}"),
        ("POST", "/admin/evaluasi/items/{}"),
        ("POST", "/admin/evaluasi/items/{}/hapus"),
        ("POST", "/admin/programs/{}/evaluasi/tenggat"),
        ("GET", "/admin/programs/{}/evaluasi/hasil"),
        ("GET", "/admin/programs/{}/evaluasi/hasil.xlsx"),
        ("GET", "/admin/programs/{}/evaluasi/hasil.csv"),
        ("GET", "/admin/programs/{}/sertifikat"),
        ("POST", "/admin/programs/{}/sertifikat/settings"),
        ("POST", "/admin/programs/{}/sertifikat/logo/unggah"),
        ("GET", "/admin/programs/{}/sertifikat/logo"),
        ("POST", "/admin/programs/{}/sertifikat/generate"),
        ("GET", "/admin/programs/{}/sertifikat/progress"),
        ("GET", "/admin/programs/{}/sertifikat.zip"),
        ("POST", "/admin/programs/{}/sertifikat/announce"),
        ("GET", "/admin/sertifikat/{}.pdf"),
        ("POST", "/admin/sertifikat/{}/revoke"),
    ]
    return [(method, path, organiser) for method, path in routes] + [
        ("GET", f"/saya/{slug}/evaluasi/{{}}", participant),
        ("POST", f"/saya/{slug}/evaluasi/{{}}", participant),
    ]


@pytest.fixture
def organiser_world(world, client):
    return world | {"organiser": client}


@EXAMPLES
@given(
    route_id=st.sampled_from(BAD_IDS) | st.integers(min_value=-(2**80), max_value=2**80).map(str),
    route=st.integers(min_value=0, max_value=21),
)
@example(route_id=str(2**63), route=0)
def test_an_id_no_row_has_is_a_translated_404_and_changes_nothing(organiser_world, route_id, route):
    method, path, client = _id_routes(organiser_world)[route]
    if route_id.isdigit() and len(route_id) < 5:
        route_id = str(2**63 - 1)  # a real id could answer 200: the largest id names no row
    before = snapshot()

    response = client.open(path.format(route_id), method=method, data={"reason": "x", "prompt": "x"})

    assert response.status_code == 404, (path, route_id, response.status_code)
    assert NOT_FOUND in _text(response)
    assert snapshot() == before


@EXAMPLES
@given(tahap=text_values)
def test_any_stage_filter_on_the_results_is_all_stages_one_stage_or_a_404(organiser_world, client, tahap):
    program = organiser_world["program"]
    for suffix in ("", ".xlsx", ".csv"):
        response = client.get(
            f"/admin/programs/{program.id}/evaluasi/hasil{suffix}", query_string={"tahap": tahap}
        )
        assert response.status_code in (200, 404), (tahap, response.status_code)


# --- The participant's evaluation form ------------------------------------------------------------


def _answers_of(world) -> list[tuple]:
    return sorted(
        (answer.item_id, answer.rating, answer.text)
        for answer in db.session.scalars(select(EvaluationAnswer))
    )


@EXAMPLES
@given(data=st.data())
@example(data=None)
def test_any_evaluation_answer_is_saved_clean_or_refused_with_the_reasons(world, data):
    questionnaire, participant = world["questionnaire"], world["participant"]
    url = f"/saya/{world['program'].slug}/evaluasi/{world['stage'].id}"
    fields = {}
    for item in questionnaire.items:
        valid = st.sampled_from(item.options) if item.kind == ItemKind.CHOICE else st.sampled_from("12345")
        value = "²" if data is None else data.draw(valid | text_values, label=f"item_{item.id}")
        fields[f"item_{item.id}"] = value
    before = snapshot()

    response = participant.post(url, data=fields)

    assert response.status_code in (200, 302), _text(response)[:500]
    if response.status_code == 200:
        assert "Beberapa jawaban perlu diperbaiki" in _text(response)
        assert snapshot() == before
        return
    for item_id, rating, text in _answers_of(world):
        [item] = [item for item in questionnaire.items if item.id == item_id]
        sent = fields[f"item_{item_id}"]
        if item.kind == ItemKind.SCALE:
            assert (rating, text) == (int(sent), "")
        elif item.kind == ItemKind.CHOICE:
            assert (rating, text) == (None, sent.strip()) and text in item.options
        else:  # free text arrives without control characters (workshop/forms.py)
            assert (rating, text) == (None, clean_lines(sent).strip())


# --- The organiser's questionnaire ----------------------------------------------------------------


@EXAMPLES
@given(
    kind=st.sampled_from(["scale", "choice", "text"]) | text_values,
    prompt=text_values,
    options=text_values | st.lists(text_values, max_size=12).map("\n".join),
    required=st.sampled_from(["y", "", "\x00"]) | text_values,
)
def test_any_question_is_added_or_refused_with_the_reason(world, client, kind, prompt, options, required):
    program = world["program"]
    before = snapshot()

    response = client.post(
        f"/admin/programs/{program.id}/evaluasi/items",
        data={"kind": kind, "prompt": prompt, "options": options, "required": required},
    )

    assert response.status_code in (200, 302), _text(response)[:500]
    if response.status_code == 200:
        assert 'class="field-error' in _text(response)
        assert snapshot() == before
    else:
        db.session.expire_all()
        added = world["questionnaire"].items[-1]
        assert added.prompt == " ".join(clean_line(prompt).split())
        assert all("\x00" not in option for option in added.options)


@EXAMPLES
@given(prompt=text_values, options=text_values, required=text_values)
def test_any_edit_of_a_question_is_saved_or_refused_with_the_reason(world, client, prompt, options, required):
    item = world["questionnaire"].items[4]  # the multiple choice
    before = snapshot()

    response = client.post(
        f"/admin/evaluasi/items/{item.id}", data={"prompt": prompt, "options": options, "required": required}
    )

    assert response.status_code in (200, 302), _text(response)[:500]
    if response.status_code == 200:
        assert 'class="field-error' in _text(response)
        assert snapshot() == before


@EXAMPLES
@given(days=text_values | st.integers(min_value=-(2**70), max_value=2**70).map(str))
@example(days="7")
def test_any_deadline_is_saved_or_refused_with_the_reason(world, client, days):
    program = world["program"]
    before = snapshot()

    response = client.post(f"/admin/programs/{program.id}/evaluasi/tenggat", data={"deadline_days": days})

    assert response.status_code in (200, 302), _text(response)[:500]
    if response.status_code == 200:
        page = _text(response)
        assert "Dari 0 sampai 90 hari." in page or "Wajib diisi." in page or "bilangan bulat" in page, page
        assert snapshot() == before
    else:
        db.session.expire_all()
        assert world["questionnaire"].deadline_days == int(days.strip())


# --- The certificate settings, logo and revocation ------------------------------------------------


numbers = text_values | st.integers(min_value=-(2**70), max_value=2**70).map(str)


@EXAMPLES
@given(data=st.data())
def test_any_certificate_settings_are_saved_or_refused_with_the_reason(world, client, data):
    program = world["program"]
    form = {
        "min_stages": data.draw(numbers, label="min_stages"),
        "min_jp": data.draw(numbers, label="min_jp"),
        "require_evaluation": data.draw(text_values, label="require_evaluation"),
        "signatory_name": data.draw(text_values, label="signatory_name"),
        "signatory_nip": data.draw(text_values, label="signatory_nip"),
        "signatory_title": data.draw(text_values, label="signatory_title"),
        "place": data.draw(text_values, label="place"),
        "signed_on": data.draw(text_values | st.sampled_from(["2021-09-01", "9999-12-31", "0001-01-01"])),
        "number_format": data.draw(text_values | st.sampled_from(["800/{n}/Kominfo/{year}", "{n}"])),
    } | {f"jp_{stage.id}": data.draw(numbers, label=f"jp_{stage.id}") for stage in program.stages}
    before = snapshot()

    response = client.post(f"/admin/programs/{program.id}/sertifikat/settings", data=form)

    assert response.status_code in (302, 400), _text(response)[:500]
    if response.status_code == 400:
        page = _text(response)
        assert 'class="field-error' in page or 'class="alert alert-danger' in page, page
        assert snapshot() == before


def _image(kind: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


@EXAMPLES
@given(
    content=st.binary(max_size=300) | st.sampled_from([b"", b"\x89PNG\r\n\x1a\n\x00", _image("PNG", (1, 1))]),
    filename=text_values | st.just("logo.png"),
)
def test_any_logo_upload_is_saved_or_refused_with_the_reason(world, client, content, filename):
    program = world["program"]
    before = snapshot()

    response = client.post(
        f"/admin/programs/{program.id}/sertifikat/logo/unggah",
        data={"logo": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )

    assert response.status_code == 303, _text(response)[:500]
    page = _text(client.get(response.location))
    if "Logo disimpan." not in page:
        assert "Logo harus" in page or "Pilih berkas yang akan diunggah." in page, page
        assert snapshot() == before


@EXAMPLES
@given(reason=text_values)
@example(reason="\x00\x01")
def test_any_revocation_reason_revokes_with_it_cleaned_or_is_refused(world, client, reason):
    certificate = world["certificate"]
    before = snapshot()

    response = client.post(f"/admin/sertifikat/{certificate.id}/revoke", data={"reason": reason})

    assert response.status_code == 302
    db.session.expire_all()
    page = _text(client.get(response.location))
    if certificate.revoked_at is None:
        assert "Isi alasan pencabutan." in page or "Alasan terlalu panjang." in page, page
        assert snapshot() == before
    else:
        assert certificate.revoked_reason == clean_lines(reason).strip()
        certificate.revoked_at, certificate.revoked_reason = None, ""  # for the next example
        db.session.commit()


@EXAMPLES
@given(junk=st.dictionaries(text_values, text_values, max_size=3))
def test_the_bulk_run_its_progress_and_the_zip_whatever_is_posted(world, client, junk):
    program = world["program"]
    assert client.post(f"/admin/programs/{program.id}/sertifikat/generate", data=junk).status_code == 302
    assert client.get(f"/admin/programs/{program.id}/sertifikat/progress").get_json() == {
        "status": "done",
        "done": 1,
        "total": 1,
        "issued": 0,
    }
    archive = client.get(f"/admin/programs/{program.id}/sertifikat.zip")
    assert archive.status_code == 200 and archive.data[:2] == b"PK"
    assert db.session.scalar(select(db.func.count()).select_from(Certificate)) == 1


# --- The public verification page and the participant's own PDF -----------------------------------


@EXAMPLES
@given(code=text_values)
@example(code="\x00")
@example(code="x" * 300)
def test_any_verification_code_is_a_translated_page(world, code):
    # (A "/" in the code makes "//", which Werkzeug redirects to the path with one slash.)
    response = world["participant"].get(f"/verifikasi/{quote(code, safe='')}", follow_redirects=True)
    page = _text(response)
    if code == world["certificate"].code:
        assert response.status_code == 200
    else:
        assert response.status_code == 404, (code, response.status_code)
        assert "Sertifikat tidak ditemukan" in page or NOT_FOUND in page


@EXAMPLES
@given(slug=text_values.filter(bool))  # an empty one is "//", which Werkzeug redirects to "/"
@example(slug="\x00")
@example(slug="/")
def test_any_programme_in_the_participants_own_paths_is_a_translated_404(world, slug):
    participant, stage = world["participant"], world["stage"]
    before = snapshot()
    for method, path in [
        ("GET", f"/saya/{quote(slug, safe='')}/sertifikat.pdf"),
        ("GET", f"/saya/{quote(slug, safe='')}/evaluasi/{stage.id}"),
        ("POST", f"/saya/{quote(slug, safe='')}/evaluasi/{stage.id}"),
    ]:
        # (A "/" in the slug makes "//", which Werkzeug redirects, keeping the method, to one slash.)
        response = participant.open(path, method=method, data={}, follow_redirects=True)
        assert response.status_code == 404, (path, response.status_code)
        assert NOT_FOUND in _text(response)
    assert snapshot() == before
