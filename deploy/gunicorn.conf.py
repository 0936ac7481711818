"""gunicorn settings for one Bimtek Hybrid web process (see docs/deploy.md).

    HOST=127.0.0.1 PORT=5001 .venv/bin/gunicorn -c deploy/gunicorn.conf.py 'workshop:create_app()'

One gevent worker per process: Socket.IO's long-polling needs every request of a session in the
same process, and gunicorn cannot route by session. For more capacity run more of these processes
(each on its own port, EMBEDDED_SCHEDULER=0, SOCKETIO_MESSAGE_QUEUE=redis://...) behind nginx with
sticky sessions (deploy/nginx.conf), and one `flask scheduler`.

The gevent worker monkey-patches itself when it starts, before it loads the app; so nothing here
imports the app or gevent-sensitive modules at the top (this file is read by the master), and the
app is not preloaded.

Environment: HOST and PORT (default 127.0.0.1:5000, as for `python app.py`) or BIND (e.g.
unix:/run/bimtek/web1.sock); WORKER_CONNECTIONS (default 10000: the most sockets this process
holds); ACCESS_LOG (default "-": stdout; empty: off); LOG_FORMAT=json for JSON error-log lines.
With EMBEDDED_SCHEDULER on (the default) the worker also runs the reminder scheduler, as
`python app.py` does; set EMBEDDED_SCHEDULER=0 when `flask scheduler` runs instead.
"""

import importlib.util
import json
import logging
import os
import resource
from pathlib import Path

from gunicorn import glogging

bind = [os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"]
# gevent's own WSGI server (the one `python app.py` runs), with the handler of post_worker_init:
# Engine.IO serves WebSockets through gevent-websocket, which needs its handler on that server.
worker_class = "gevent_pywsgi"
workers = 1
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "10000"))
# A SIGTERM lets requests in flight finish for this long; open sockets then close and their
# clients reconnect (through nginx, to another process).
graceful_timeout = 20
timeout = 30  # the gevent worker's heartbeat: a worker silent this long is restarted
# Longer than nginx's upstream keep-alive (60 s), so nginx never reuses a connection we just closed.
keepalive = 75
preload_app = False
control_socket_disable = True  # several web processes on one machine would share its path
proc_name = "bimtek-web"
accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = "info"


# The app's JSON log line and link redaction (workshop/logformat.py), loaded by its path: importing
# the workshop package here would load the app in the master, before the worker has monkey-patched.
_spec = importlib.util.spec_from_file_location(
    "bimtek_logformat", Path(__file__).resolve().parent.parent / "workshop" / "logformat.py"
)
logformat = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(logformat)
_redacted = logformat.redacted
_now = logformat.timestamp


class _RedactLinks(logging.Filter):
    def filter(self, record):
        record.msg, record.args = _redacted(record.getMessage()), ()
        return True


class JsonAccessLogger(glogging.Logger):
    """Access lines as JSON objects (always); error-log lines too with LOG_FORMAT=json."""

    def setup(self, cfg):
        super().setup(cfg)
        json_lines = os.environ.get("LOG_FORMAT", "plain").strip().lower() == "json"
        for handler in self.error_log.handlers:
            handler.addFilter(_RedactLinks())  # "Error handling request /p/..."
            if json_lines:
                handler.setFormatter(logformat.JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        status = str(atoms["s"])
        entry = {
            "time": _now(),
            "level": "INFO",
            "logger": "gunicorn.access",
            "process": os.getpid(),
            "remote": atoms["h"],  # the client's address when PROXY_FIX_HOPS is set behind nginx
            "method": atoms["m"],
            "path": _redacted(atoms["U"]),
            "query": atoms["q"] or "",
            "status": int(status) if status.isdigit() else status,
            "bytes": atoms["B"],
            "duration_ms": atoms["M"],
            "referer": _redacted(atoms["f"]),
            "agent": atoms["a"],
        }
        self.access_log.info(json.dumps(entry, ensure_ascii=False))


logger_class = JsonAccessLogger


def on_starting(server):
    """Every socket is a file descriptor: raise the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = worker_connections + 256
    if soft < wanted:
        new_soft = hard if hard == resource.RLIM_INFINITY else min(max(wanted, soft), hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
        soft = new_soft
    if soft != resource.RLIM_INFINITY and soft < wanted:
        server.log.warning(
            "open files limit %d is below worker_connections %d: raise it (ulimit -n, LimitNOFILE=)",
            soft,
            worker_connections,
        )


def post_worker_init(worker):
    """The worker has patched itself and loaded the app: serve with the handler of `python app.py`
    (workshop/serving.py: gevent-websocket's, with TCP_NODELAY) and gunicorn's access log; start
    the embedded reminder scheduler unless EMBEDDED_SCHEDULER=0 (then `flask scheduler` runs it),
    and take the app's objects out of the garbage collector's scans (workshop/serving.py)."""
    from gunicorn.workers.ggevent import PyWSGIHandler

    from workshop.reminders.jobs import start_embedded_scheduler
    from workshop.serving import NoDelayHandler, freeze_startup_objects

    class Handler(NoDelayHandler, PyWSGIHandler):
        log_request = PyWSGIHandler.log_request  # gunicorn's access log (JsonAccessLogger)

    worker.wsgi_handler = Handler
    start_embedded_scheduler(worker.wsgi)
    freeze_startup_objects()


def worker_exit(server, worker):
    """Stop the embedded scheduler cleanly: its heartbeat row goes with it."""
    from workshop.reminders.jobs import stop_embedded_scheduler

    app = getattr(worker, "wsgi", None)
    if app is not None:
        stop_embedded_scheduler(app)
