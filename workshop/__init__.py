"""Bimtek Hybrid: multi-stage hybrid technical-guidance workshops."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from workshop import config as settings
from workshop.application import WorkshopFlask
from workshop.logs import setup_logging
from workshop.programs.facts import FactsCache
from workshop.programs.schedule import ScheduleCache

TEMPLATE_FOLDER = str(settings.PROJECT_ROOT / "templates")
STATIC_FOLDER = str(settings.PROJECT_ROOT / "static")


def create_app(test_config: dict | None = None) -> Flask:
    app = WorkshopFlask(
        __name__,
        template_folder=TEMPLATE_FOLDER,
        static_folder=STATIC_FOLDER,
        instance_path=str(settings.PROJECT_ROOT / "instance"),
        instance_relative_config=False,
    )
    app.config.from_mapping(settings.from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    settings.validate(app.config)
    setup_logging(app.config)
    if not app.config["SECRET_KEY"]:  # outside production (validate refuses it there)
        app.config["SECRET_KEY"] = settings.instance_secret_key(Path(app.instance_path))
    # Socket.IO handlers are declared before init_app creates the server: a handler declared once a
    # server exists is registered on that server only, not on those of apps created later.
    from workshop import realtime  # noqa: F401 (Socket.IO connection rules)
    from workshop.attendance import events as attendance_events  # noqa: F401 (Socket.IO presence)
    from workshop.live import events as live_events
    from workshop.reminders import events as reminders_events

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from workshop import assets, extensions, models, web  # noqa: F401 (models: all tables known)
    from workshop.assignments import reminders as assignment_reminders
    from workshop.groups import events as group_events
    from workshop.whatsapp import events as whatsapp_events

    extensions.init_app(app)
    assets.init_app(app)  # static files: hashed names, precompressed, cached (outside the Socket.IO layer)
    app.extensions["schedule"] = ScheduleCache()
    app.extensions["program_facts"] = FactsCache()
    live_events.init_app(app)
    reminders_events.init_app(app)
    assignment_reminders.init_app(app)
    whatsapp_events.init_app(app)
    group_events.init_app(app)
    web.init_app(app)

    # A feature's blueprint comes from its blueprint.py; importing its view modules adds their routes.
    from workshop.assignments import participant_views as assignment_participant_views  # noqa: F401
    from workshop.assignments import views as assignment_views  # noqa: F401
    from workshop.assignments.blueprint import bp as assignments_bp
    from workshop.attendance import views as attendance_views  # noqa: F401
    from workshop.attendance.blueprint import bp as attendance_bp
    from workshop.auth import views as auth_views  # noqa: F401
    from workshop.auth.blueprint import bp as auth_bp
    from workshop.certificates import views as certificate_views  # noqa: F401 (its routes)
    from workshop.certificates.blueprint import bp as certificates_bp
    from workshop.checkin import api as checkin_api  # noqa: F401
    from workshop.checkin import views as checkin_views  # noqa: F401
    from workshop.checkin.blueprint import bp as checkin_bp
    from workshop.evaluation import views as evaluation_views  # noqa: F401 (its routes)
    from workshop.evaluation.blueprint import bp as evaluation_bp
    from workshop.groups import participant_views as group_participant_views  # noqa: F401
    from workshop.groups import views as group_views  # noqa: F401
    from workshop.groups.blueprint import bp as groups_bp
    from workshop.health import bp as health_bp
    from workshop.laporan import views as laporan_views  # noqa: F401 (its routes)
    from workshop.laporan.blueprint import bp as laporan_bp
    from workshop.live import views as live_views  # noqa: F401
    from workshop.live.blueprint import bp as live_bp
    from workshop.programs import views as programs_views  # noqa: F401
    from workshop.programs.blueprint import bp as programs_bp
    from workshop.registration import review_views, views  # noqa: F401
    from workshop.registration.blueprint import bp as registration_bp
    from workshop.registration.roster import views as roster_views  # noqa: F401
    from workshop.reminders import log_views, message_views, outbox_views  # noqa: F401
    from workshop.reminders import views as reminders_views  # noqa: F401
    from workshop.reminders.blueprint import bp as reminders_bp
    from workshop.reports import views as reports_views  # noqa: F401
    from workshop.reports.blueprint import bp as reports_bp
    from workshop.tickets import views as tickets_views  # noqa: F401
    from workshop.tickets.blueprint import bp as tickets_bp
    from workshop.whatsapp import views as whatsapp_views  # noqa: F401 (its routes)
    from workshop.whatsapp.blueprint import bp as whatsapp_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(programs_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(checkin_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(reminders_bp)
    app.register_blueprint(evaluation_bp)
    app.register_blueprint(assignments_bp)
    app.register_blueprint(groups_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(whatsapp_bp)
    app.register_blueprint(laporan_bp)
    app.register_blueprint(health_bp)

    from workshop import cli

    cli.init_app(app)
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # Outermost, around the Socket.IO middleware too: the client's address (rate limits), the
        # scheme and host (links, the socket's same-origin check) come from the proxy's headers.
        extensions.wrap_wsgi_app(app, ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops))
    return app
