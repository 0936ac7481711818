from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from workshop import realtime
from workshop.auth import services
from workshop.auth.blueprint import bp
from workshop.auth.forms import ConfirmForm, LoginForm
from workshop.auth.models import Role
from workshop.db import db
from workshop.extensions import limiter
from workshop.forms import add_error
from workshop.i18n import LANGUAGES
from workshop.redirects import safe_next
from workshop.registration import links
from workshop.registration.models import Status
from workshop.registration.services import ensure_participant_user, remember_language

AFTER_LINK = "after_link"  # session key: the page to open after entering through a personal link


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _link_address_limit() -> str:
    return current_app.config["LINK_ADDRESS_RATE_LIMIT"]


def _link_key() -> str:
    """Counts the attempts on one link, whoever makes them (a hall or a village office shares one
    address); the limiter's storage gets a digest, never the token."""
    return "link:" + links.hash_token((request.view_args or {}).get("token", ""))


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("auth/home.html")
    if current_user.role == Role.PARTICIPANT:
        return redirect(url_for("registration.my_programs"))
    if current_user.role == Role.PETUGAS:
        return redirect(url_for("checkin.index"))  # their one job: the stage picker of the desk
    return redirect(url_for("programs.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            add_error(form.password, _("Wrong username or password."))
        else:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("auth.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends the user's sessions on every device (their socket connections too, in every process:
    a socket keeps the cookie it connected with, so only a new session epoch refuses it)."""
    if current_user.is_authenticated:
        user_id = current_user.id
        services.end_sessions(db.session, current_user)
        db.session.commit()
        realtime.end_sessions(user_id)
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.home"))


@bp.route("/p/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=_link_key, methods=["POST"])
@limiter.limit(_link_address_limit)
def personal_link(token: str):
    """GET (and HEAD) only show who the link is for; the POST logs in, then goes to the page the
    participant had asked for before (`next`, e.g. the live page of the projector's QR code)."""
    registration = links.find(db.session, token)
    if registration is None:
        return render_template("auth/link_invalid.html"), 404
    if registration.status != Status.APPROVED:
        return render_template("auth/link_invalid.html", registration=registration), 403
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        user = ensure_participant_user(db.session, registration.person)
        db.session.commit()
        login_user(user, remember=True)
        remembered = session.pop(AFTER_LINK, None)
        asked_for = safe_next(form.next.data) or safe_next(remembered)
        return redirect(asked_for or url_for("registration.participant_page", slug=registration.program.slug))
    form.next.data = safe_next(request.args.get("next")) or safe_next(session.get(AFTER_LINK))
    return render_template("auth/link_confirm.html", registration=registration, form=form)


@bp.route("/masuk")
def link_needed():
    """Where a participant without a session is sent; the page they asked for waits in the
    session until they open their personal link (which may come from WhatsApp, not from here)."""
    asked_for = safe_next(request.args.get("next"))
    if asked_for:
        session[AFTER_LINK] = asked_for
    return render_template("auth/link_needed.html", asked_for=asked_for)


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated and current_user.role == Role.PARTICIPANT:
        remember_language(db.session, current_user, code)
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("auth.home"))
