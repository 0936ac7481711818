"""The organiser's side of registration: the review list, status changes, a registration's page,
personal links and sending them. On the registration blueprint, with views.py."""

from __future__ import annotations

from babel.lists import format_list
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from workshop import clock, realtime, web
from workshop.auth.permissions import organiser_required
from workshop.db import db
from workshop.i18n import stage_label
from workshop.ids import id_from_text
from workshop.programs.models import Organization, OrgKind, Program
from workshop.redirects import safe_next
from workshop.registration import links, services
from workshop.registration.blueprint import bp
from workshop.registration.forms import STATUS_LABELS
from workshop.registration.models import Registration, Status
from workshop.registration.queries import (
    RegistrationFilter,
    registrations_query,
)
from workshop.reminders import jobs, outreach
from workshop.reminders.forms import CHANNEL_LABELS, DELIVERY_STATUS_LABELS, KIND_LABELS
from workshop.reminders.models import PARTICIPANT_CHANNELS, Kind
from workshop.reminders.services import ReminderError

PAGE_SIZE = 100
ACTIONS = {
    "approve": Status.APPROVED,
    "waitlist": Status.WAITLISTED,
    "reject": Status.REJECTED,
    "cancel": Status.CANCELLED,
}
ERRORS = {
    "not_approved": _l("Only an approved participant has a personal link."),
    "hall_full": _l("No in-person place left: approve as online, or put on the waiting list."),
    "no_link": _l("The personal link was revoked: make a new link first, then send it."),
    "no_stage": _l("The programme has no stage yet: add one first."),
    "no_channel": _l("Choose WhatsApp, email or both."),
}
# Why a message was not sent to some of the chosen participants (outreach.send's reasons).
NOT_SENT = {
    "not_approved": _l("Not sent to %(num)d not approved: %(names)s"),
    "no_link": _l("Not sent to %(num)d whose link was revoked: %(names)s"),
    "not_waitlisted": _l("Not sent to %(num)d not on the waiting list: %(names)s"),
    "no_address": _l("Not sent to %(num)d without a WhatsApp number or email address: %(names)s"),
}
NAMES_SHOWN = 10


def personal_url(registration: Registration) -> str | None:
    token = links.token_for(registration, current_app.config["SECRET_KEY"])
    if token is None:
        return None
    return web.public_url(current_app.config, "auth.personal_link", token=token)


# Organiser: review


@bp.route("/admin/programs/<int:program_id>/registrations")
@organiser_required
def review(program_id: int):
    program = db.get_or_404(Program, program_id)
    chosen = RegistrationFilter.from_args(request.args)
    query = registrations_query(program, chosen)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(((total or 0) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(id_from_text(request.args.get("page")) or 1, pages)
    registrations = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).unique().all()
    counts = dict(
        db.session.execute(
            select(Registration.status, func.count())
            .where(Registration.program_id == program.id)
            .group_by(Registration.status)
        )
        .tuples()
        .all()
    )
    kecamatan = db.session.scalars(
        select(Organization).where(Organization.kind == OrgKind.KECAMATAN).order_by(Organization.name)
    ).all()
    places = {stage.id: services.approved_luring_count(db.session, stage.id) for stage in program.stages}
    approved_listed = db.session.scalar(
        select(func.count()).select_from(
            query.where(Registration.status == Status.APPROVED).order_by(None).subquery()
        )
    )
    return render_template(
        "registration/review.html",
        program=program,
        registrations=registrations,
        chosen=chosen,
        total=total,
        page=page,
        pages=pages,
        counts=counts,
        kecamatan=kecamatan,
        places=places,
        approved_listed=approved_listed,
        link_channels=_channel_names(outreach.settings_for(db.session, program)[Kind.PERSONAL_LINK].channels),
    )


def _channel_names(channels: list[str]) -> str:
    """'WhatsApp dan Email'."""
    return format_list([str(CHANNEL_LABELS[name]) for name in channels], locale=str(get_locale()))


def _link_base() -> str:
    """The base of the personal links in messages queued now (sent later by the scheduler)."""
    return current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")


def _detail_url(registration: Registration) -> str:
    return url_for("registration.registration_detail", registration_id=registration.id)


@bp.route("/admin/programs/<int:program_id>/registrations/status", methods=["POST"])
@organiser_required
def change_status(program_id: int):
    program = db.get_or_404(Program, program_id)
    target = ACTIONS.get(request.form.get("action", ""))
    one = id_from_text(request.args.get("one"))  # a row's own button; otherwise the ticked rows
    ids = [one] if one else list(filter(None, map(id_from_text, request.form.getlist("ids"))))
    if target is None:
        abort(400)
    back = safe_next(request.form.get("next")) or url_for("registration.review", program_id=program.id)
    if not ids:
        flash(_("Choose at least one registration."), "warning")
        return redirect(back)
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.program_id == program.id, Registration.id.in_(ids))
        .order_by(Registration.created_at, Registration.id)
    ).all()
    if len(registrations) != len(set(ids)):
        abort(404)
    try:
        # One person's own button into a full hall: offer approval as online instead (detail page).
        changes = services.change_status_many(
            db.session,
            registrations,
            target,
            actor=current_user,
            secret_key=current_app.config["SECRET_KEY"],
            waitlist_when_full=not one,
        )
    except services.RegistrationError as error:
        db.session.rollback()
        flash(str(ERRORS[error.code]), "warning")
        return redirect(_detail_url(registrations[0]))
    queued = outreach.announce_status_changes(
        db.session, program, changes, actor=current_user, base_url=_link_base(), now=clock.now()
    )
    db.session.commit()
    _flash_changes(changes, target)
    _after_status_changes(changes, queued)
    return redirect(back)


