import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests import factories
from workshop.auth.models import AuditEntry, Role
from workshop.programs.models import AgendaItem, OrgKind
from workshop.registration import links, services
from workshop.registration.models import Mode, Status


@pytest.fixture
def roster(session, login):
    login(factories.staff(session, Role.PANITIA))
    program = factories.program(session, stages=2)
    tarutung = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    sipoholon = factories.organization(session, kind=OrgKind.KECAMATAN, name="Sipoholon")
    people = {
        "camat": factories.registration(
            session, program, name="Camat Tarutung", org=tarutung, mode=Mode.DARING
        ),
        "kades": factories.registration(
            session,
            program,
            name="Kades Hutatoruan",
            org=factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=tarutung),
            mode=Mode.DARING,
            status=Status.APPROVED,
        ),
        "kades2": factories.registration(
            session,
            program,
            name="Kades Situmeang",
            org=factories.organization(
                session, kind=OrgKind.DESA, name="Situmeang Habinsaran", parent=sipoholon
            ),
            mode=Mode.DARING,
        ),
        "opd": factories.registration(
            session,
            program,
            name="Kadis Kominfo",
            org=factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo"),
        ),
    }
    session.commit()
    return program, people, {"tarutung": tarutung, "sipoholon": sipoholon}


def _listed(client, program, **filters) -> list[str]:
    page = client.get(f"/admin/programs/{program.id}/registrations", query_string=filters).get_data(
        as_text=True
    )
    return re.findall(r'/admin/registrations/\d+">([^<]+)</a>', page)


def test_filters_by_kind_kecamatan_mode_status_and_text(client, roster):
    program, _, districts = roster

    assert _listed(client, program) == [
        "Camat Tarutung",
        "Kades Hutatoruan",
        "Kades Situmeang",
        "Kadis Kominfo",
    ]
    assert _listed(client, program, kind="desa") == ["Kades Hutatoruan", "Kades Situmeang"]
    assert _listed(client, program, kecamatan=districts["tarutung"].id) == [
        "Camat Tarutung",
        "Kades Hutatoruan",
    ]
    assert _listed(client, program, mode="luring") == ["Kadis Kominfo"]
    assert _listed(client, program, status="approved") == ["Kades Hutatoruan"]
    assert _listed(client, program, q="kominfo") == ["Kadis Kominfo"]
    assert _listed(client, program, q="%") == []  # % and _ are letters here, not LIKE wildcards
    assert _listed(client, program, q="Kades_") == []
    assert _listed(client, program, kind="desa", kecamatan=districts["sipoholon"].id) == ["Kades Situmeang"]
    assert _listed(client, program, status="nonsense") == _listed(client, program)


def test_bulk_reject_then_cancel_changes_exactly_the_ticked_rows(session, client, roster):
    program, people, _ = roster

    response = client.post(
        f"/admin/programs/{program.id}/registrations/status",
        data={"action": "reject", "ids": [people["camat"].id, people["opd"].id]},
    )

    assert response.status_code == 302
    session.expire_all()
    assert {name: reg.status for name, reg in people.items()} == {
        "camat": Status.REJECTED,
        "kades": Status.APPROVED,
        "kades2": Status.PENDING,
        "opd": Status.REJECTED,
    }
    assert (
        len(session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.status")).all()) == 2
    )


def test_ids_of_another_programme_are_refused_whole(session, client, roster):
    program, people, _ = roster
    other = factories.registration(session, factories.program(session, stages=1))
    session.commit()

    response = client.post(
        f"/admin/programs/{program.id}/registrations/status",
        data={"action": "approve", "ids": [people["camat"].id, other.id]},
    )

    assert response.status_code == 404
    session.expire_all()
    assert (people["camat"].status, other.status) == (Status.PENDING, Status.PENDING)


def test_organiser_copies_regenerates_and_revokes_a_personal_link(app, session, client, roster):
    _, people, _ = roster
    registration = people["kades"]
    registration.link_nonce = None
    links.issue(registration, app.config["SECRET_KEY"])
    session.commit()
    first = links.token_for(registration, app.config["SECRET_KEY"])

    page = client.get(f"/admin/registrations/{registration.id}").get_data(as_text=True)
    client.post(f"/admin/registrations/{registration.id}/link", data={"action": "regenerate"})
    session.refresh(registration)
    second = links.token_for(registration, app.config["SECRET_KEY"])
    client.post(f"/admin/registrations/{registration.id}/link", data={"action": "revoke"})
    session.refresh(registration)

    assert f'value="http://bimtek.test/p/{first}"' in page
    assert second != first
    assert registration.link_token_hash is None
    assert links.token_for(registration, app.config["SECRET_KEY"]) is None
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("link.%"))).all() == [
        "link.regenerate",
        "link.revoke",
    ]


def test_the_list_shows_the_registration_date_and_sorts_by_it_both_ways(session, client, roster):
    program, people, _ = roster
    for day, key in enumerate(["kades2", "opd", "camat", "kades"], start=1):
        people[key].created_at = datetime(2021, 6, day, 1, 30, tzinfo=UTC)  # 08.30 WIB
    session.commit()
    url = f"/admin/programs/{program.id}/registrations"

    oldest_first = client.get(url, query_string={"kind": "desa"}).get_data(as_text=True)
    newest_first = client.get(url, query_string={"kind": "desa", "order": "newest"}).get_data(as_text=True)

    assert _listed(client, program) == [
        "Kades Situmeang",
        "Kadis Kominfo",
        "Camat Tarutung",
        "Kades Hutatoruan",
    ]
    assert _listed(client, program, order="newest") == [
        "Kades Hutatoruan",
        "Camat Tarutung",
        "Kadis Kominfo",
        "Kades Situmeang",
    ]
    assert "<small>Selasa, 1 Juni 2021, pukul 08.30 WIB</small>" in oldest_first
    assert "<small>Jumat, 4 Juni 2021, pukul 08.30 WIB</small>" in oldest_first
    sort_link = re.compile(r'href="([^"]+)" data-testid="sort-by-date">Tanggal daftar (.)</a>')
    assert sort_link.search(oldest_first).groups() == (f"{url}?kind=desa&amp;order=newest&amp;page=1", "↑")
    assert sort_link.search(newest_first).groups() == (f"{url}?kind=desa&amp;order=oldest&amp;page=1", "↓")


