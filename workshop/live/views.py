"""Pages and HTTP endpoints of live Q&A and polls: the participant's live page, the facilitator's
control panel and projector view, the state snapshot, the HTTP fallbacks of the socket actions,
poll drafts and their lifecycle, and the results exports."""

from __future__ import annotations

from datetime import UTC
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2

from workshop import audit, clock, i18n, signals, web
from workshop.auth.permissions import (
    live_staff_required,
    organiser_required,
    participant_required,
    staff_required,
)
from workshop.db import db, reads_first, sqlite_write_intent
from workshop.groups import queries as group_queries
from workshop.groups import services as group_services
from workshop.ids import id_from_text
from workshop.live import actions, carry, exports, handcount, services, texts, votes
from workshop.live.blueprint import bp
from workshop.live.broadcast import broadcaster
from workshop.live.forms import PollForm, SettingsForm
from workshop.live.models import Poll, PollStatus
from workshop.live.results import poll_results
from workshop.live.snapshot import iso, stage_state
from workshop.live.votes import LiveError
from workshop.programs.dimensions import DIMENSION_LABELS
from workshop.programs.models import Stage
from workshop.programs.schedule import Phase, stage_phase
from workshop.programs.windows import stage_window
from workshop.realtime import answers_server_error, participant_registration_id
from workshop.registration.models import Registration
from workshop.reminders import jobs
from workshop.tickets.qr import link_svg_markup

ID_PLACEHOLDER = 999999999
POLL_ACTIONS = {
    "open": services.open_poll,
    "close": services.close_poll,
    "reopen": services.reopen_poll,
}


def _groups(stage: Stage, registration_id: int | None) -> dict:
    """The stage's groups (id -> name) for the group filter and labels, and the participant's own."""
    groups = group_services.groups_of(db.session, stage.id)
    own = group_queries.own_group(db.session, stage.id, registration_id) if registration_id else None
    return {
        "groups": {str(group.id): str(DIMENSION_LABELS[group.dimension]) for group in groups},
        "group_id": own.id if own else None,
    }


def _config(stage: Stage, role: str, registration_id: int | None = None) -> dict:
    def template(endpoint: str, **values) -> str:
        """A URL with "{id}" (and "{action}") for the page to fill in."""
        url = url_for(endpoint, **values)
        return url.replace(str(ID_PLACEHOLDER), "{id}").replace("/open", "/{action}")

    urls = {
        "ask": url_for("live.ask", stage_id=stage.id),
        "upvote": template("live.upvote", stage_id=stage.id, question_id=ID_PLACEHOLDER),
        "vote": template("live.vote", stage_id=stage.id, poll_id=ID_PLACEHOLDER),
    }
    if role == "staff":
        urls |= {
            "moderate": template("live.moderate", stage_id=stage.id, question_id=ID_PLACEHOLDER),
            "hall_count": template("live.hall_count", stage_id=stage.id, poll_id=ID_PLACEHOLDER),
            "poll_action": template(
                "live.poll_action", stage_id=stage.id, poll_id=ID_PLACEHOLDER, action="open"
            ),
        }
    if role == "staff" and current_user.is_organiser:  # voters' names and agencies: organisers only
        urls |= {
            "export_csv": template("live.results_csv", poll_id=ID_PLACEHOLDER),
            "export_xlsx": template("live.results_xlsx", poll_id=ID_PLACEHOLDER),
            "export_hall": template("live.hall_csv", poll_id=ID_PLACEHOLDER),
        }
    now = clock.now()
    phase = stage_phase(stage, now)
    return {
        "stage_id": stage.id,
        "state_url": url_for("live.state", stage_id=stage.id),
        "socket_src": url_for("static", filename="vendor/socket.io/socket.io.min.js"),
        "role": role,
        "csrf": generate_csrf(),
        "locale": str(get_locale() or "id"),
        "urls": urls,
        "text": texts.ui_texts(role),
        "has_next_stage": role == "staff" and services.following_stage(db.session, stage) is not None,
        # "Live" is said only while the stage runs; once it has ended it takes no question and no
        # upvote: the page offers none.
        "phase": phase.value,
        "ended": phase == Phase.ENDED,
        # The page follows the phase while open: it moves at these instants of the server's clock.
        "server_time": iso(now),
        "starts_at": iso(stage.starts_at),
        "ends_at": iso(stage.ends_at),
        # Between two of its days a running stage says when it resumes: each day's window, and what
        # the page says before it.
        **_days(stage),
        # What the server accepts, so that the page's fields say so before sending.
        "limits": {
            "words": votes.MAX_WORDS,
            "word_length": votes.MAX_WORD_LENGTH,
            "text_length": votes.MAX_TEXT_LENGTH,
            "question_length": services.MAX_QUESTION_LENGTH,
            "hall_count": handcount.MAX_HALL_COUNT,
        },
    } | _groups(stage, registration_id)


