"""The baseline: a trivial Flask endpoint served exactly as app.py serves Bimtek Hybrid
(gevent monkey-patching, Flask-SocketIO in gevent mode, `socketio.run`). HOST and PORT as in app.py.
"""

import os

if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()

from flask import Flask
from flask_socketio import SocketIO

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent")


@app.route("/")
def ok():
    return "ok"


if __name__ == "__main__":
    socketio.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