@bp.route("/admin/registrations/<int:registration_id>/approve-online", methods=["POST"])
@organiser_required
def approve_online(registration_id: int):
    registration = db.get_or_404(Registration, registration_id)
    change = services.approve_as_online(
        db.session, registration, actor=current_user, secret_key=current_app.config["SECRET_KEY"]
    )
    queued = outreach.announce_status_changes(
        db.session, registration.program, [change], actor=current_user, base_url=_link_base(), now=clock.now()
    )
    db.session.commit()
    _flash_changes([change], Status.APPROVED)
    _after_status_changes([change], queued)
    return redirect(_detail_url(registration))


def _after_status_changes(changes: list[services.StatusChange], queued: int) -> None:
    for change in changes:
        if change.access_ended:
            realtime.end_person_sessions(change.registration.person_id)
    if queued:
        jobs.wake(current_app)
        flash(
            ngettext("%(num)d message is on its way.", "%(num)d messages are on their way.", queued), "info"
        )


def _flash_changes(changes: list[services.StatusChange], target: Status) -> None:
    done = sum(1 for change in changes if change.status == target)
    if done or target != Status.APPROVED:
        flash(
            ngettext(
                "%(num)d registration is now %(status)s.",
                "%(num)d registrations are now %(status)s.",
                done,
                status=STATUS_LABELS[target].lower(),
            ),
            "success",
        )
    for change in changes:
        if change.full_stages and change.status == Status.WAITLISTED:
            flash(
                _(
                    "%(name)s is on the waiting list: no in-person place left in %(stages)s.",
                    name=change.registration.person.name,
                    stages=_stage_list(change.full_stages),
                ),
                "warning",
            )
        for promoted in change.promoted:
            flash(
                _("%(name)s moved up from the waiting list.", name=promoted.person.name),
                "info",
            )


@bp.route("/admin/registrations/<int:registration_id>")
@organiser_required
def registration_detail(registration_id: int):
    registration = db.get_or_404(Registration, registration_id)
    waiting_for_a_place = registration.status != Status.APPROVED
    full_stages = (
        services.full_stages_for(db.session, registration, lock=False) if waiting_for_a_place else []
    )
    return render_template(
        "registration/detail.html",
        registration=registration,
        personal_url=personal_url(registration),
        notices=services.notices_for(db.session, registration.id),
        next_statuses=services.NEXT_STATUSES[registration.status],
        full_stages=_stage_list(full_stages),
        link_channels=outreach.settings_for(db.session, registration.program)[Kind.PERSONAL_LINK].channels,
        messages=outreach.history(db.session, registration),
        message_kind_labels=KIND_LABELS,
        delivery_status_labels=DELIVERY_STATUS_LABELS,
        channel_labels=CHANNEL_LABELS,
    )


def _stage_list(stages) -> str:
    """'Tahap I, Tahap III'."""
    return ", ".join(stage_label(stage.number) for stage in stages)