def test_the_mode_column_speaks_the_pages_language(session, client, roster):
    program, people, _ = roster
    url = f"/admin/programs/{program.id}/registrations"
    opd_row = re.compile(rf'data-testid="registration-{people["opd"].id}">.*?</tr>', re.S)

    indonesian = opd_row.search(client.get(url).get_data(as_text=True)).group(0)
    client.post("/language/en")
    english = opd_row.search(client.get(url).get_data(as_text=True)).group(0)

    assert re.findall(r'title="Tahap (?:I|II)">([^<]+)</span>', indonesian) == ["I: luring", "II: luring"]
    assert re.findall(r'title="Stage (?:I|II)">([^<]+)</span>', english) == ["I: in person", "II: in person"]
    assert "<th>Mode per stage</th>" in client.get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (Status.PENDING, ["approve", "waitlist", "reject"]),
        (Status.WAITLISTED, ["approve", "reject", "cancel"]),
        (Status.APPROVED, ["cancel", "send-link", "regenerate-link", "revoke-link"]),
        (Status.REJECTED, ["approve", "waitlist"]),
        (Status.CANCELLED, ["approve", "waitlist"]),
    ],
)
def test_the_detail_page_offers_only_the_actions_of_the_current_status(
    app, session, client, roster, status, actions
):
    program, _, _ = roster
    registration = factories.registration(session, program, status=status, name="Rosmawati Sihombing")
    if status == Status.APPROVED:
        links.issue(registration, app.config["SECRET_KEY"])
    session.commit()

    page = client.get(f"/admin/registrations/{registration.id}").get_data(as_text=True)

    offered = re.findall(
        r'data-testid="(approve|waitlist|reject|cancel|send-link|regenerate-link|revoke-link)"', page
    )
    assert offered == actions


def test_actions_that_cannot_simply_be_undone_ask_first_with_the_consequence(app, session, client, roster):
    program, people, _ = roster
    registration = people["kades"]
    links.issue(registration, app.config["SECRET_KEY"])
    session.commit()

    page = client.get(f"/admin/registrations/{registration.id}").get_data(as_text=True)
    review = client.get(f"/admin/programs/{program.id}/registrations").get_data(as_text=True)

    def question(html, testid):
        button = re.search(rf'<button [^>]*data-testid="{testid}"[^>]*>', html, re.S).group(0)
        return re.search(
            r'data-confirm="([^"]+)" data-confirm-ok="([^"]+)" data-confirm-cancel="Kembali"', button
        ).groups()

    assert question(page, "cancel") == (
        "Batalkan pendaftaran Kades Hutatoruan? Tautan pribadinya langsung tidak berlaku dan tempat lurinya "
        "diberikan kepada urutan pertama daftar tunggu.",
        "Batalkan pendaftaran",
    )
    assert question(page, "revoke-link") == (
        "Cabut tautan pribadi Kades Hutatoruan? Tautan langsung tidak berlaku dan yang bersangkutan keluar dari "
        "semua perangkat. Tautan baru dapat dibuat kemudian.",
        "Cabut tautan",
    )
    assert question(review, "bulk-reject") == (
        "Tolak {n} pendaftaran yang dipilih? Mereka tidak mendapat tempat dan tidak mendapat tautan pribadi.",
        "Tolak",
    )
    assert 'data-testid="send-link"' in page and "data-confirm" not in re.search(
        r'<button [^>]*data-testid="send-link"[^>]*>', page
    ).group(0)


def test_a_question_with_quotes_in_the_text_or_the_name_stays_whole_in_its_attribute(session, client, roster):
    program, _, _ = roster
    registration = factories.registration(session, program, name='Ani "Butet" <b>Siregar</b> & Co')
    stage = program.stages[0]
    session.add(AgendaItem(stage=stage, starts_at=stage.starts_at, title='Sesi "Rencana Induk"'))
    session.commit()

    detail = client.get(f"/admin/registrations/{registration.id}").get_data(as_text=True)
    programme = client.get(f"/admin/programs/{program.id}").get_data(as_text=True)

    assert (
        'data-confirm="Tolak pendaftaran Ani &#34;Butet&#34; &lt;b&gt;Siregar&lt;/b&gt; &amp; Co? '
        'Yang bersangkutan tidak mendapat tempat dan tidak mendapat tautan pribadi." data-confirm-ok="Tolak"'
    ) in detail
    assert 'data-confirm="Hapus &#34;Sesi &#34;Rencana Induk&#34;&#34; dari agenda Tahap I?' in programme


def test_the_notices_on_a_participants_page_are_named_in_words(app, session, client, roster):
    program, people, _ = roster
    services.change_status(
        session, people["camat"], Status.WAITLISTED, actor=None, secret_key=app.config["SECRET_KEY"]
    )
    services.promote_waitlist(session, program, actor=None, secret_key=app.config["SECRET_KEY"])
    session.commit()

    page = client.get(f"/admin/registrations/{people['camat'].id}").get_data(as_text=True)

    notices = re.search(r'data-testid="notices">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r"WIB: ([^<]+)</li>", notices) == ["Naik dari daftar tunggu"]
