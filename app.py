"""Entry point. `python app.py` serves Bimtek Hybrid with Socket.IO on gevent.

Settings come from environment variables (see README). HOST and PORT choose where to listen
(default 127.0.0.1:5000). SIGTERM or Ctrl-C stops it cleanly.
"""

import os

if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()  # before anything else opens sockets or threads

from workshop import create_app

app = create_app()

if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"Bimtek Hybrid: http://{host}:{port}/", flush=True)
    from workshop.reminders.jobs import start_embedded_scheduler, stop_embedded_scheduler
    from workshop.serving import serve

    # Reminders (issue 5): the embedded scheduler; off with EMBEDDED_SCHEDULER=0 (`flask scheduler`).
    start_embedded_scheduler(app)
    serve(app, host, port)  # until SIGTERM or Ctrl-C
    stop_embedded_scheduler(app)
    print("Bimtek Hybrid stopped.", flush=True)
