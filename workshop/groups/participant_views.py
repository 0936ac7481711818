"""The participant's side: their group of a stage (dimension, leader, members, the breakout link
for who joins online), the groups with seats left when participants pick, and the shared output
the members edit together (the page's script saves a field as JSON; without it the form posts)."""

from __future__ import annotations

from flask import abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from workshop import clock
from workshop.auth.permissions import participant_required
from workshop.db import db
from workshop.groups import events, queries, services
from workshop.groups.blueprint import bp
from workshop.groups.forms import JoinForm, OutputForm
from workshop.groups.services import GroupError
from workshop.groups.texts import error_text
from workshop.groups.views import labels
from workshop.programs import facts
from workshop.programs.dimensions import DIMENSION_LABELS
from workshop.programs.models import Stage
from workshop.registration.models import Mode, Registration
from workshop.registration.queries import PageRegistration, own_registration_or_404


@bp.app_context_processor
def _group_helpers():
    return {"own_groups": own_groups}


def own_groups(registration: Registration | PageRegistration) -> dict:
    """stage id -> the participant's group there, and the stages with groups set up (the page's cards)."""
    if not facts.of(registration.program, queries.stages_with_groups):
        return {"mine": {}, "stages": frozenset(), "labels": DIMENSION_LABELS}
    stages, mine = queries.groups_on_page(db.session, registration.program_id, registration.id)
    return {"mine": mine, "stages": stages, "labels": DIMENSION_LABELS}


def _own(slug: str, stage_id: int) -> tuple[Registration, Stage]:
    registration = own_registration_or_404(slug)
    stage = db.get_or_404(Stage, stage_id)
    if stage.program_id != registration.program_id:
        abort(404)
    return registration, stage


def _page(registration: Registration, stage: Stage, status: int = 200, mine: dict | None = None):
    work, groups = queries.stage_groups(db.session, stage.id)
    own = next((view for view in groups if any(m.id == registration.id for m in view.members)), None)
    online = queries.modes_of(db.session, stage.id).get(registration.id) == Mode.DARING
    config = {
        "stage_id": stage.id,
        "group_id": own.group.id if own else None,
        "save_url": url_for("groups.save_output", slug=registration.program.slug, stage_id=stage.id),
        "state_url": url_for("groups.participant_state", slug=registration.program.slug, stage_id=stage.id),
        "texts": {
            "saved": _("Saved."),
            "saving": _("Saving…"),
            "offline": _("Not saved: no connection. Try again."),
            "changed_by": _("%(name)s changed this field meanwhile: save to see their text.", name="{name}"),
            "last_saved_by": _("Last saved by %(name)s", name="{name}"),
            "your_text": _("Your text (not saved):"),
            "moved": error_text(GroupError("moved")),
        },
    }
    return (
        render_template(
            "groups/participant.html",
            registration=registration,
            program=registration.program,
            stage=stage,
            work=work,
            groups=groups,
            own=own,
            online=online,
            mine=mine or {},
            join_form=JoinForm(),
            output_form=OutputForm(),
            config=config,
            **labels(),
        ),
        status,
    )


@bp.route("/saya/<slug>/kelompok/<int:stage_id>")
@participant_required
def participant(slug: str, stage_id: int):
    registration, stage = _own(slug, stage_id)
    return _page(registration, stage)


