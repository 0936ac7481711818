"""The baseline: a trivial Flask endpoint served exactly as app.py serves Bimtek Hybrid
(gevent monkey-patching, Flask-SocketIO in gevent mode, `socketio.run`). HOST and PORT as in app.py.

GET / answers "ok"; POST /json answers a small fixed JSON object after parsing the JSON body
(the shape of a check-in request, without any of its work). With BASELINE_HANDLER=app the
server uses app.py's connection handler (workshop.serving.NoDelayHandler); without it, gevent's
default handler, as bench/participant_page.py measured it.
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()

from flask import Flask, jsonify, request
from flask_socketio import SocketIO

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent")


@app.route("/")
def ok():
    return "ok"


@app.route("/json", methods=["POST"])
def json_ok():
    request.get_json()
    return jsonify(result="ok", colour="green", message="ok")


if __name__ == "__main__":
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    if os.environ.get("BASELINE_HANDLER") == "app":
        # app.py's server itself: `socketio.run` would pass a second handler when gevent-websocket
        # is installed (workshop/serving.py).
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from workshop.serving import serve

        serve(app, host, port)
    else:
        socketio.run(app, host=host, port=port)
