from __future__ import annotations

from flask import (
    Blueprint,
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
from sqlalchemy.orm import joinedload

from workshop import realtime, web
from workshop.auth.permissions import organiser_required, participant_required
from workshop.db import db
from workshop.i18n import stage_label
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.programs.models import Organization, OrgKind, Program
from workshop.programs.queries import organization_by_label
from workshop.registration import calendar, links, services
from workshop.registration.forms import MODE_LABELS, registration_form_for
from workshop.registration.models import Mode, Registration, Status
from workshop.registration.queries import (
    OWN_PAGE_REGISTRATION,
    STAGE_MODES,
    RegistrationFilter,
    approved_registration_of,
    registrations_query,
)
from workshop.registration.validation import normalise_name, normalise_phone

bp = Blueprint("registration", __name__)

PAGE_SIZE = 100
STATUS_LABELS = {
    Status.PENDING: _l("Pending"),
    Status.APPROVED: _l("Approved"),
    Status.WAITLISTED: _l("Waitlisted"),
    Status.REJECTED: _l("Rejected"),
    Status.CANCELLED: _l("Cancelled"),
}
ACTIONS = {
    "approve": Status.APPROVED,
    "waitlist": Status.WAITLISTED,
    "reject": Status.REJECTED,
    "cancel": Status.CANCELLED,
}
ERRORS = {
    "unknown_organization": _l("Choose an organisation from the list."),
    "already_registered": _l("This WhatsApp number is already registered for this programme."),
    "mode_required": _l("Choose how you will attend each stage."),
    "not_approved": _l("Only an approved participant has a personal link."),
}


def personal_url(registration: Registration) -> str | None:
    token = links.token_for(registration, current_app.config["SECRET_KEY"])
    if token is None:
        return None
    return web.public_url(current_app.config, "auth.personal_link", token=token)


@bp.app_context_processor
def _labels():
    return {
        "status_labels": STATUS_LABELS,
        "mode_labels": MODE_LABELS,
        "kind_labels": ORG_KIND_LABELS,
    }


# Public registration


def _organization_labels() -> list[str]:
    organizations = db.session.scalars(
        select(Organization)
        .options(joinedload(Organization.parent))
        .order_by(Organization.kind, Organization.name)
    ).all()
    return [organization.label for organization in organizations]


@bp.route("/daftar/<slug>", methods=["GET", "POST"])
def register(slug: str):
    program = db.first_or_404(select(Program).where(Program.slug == slug))
    if not program.registration_open:
        return render_template("registration/closed.html", program=program), 403
    form = registration_form_for(program)
    if form.validate_on_submit():
        organization = organization_by_label(db.session, form.organization.data)
        if organization is None:
            form.organization.errors.append(str(ERRORS["unknown_organization"]))
        else:
            details = services.ParticipantDetails(
                name=normalise_name(form.name.data),
                position=normalise_name(form.position.data),
                organization_id=organization.id,
                phone=normalise_phone(form.phone.data),
                email=form.email.data.lower(),
                modes={int(f.name.removeprefix("mode_")): Mode(f.data) for f in form.mode_fields()},
                locale=str(get_locale()),
            )
            try:
                services.register(db.session, program, details)
            except services.RegistrationError as error:
                getattr(form, error.field).errors.append(str(ERRORS[error.code]))
            else:
                db.session.commit()
                return redirect(url_for("registration.registered", slug=slug))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "registration/register.html", program=program, form=form, organizations=_organization_labels()
    ), status


@bp.route("/daftar/<slug>/terkirim")
def registered(slug: str):
    program = db.first_or_404(select(Program).where(Program.slug == slug))
    return render_template("registration/registered.html", program=program)


# Organiser: review


@bp.route("/admin/programs/<int:program_id>/registrations")
@organiser_required
def review(program_id: int):
    program = db.get_or_404(Program, program_id)
    chosen = RegistrationFilter.from_args(request.args)
    query = registrations_query(program, chosen)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = max(request.args.get("page", 1, type=int), 1)
    registrations = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).unique().all()
    counts = dict(
        db.session.execute(
            select(Registration.status, func.count())
            .where(Registration.program_id == program.id)
            .group_by(Registration.status)
        ).all()
    )
    kecamatan = db.session.scalars(
        select(Organization).where(Organization.kind == OrgKind.KECAMATAN).order_by(Organization.name)
    ).all()
    places = {stage.id: services.approved_luring_count(db.session, stage.id) for stage in program.stages}
    return render_template(
        "registration/review.html",
        program=program,
        registrations=registrations,
        chosen=chosen,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        counts=counts,
        kecamatan=kecamatan,
        places=places,
    )