@bp.route("/admin/registrations/<int:registration_id>/link", methods=["POST"])
@organiser_required
def manage_link(registration_id: int):
    registration = db.get_or_404(Registration, registration_id)
    action = request.form.get("action")
    if action == "regenerate":
        try:
            services.regenerate_link(
                db.session, registration, actor=current_user, secret_key=current_app.config["SECRET_KEY"]
            )
        except services.RegistrationError as error:
            flash(str(ERRORS[error.code]), "danger")
            return redirect(url_for("registration.registration_detail", registration_id=registration.id))
        flash(_("A new personal link was made; the old one no longer works."), "success")
    elif action == "revoke":
        services.revoke_link(db.session, registration, actor=current_user)
        flash(_("The personal link was revoked."), "success")
    else:
        abort(400)
    db.session.commit()
    realtime.end_person_sessions(registration.person_id)  # the old link's sessions ended above
    return redirect(url_for("registration.registration_detail", registration_id=registration.id))


@bp.route("/admin/registrations/<int:registration_id>/send-link", methods=["POST"])
@organiser_required
def send_link(registration_id: int):
    """ "Kirim tautan": the personal link to one participant, on the chosen channels."""
    registration = db.get_or_404(Registration, registration_id)
    channels = request.form.getlist("channels")
    try:
        queued = outreach.send(
            db.session,
            registration.program,
            [registration],
            Kind.PERSONAL_LINK,
            channels=channels,
            actor=current_user,
            base_url=_link_base(),
            now=clock.now(),
        )
    except ReminderError as error:
        flash(str(ERRORS[error.code]), "danger")
        return redirect(_detail_url(registration))
    db.session.commit()
    if queued.reached:
        jobs.wake(current_app)
        flash(
            _(
                "The personal link of %(name)s is on its way by %(channels)s.",
                name=registration.person.name,
                channels=_channel_names(queued.channels),
            ),
            "success",
        )
    else:
        reason = next(iter(queued.skipped))
        flash(_nothing_sent(registration, reason, channels), "danger")
    return redirect(_detail_url(registration))


def _nothing_sent(registration: Registration, reason: str, channels: list[str]) -> str:
    if reason != "no_address":
        return str(ERRORS[reason])
    chosen = set(channels) & set(PARTICIPANT_CHANNELS)
    if chosen == {"email"}:
        missing = _("an email address")
    elif chosen == {"whatsapp"}:
        missing = _("a WhatsApp number")
    else:
        missing = _("a WhatsApp number or an email address")
    return _("Nothing was sent: %(name)s has no %(missing)s.", name=registration.person.name, missing=missing)


@bp.route("/admin/programs/<int:program_id>/registrations/send-link", methods=["POST"])
@organiser_required
def send_links(program_id: int):
    """The personal link to the ticked registrations, or to every one the list's filter shows."""
    program = db.get_or_404(Program, program_id)
    back = safe_next(request.form.get("next")) or url_for("registration.review", program_id=program.id)
    if request.form.get("scope") == "filtered":
        query = registrations_query(program, RegistrationFilter.from_args(request.form))
    else:
        ids = list(filter(None, map(id_from_text, request.form.getlist("ids"))))
        query = registrations_query(program, RegistrationFilter()).where(Registration.id.in_(ids))
    registrations = db.session.scalars(query).unique().all()
    if not registrations:
        flash(_("Choose at least one registration."), "warning")
        return redirect(back)
    try:
        queued = outreach.send(
            db.session,
            program,
            registrations,
            Kind.PERSONAL_LINK,
            actor=current_user,
            base_url=_link_base(),
            now=clock.now(),
        )
    except ReminderError as error:
        flash(str(ERRORS[error.code]), "danger")
        return redirect(back)
    db.session.commit()
    if queued.reached:
        jobs.wake(current_app)
        flash(
            ngettext(
                "The personal link is on its way to %(num)d participant (%(messages)d messages).",
                "The personal link is on its way to %(num)d participants (%(messages)d messages).",
                len(queued.reached),
                messages=queued.deliveries,
            ),
            "success",
        )
    for reason, skipped in queued.skipped.items():
        names = ", ".join(registration.person.name for registration in skipped[:NAMES_SHOWN])
        if len(skipped) > NAMES_SHOWN:
            names += ", …"
        flash(NOT_SENT[reason] % {"num": len(skipped), "names": names}, "warning")
    return redirect(back)
