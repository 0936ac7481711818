"""CPU-heavy work off the gevent loop: building a PDF or a workbook from what was already read.

One process serves the scanners, the live sockets and the pages, and gevent switches between them
only when one waits: a badge sheet for a whole stage, built on the loop, would hold every other
request until it is done. `off_the_loop` runs such work in a child process and waits for its
answer as gevent waits for any pipe, so the loop goes on serving meanwhile. (gevent's pool of
threads was tried first: its thread and the loop share the interpreter lock, and on a busy machine
every hand-over of the lock cost the scanners tens of milliseconds, 100 ms and more per request.)

The work is a module-level function of plain, picklable values (read from the database first, on
the loop; translated strings passed in): the child has no app, no request and no database.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 600


class OffloadError(RuntimeError):
    pass


def off_the_loop(work: Callable[..., T], *args, **kwargs) -> T:
    # Under gevent (python app.py, gunicorn's gevent worker) subprocess is gevent's: waiting for
    # the child lets every other greenlet run.
    child = subprocess.run(
        [sys.executable, "-m", "workshop.offload"],
        input=pickle.dumps((work, args, kwargs)),
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if child.returncode != 0:
        raise OffloadError(
            f"{work.__qualname__} failed in its process: {child.stderr.decode(errors='replace')[-2000:]}"
        )
    return pickle.loads(child.stdout)


if __name__ == "__main__":
    work, args, kwargs = pickle.load(sys.stdin.buffer)
    sys.stdout.buffer.write(pickle.dumps(work(*args, **kwargs)))