def _days(stage: Stage) -> dict:
    """The stage's daily windows ([start, end] per day) and, per day, 'Berlanjut <its start>' (never
    said before the first)."""
    days = stage_window(stage).days()
    locale, zone = str(get_locale() or "id"), stage.program.timezone
    return {
        "days": [[iso(start.astimezone(UTC)), iso(end.astimezone(UTC))] for start, end in days],
        "resumes": [""]
        + [
            _("Resumes %(moment)s", moment=i18n.format_datetime_long(start, zone, locale))
            for start, _end in days[1:]
        ],
    }


def _carry_into(stage: Stage) -> None:
    """The first page of a stage read after the previous one ended carries that stage's open
    questions here, if the scheduler has not yet (exactly once: see live/carry.py)."""
    previous = services.previous_stage(db.session, stage)
    now = clock.now()
    if previous is None or not carry.due(db.session, previous, now):
        return
    db.session.rollback()
    sqlite_write_intent.set(True)
    try:
        carried = carry.carry(db.session, previous, now=now, base_url=request.host_url)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another process carried them
        return
    if carried is not None:
        broadcaster(current_app).stage_changed(stage.id)


def _participant_registration_or_403(stage: Stage) -> Registration:
    """The current user's approved registration for the stage's programme; 403 for anyone else."""
    registration_id = participant_registration_id(current_user, stage.program_id)
    if registration_id is None:
        abort(403)
    return db.session.get_one(Registration, registration_id)


# Pages