@bp.route("/saya/<slug>/kelompok/<int:stage_id>/langsung")
@participant_required
def live_parts(slug: str, stage_id: int):
    """The parts of the participant's live page that name their group (the card, "ask my group
    only"), as they are now: the page draws them again when the participant moves."""
    registration, stage = _own(slug, stage_id)
    response = make_response(
        render_template(
            "groups/live_parts.html", registration=registration, program=registration.program, stage=stage
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/saya/<slug>/kelompok/<int:stage_id>/pilih", methods=["POST"])
@participant_required
def join(slug: str, stage_id: int):
    registration, stage = _own(slug, stage_id)
    form = JoinForm()
    group_id = form.chosen_id if form.validate_on_submit() else None
    if group_id is None:
        flash(_("Choose a group."), "error")
        return _page(registration, stage, 422)
    before = services.members_by_registration(db.session, stage.id)
    try:
        group = services.join(db.session, stage, registration, group_id, now=clock.now())
    except GroupError as error:
        db.session.rollback()
        flash(error_text(error), "error")
        return _page(registration, stage, 409 if error.code == "full" else 422)
    db.session.commit()
    events.members_moved(stage.id, before, {**before, registration.id: group.id})
    flash(_("You are in the group %(group)s.", group=DIMENSION_LABELS[group.dimension]), "success")
    return redirect(url_for("groups.participant", slug=slug, stage_id=stage.id))


@bp.route("/saya/<slug>/kelompok/<int:stage_id>/state")
@participant_required
def participant_state(slug: str, stage_id: int):
    registration, stage = _own(slug, stage_id)
    group = queries.own_group(db.session, stage.id, registration.id)
    if group is None:
        return jsonify({"version": 0, "group_id": None, "output": {}})
    output = queries.output_of(group)
    response = jsonify({"version": queries.output_version(output), "group_id": group.id, "output": output})
    response.headers["Cache-Control"] = "no-store"
    return response


def _json_body_ok(body: object) -> bool:
    """A JSON save carries text fields as strings, the version and the page's group as whole numbers."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("field"), str)
        and isinstance(body.get("text"), str)
        and type(body.get("version")) is int
        and (body.get("group_id") is None or type(body.get("group_id")) is int)
    )


@bp.route("/saya/<slug>/kelompok/<int:stage_id>/hasil", methods=["POST"])
@participant_required
def save_output(slug: str, stage_id: int):
    registration, stage = _own(slug, stage_id)
    as_json = request.is_json
    body = request.get_json(silent=True) if as_json else None
    if as_json and not _json_body_ok(body):
        return jsonify(
            {"ok": False, "error": "bad_field", "message": error_text(GroupError("bad_field"))}
        ), 422
    if isinstance(body, dict):
        fields = {"field": body["field"], "text": body["text"], "version": str(body["version"])}
        if body.get("group_id") is not None:
            fields["group_id"] = str(body["group_id"])
        # CSRFProtect checked the X-CSRFToken header of this JSON request before the view ran.
        form = OutputForm(formdata=MultiDict(fields), meta={"csrf": False})
    else:
        form = OutputForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.values()))[0] if form.errors else _("Reload the page and try again.")
        if as_json:
            return jsonify({"ok": False, "error": "invalid", "message": str(message)}), 422
        flash(str(message), "error")
        return _page(registration, stage, 422)
    group = queries.own_group(db.session, stage.id, registration.id)
    field, text = form.field.data or "", form.text.data or ""
    try:
        # The page shows the group the participant was in when it loaded: moved since, never into the new one.
        if form.page_group_id is not None and (group is None or group.id != form.page_group_id):
            raise GroupError("moved")
        if group is None:
            raise GroupError("not_member")
        row = services.save_output(
            db.session,
            group,
            registration,
            field=field,
            text=text,
            version=form.version_value,
            now=clock.now(),
        )
    except GroupError as error:
        db.session.rollback()
        status = {"changed": 409, "moved": 409, "not_member": 403}.get(error.code, 422)
        if as_json:
            reply = {"ok": False, "error": error.code, "message": error_text(error)}
            if error.code == "changed" and group is not None:
                reply["current"] = queries.output_of(group)[field]
            return jsonify(reply), status
        flash(error_text(error), "error")
        return _page(
            registration, stage, status, mine={field: text} if error.code in ("changed", "moved") else None
        )
    value = {"text": row.text, "version": row.version, "by": registration.person.name}
    db.session.commit()
    events.output_saved(stage.id, row.group_id, field, value)
    if as_json:
        return jsonify({"ok": True, "field": field, **value})
    flash(_("Saved."), "success")
    return redirect(url_for("groups.participant", slug=slug, stage_id=stage.id, _anchor=f"output-{field}"))
