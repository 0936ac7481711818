from sqlalchemy import func, select

from tests import factories
from workshop.programs.models import OrgKind
from workshop.registration.models import Mode, Person, Registration, Status


def _form(program, **overrides):
    data = {
        "name": "  Hotman   Simanjuntak ",
        "position": "Kepala Desa",
        "organization": "Hutatoruan I, Kec. Tarutung",
        "phone": "0812-6000-1234",
        "email": "Hotman@Contoh.go.id",
    }
    for stage in program.stages:
        data[f"mode_{stage.id}"] = "daring"
    data.update(overrides)
    return data


def _village(session):
    district = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    return factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=district)


def test_valid_registration_is_stored_pending_with_normalised_fields(session, client):
    program = factories.program(session, stages=2)
    village = _village(session)
    session.commit()
    data = _form(program, **{f"mode_{program.stages[0].id}": "luring"})

    response = client.post(f"/daftar/{program.slug}", data=data)

    assert response.status_code == 302
    assert response.location == f"/daftar/{program.slug}/terkirim"
    registration = session.scalar(select(Registration))
    assert registration.status == Status.PENDING
    person = registration.person
    assert (person.name, person.position, person.organization_id, person.phone, person.email) == (
        "Hotman Simanjuntak",
        "Kepala Desa",
        village.id,
        "+6281260001234",
        "hotman@contoh.go.id",
    )
    assert [registration.mode_for(stage) for stage in program.stages] == [Mode.LURING, Mode.DARING]


def test_errors_are_in_indonesian_next_to_each_field_and_the_form_keeps_what_was_typed(session, client):
    program = factories.program(session, stages=1)
    _village(session)
    session.commit()
    data = _form(program, name="", phone="12345", organization="Dinas Entah", email="bukan-email")
    del data[f"mode_{program.stages[0].id}"]

    response = client.post(f"/daftar/{program.slug}", data=data)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<small id="name-error" class="field-error">Wajib diisi.</small>' in page
    assert (
        '<small id="phone-error" class="field-error">Nomor ponsel Indonesia tidak valid (contoh: 0812 3456 7890).</small>'
        in page
    )
    assert '<small id="email-error" class="field-error">Alamat email tidak valid.</small>' in page
    assert "Pilih cara Anda akan hadir." in page
    assert 'value="12345"' in page
    assert 'value="Kepala Desa"' in page
    assert 'value="bukan-email"' in page
    assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_unknown_organisation_is_refused_with_a_clear_message(session, client):
    program = factories.program(session, stages=1)
    _village(session)
    session.commit()

    response = client.post(f"/daftar/{program.slug}", data=_form(program, organization="Desa Tidak Ada"))

    assert response.status_code == 400
    assert "Pilih instansi dari daftar." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Registration)) == 0


def test_the_same_number_cannot_register_twice_for_a_programme(session, client):
    program = factories.program(session, stages=1)
    _village(session)
    session.commit()
    assert client.post(f"/daftar/{program.slug}", data=_form(program)).status_code == 302

    again = client.post(f"/daftar/{program.slug}", data=_form(program, phone="+62 812 6000 1234"))

    assert again.status_code == 400
    assert "Nomor WhatsApp ini sudah terdaftar untuk kegiatan ini." in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Registration)) == 1


def test_closed_registration_refuses_new_sign_ups(session, client):
    program = factories.program(session, stages=1)
    program.registration_open = False
    session.commit()

    assert client.get(f"/daftar/{program.slug}").status_code == 403


def test_english_errors_after_switching_language(session, client):
    program = factories.program(session, stages=1)
    _village(session)
    session.commit()
    client.post("/language/en")

    response = client.post(f"/daftar/{program.slug}", data=_form(program, name=""))

    assert '<small id="name-error" class="field-error">This field is required.</small>' in response.get_data(
        as_text=True
    )


def test_the_messages_of_wtforms_validators_are_indonesian_too(session, client):
    program = factories.program(session, stages=1)
    _village(session)
    session.commit()

    response = client.post(f"/daftar/{program.slug}", data=_form(program, name="", position="x" * 500))

    page = response.get_data(as_text=True)
    assert '<small id="name-error" class="field-error">Wajib diisi.</small>' in page
    assert "Paling banyak 200 karakter." in page


def test_the_language_of_the_form_becomes_the_language_of_the_messages(session, client):
    program = factories.program(session, stages=1)
    _village(session)
    session.commit()
    client.post("/language/en")

    client.post(f"/daftar/{program.slug}", data=_form(program))

    assert session.scalar(select(Person.locale)) == "en"