@bp.route("/<int:stage_id>")
@participant_required
def participant(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    registration = _participant_registration_or_403(stage)
    _carry_into(stage)
    return render_template(
        "live/participant.html",
        stage=stage,
        program=stage.program,
        registration=registration,
        config=_config(stage, "participant", registration.id),
    )


@bp.route("/<int:stage_id>/control")
@live_staff_required
def control(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    _carry_into(stage)
    live = services.live_settings(db.session, stage.id)
    settings_form = SettingsForm(
        questions_moderated=live.questions_moderated, anonymous_allowed=live.anonymous_allowed
    )
    polls = db.session.scalars(db.select(Poll).where(Poll.stage_id == stage.id).order_by(Poll.position)).all()
    return render_template(
        "live/control.html",
        now=clock.now(),
        stage=stage,
        program=stage.program,
        polls=polls,
        live_stage=live,
        settings_form=settings_form,
        config=_config(stage, "staff"),
    )


@bp.route("/<int:stage_id>/projector")
@live_staff_required
def projector(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    _carry_into(stage)
    join_url = url_for("live.participant", stage_id=stage.id, _external=True)
    return render_template(
        "live/projector.html",
        stage=stage,
        program=stage.program,
        join_address=_without_scheme(join_url),
        join_qr_svg=link_svg_markup(join_url),
        config=_config(stage, "staff"),
    )


def _without_scheme(url: str) -> str:
    """'bimtek.example.go.id/live/3': what people type, short enough for one line on the projector."""
    parts = urlsplit(url)
    return parts.netloc + parts.path


@bp.route("/<int:stage_id>/state")
@login_required
def state(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    if current_user.is_live_moderator:
        snapshot = stage_state(db.session, stage, clock.now(), staff=True)
    elif current_user.is_staff:
        abort(403)
    else:
        registration = _participant_registration_or_403(stage)
        group = group_queries.own_group(db.session, stage.id, registration.id)
        snapshot = stage_state(
            db.session,
            stage,
            clock.now(),
            staff=False,
            registration=registration,
            group_id=group.id if group else None,
        )
    response = jsonify(snapshot)
    response.headers["Cache-Control"] = "no-store"
    return response


# HTTP fallbacks of the socket actions: same payload, same reply, the same answer when they fail


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _reply(result: tuple[dict, int]):
    reply, status = result
    return jsonify(reply), status


@bp.route("/<int:stage_id>/questions", methods=["POST"])
@answers_server_error
@participant_required
def ask(stage_id: int):
    return _reply(actions.ask(current_user, stage_id, _body()))


@bp.route("/<int:stage_id>/questions/<int:question_id>/upvote", methods=["POST"])
@answers_server_error
@participant_required
def upvote(stage_id: int, question_id: int):
    return _reply(actions.upvote(current_user, stage_id, _body() | {"question_id": question_id}))


@bp.route("/<int:stage_id>/polls/<int:poll_id>/vote", methods=["POST"])
@answers_server_error
@reads_first
@participant_required
def vote(stage_id: int, poll_id: int):
    return _reply(actions.vote(current_user, stage_id, _body() | {"poll_id": poll_id}))


@bp.route("/<int:stage_id>/questions/<int:question_id>/moderate", methods=["POST"])
@answers_server_error
@live_staff_required
def moderate(stage_id: int, question_id: int):
    return _reply(actions.moderate(current_user, stage_id, _body() | {"question_id": question_id}))


@bp.route("/<int:stage_id>/polls/<int:poll_id>/hall-count", methods=["POST"])
@answers_server_error
@staff_required
def hall_count(stage_id: int, poll_id: int):
    return _reply(actions.hall_count(current_user, stage_id, _body() | {"poll_id": poll_id}))


@bp.route("/<int:stage_id>/hall", methods=["GET", "POST"])
@staff_required
def hall_count_page(stage_id: int):
    """The hand count from a phone in the hall, without a script: the petugas (or the facilitator)
    types the hands per option of the poll shown and sends; the page comes back with the result."""
    stage = db.get_or_404(Stage, stage_id)
    if request.method == "POST":
        counts = {
            key.removeprefix("option-"): _number(value)
            for key, value in request.form.items()
            if key.startswith("option-")
        }
        poll_id = id_from_text(request.form.get("poll_id"))
        reply, _status = actions.hall_count(current_user, stage.id, {"poll_id": poll_id, "counts": counts})
        if reply["ok"]:
            flash(reply["warning"] or _("Hall count saved."), "warning" if reply["warning"] else "success")
        else:
            flash(reply["message"], "error")
        return redirect(url_for("live.hall_count_page", stage_id=stage.id))
    now = clock.now()
    poll = handcount.shown_poll(db.session, stage.id)
    return render_template(
        "live/hall_count.html",
        stage=stage,
        program=stage.program,
        poll=poll,
        open=poll is not None and poll.is_open(now),
        results=poll_results(db.session, poll, stage, now) if poll else None,
        limit=handcount.MAX_HALL_COUNT,
    )


def _number(text: str) -> int | str:
    """A whole number as typed ("23"), else the text as it is, for the service to refuse."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


# Facilitator: settings and polls


@bp.route("/<int:stage_id>/settings", methods=["POST"])
@live_staff_required
def settings(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    form = SettingsForm()
    if form.validate_on_submit():
        services.update_settings(
            db.session,
            stage,
            questions_moderated=form.questions_moderated.data,
            anonymous_allowed=form.anonymous_allowed.data,
            actor=current_user,
        )
        db.session.commit()
        broadcaster(current_app).stage_changed(stage.id)
        flash(_("Settings saved."), "success")
    return redirect(url_for("live.control", stage_id=stage.id))


def _poll_form(stage: Stage) -> PollForm:
    form = PollForm()
    form.group_id.choices = [SelectChoice("", _("Everyone in the stage (plenary)"))] + [
        SelectChoice(str(group.id), DIMENSION_LABELS[group.dimension])
        for group in group_services.groups_of(db.session, stage.id)
    ]
    return form


@bp.route("/<int:stage_id>/polls/new", methods=["GET", "POST"])
@live_staff_required
def new_poll(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    form = _poll_form(stage)
    if form.validate_on_submit():
        services.create_poll(db.session, stage, form.draft(), actor=current_user)
        db.session.commit()
        flash(_("The poll is saved as a draft."), "success")
        return redirect(url_for("live.control", stage_id=stage.id))
    return render_template("live/poll_form.html", stage=stage, program=stage.program, form=form, poll=None)


@bp.route("/polls/<int:poll_id>/edit", methods=["GET", "POST"])
@live_staff_required
def edit_poll(poll_id: int):
    poll = db.get_or_404(Poll, poll_id)
    stage = db.session.get_one(Stage, poll.stage_id)
    if poll.status != PollStatus.DRAFT:
        flash(str(actions.ERROR_MESSAGES["not_draft"]), "error")
        return redirect(url_for("live.control", stage_id=stage.id))
    form = _poll_form(stage)
    if request.method == "GET":
        form.fill_from(poll)
    if form.validate_on_submit():
        services.update_poll(db.session, poll, form.draft(), actor=current_user)
        db.session.commit()
        flash(_("The poll is saved as a draft."), "success")
        return redirect(url_for("live.control", stage_id=stage.id))
    return render_template("live/poll_form.html", stage=stage, program=stage.program, form=form, poll=poll)


@bp.route("/<int:stage_id>/polls/<int:poll_id>/delete", methods=["POST"])
@live_staff_required
def delete_poll(stage_id: int, poll_id: int):
    stage = db.get_or_404(Stage, stage_id)
    poll = actions.poll_of(stage, poll_id) or abort(404)
    try:
        services.delete_poll(db.session, poll, actor=current_user)
        db.session.commit()
        flash(_("The draft is deleted."), "success")
    except LiveError as error:
        db.session.rollback()
        flash(str(actions.ERROR_MESSAGES[error.code]), "error")
    return redirect(url_for("live.control", stage_id=stage.id))


@bp.route("/<int:stage_id>/polls/<int:poll_id>/<any(open, close, reopen):action>", methods=["POST"])
@live_staff_required
def poll_action(stage_id: int, poll_id: int, action: str):
    """Open, close or reopen; a form post returns to the control panel, a JSON post gets JSON."""
    stage = db.get_or_404(Stage, stage_id)
    poll = actions.poll_of(stage, poll_id) or abort(404)
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    try:
        now = clock.now()
        POLL_ACTIONS[action](db.session, poll, actor=current_user, now=now)
        queued = action == "open" and any(
            count
            for _receiver, count in signals.poll_opened.send(app, session=db.session, poll=poll, now=now)
        )
        reply, status = {"ok": True, "poll_id": poll.id, "status": poll.status.value}, 200
        db.session.commit()
        broadcaster(current_app).stage_changed(stage.id)
        if queued:
            jobs.wake(app)
    except LiveError as error:
        db.session.rollback()
        reply, status = actions.refused(error.code, error.status)
    if request.is_json:
        return jsonify(reply), status
    if not reply["ok"]:
        flash(str(reply["message"]), "error")
    return redirect(url_for("live.control", stage_id=stage.id))


# Results exports


def _export(poll_id: int, kind: str) -> Response:
    poll = db.get_or_404(Poll, poll_id)
    stage = db.session.get_one(Stage, poll.stage_id)
    rows = exports.vote_rows(db.session, poll, stage.program)
    name = f"polling-{stage.id}-{poll.id}"
    if kind == "csv":
        content, mimetype, filename = exports.to_csv(poll, rows), "text/csv", f"{name}.csv"
    else:
        content = exports.to_xlsx(
            db.session, poll, stage, rows, now=clock.now(), locale=str(get_locale() or "id")
        )
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        filename = f"{name}.xlsx"
    audit.record_export(
        db.session, current_user, "poll.export", f"poll:{poll.id}", f"{kind}, {len(rows)} answers"
    )
    return web.download(content, mimetype, filename)


# Voters' names, positions and agencies: for the organisers (as every export of personal data), audited.


@bp.route("/polls/<int:poll_id>/results.csv")
@organiser_required
def results_csv(poll_id: int):
    return _export(poll_id, "csv")


@bp.route("/polls/<int:poll_id>/results.xlsx")
@organiser_required
def results_xlsx(poll_id: int):
    return _export(poll_id, "xlsx")


@bp.route("/polls/<int:poll_id>/hall.csv")
@organiser_required
def hall_csv(poll_id: int):
    """The hall's hand count ("hitungan aula") beside the online votes, one row per answer."""
    poll = db.get_or_404(Poll, poll_id)
    if poll.kind not in handcount.HAND_COUNTED:
        abort(404)
    stage = db.session.get_one(Stage, poll.stage_id)
    content = exports.hall_csv(db.session, poll, stage, now=clock.now())
    audit.record_export(db.session, current_user, "poll.export", f"poll:{poll.id}", "hall count csv")
    return web.download(content, "text/csv", f"hitungan-aula-{stage.id}-{poll.id}.csv")