@bp.route("/admin/programs/<int:program_id>/registrations/status", methods=["POST"])
@organiser_required
def change_status(program_id: int):
    program = db.get_or_404(Program, program_id)
    target = ACTIONS.get(request.form.get("action", ""))
    one = request.args.get("one", type=int)  # a row's own button; otherwise the ticked rows
    ids = [one] if one else [int(value) for value in request.form.getlist("ids") if value.isdigit()]
    if target is None:
        abort(400)
    if not ids:
        flash(_("Choose at least one registration."), "warning")
        return redirect(request.referrer or url_for("registration.review", program_id=program.id))
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.program_id == program.id, Registration.id.in_(ids))
        .order_by(Registration.created_at, Registration.id)
    ).all()
    if len(registrations) != len(set(ids)):
        abort(404)
    changes = services.change_status_many(
        db.session, registrations, target, actor=current_user, secret_key=current_app.config["SECRET_KEY"]
    )
    db.session.commit()
    for change in changes:
        if change.access_ended:
            realtime.end_person_sessions(change.registration.person_id)
    _flash_changes(changes, target)
    return redirect(_back_to_review(program))


def _flash_changes(changes: list[services.StatusChange], target: Status) -> None:
    done = sum(1 for change in changes if change.status == target)
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
                    stages=", ".join(stage_label(stage.number) for stage in change.full_stages),
                ),
                "warning",
            )
        for promoted in change.promoted:
            flash(
                _("%(name)s moved up from the waiting list.", name=promoted.person.name),
                "info",
            )


def _back_to_review(program: Program) -> str:
    referrer = request.referrer or ""
    review_path = url_for("registration.review", program_id=program.id)
    if review_path in referrer or "/admin/registrations/" in referrer:
        return referrer
    return review_path


@bp.route("/admin/registrations/<int:registration_id>")
@organiser_required
def registration_detail(registration_id: int):
    registration = db.get_or_404(Registration, registration_id)
    return render_template(
        "registration/detail.html",
        registration=registration,
        personal_url=personal_url(registration),
        notices=services.notices_for(db.session, registration),
    )


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


# Participant


def _my_registrations() -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.person_id == current_user.person_id, Registration.status == Status.APPROVED)
            .order_by(Registration.created_at)
        )
    )


@bp.route("/saya")
@participant_required
def my_programs():
    registrations = _my_registrations()
    if len(registrations) == 1:
        return redirect(url_for("registration.participant_page", slug=registrations[0].program.slug))
    return render_template("registration/my_programs.html", registrations=registrations)


def _own_registration(slug: str) -> Registration:
    registration = db.session.scalar(approved_registration_of(slug, current_user.person_id))
    if registration is None:
        abort(404)
    return registration


@bp.route("/saya/<slug>")
@participant_required
def participant_page(slug: str):
    registration = db.session.scalar(
        OWN_PAGE_REGISTRATION, {"slug": slug, "person_id": current_user.person_id}
    )
    if registration is None:
        abort(404)
    program = registration.program
    stages = current_app.extensions["schedule"].stage_views(db.session, program, str(get_locale()))
    modes = db.session.execute(STAGE_MODES, {"registration_id": registration.id})
    return render_template(
        "registration/participant.html",
        registration=registration,
        program=program,
        stages=stages,
        modes=dict(modes.all()),
        notices=services.notices_for(db.session, registration),
    )


@bp.route("/saya/<slug>/jadwal.ics")
@participant_required
def participant_calendar(slug: str):
    registration = _own_registration(slug)
    page_url = calendar.page_url(registration, current_app.config)
    body = calendar.calendar_for(registration, page_url, str(get_locale()))
    return web.download(body, "text/calendar", f"{slug}.ics")


# Roster import pages (routes on this blueprint).
from workshop.registration import roster_views  # noqa: E402, F401
