"""CPU-heavy work off the gevent loop, in a process of its own: `python -m workshop.offload`.

One process serves the scanners, the live sockets and the pages, and gevent switches between them
only when one waits: a badge sheet for a whole stage or the check of a large roster, done on the
loop, would hold every other request until it is done. `off_the_loop` runs such work in a child
process and waits for its answer as gevent waits for any pipe, so the loop goes on serving
meanwhile. (gevent's pool of threads was tried first: its thread and the loop share the
interpreter lock, and on a busy machine every hand-over of the lock cost the scanners tens of
milliseconds, 100 ms and more per request.)

The work is a module-level function of plain, picklable values (read from the database first, on
the loop; translated strings passed in): the child has no app, no request and no database. Its
result, or the exception it raised, comes back pickled.
"""

from __future__ import annotations

import os
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
    """The child process died without an answer."""


def off_the_loop(work: Callable[..., T], *args, **kwargs) -> T:
    """`work(*args, **kwargs)`, in a child process when this process serves on gevent (python app.py,
    gunicorn's gevent worker); right here otherwise (tests, commands), where nothing else waits."""
    from gevent import monkey

    if not monkey.is_module_patched("subprocess"):
        return work(*args, **kwargs)
    return in_child_process(work, *args, **kwargs)


def in_child_process(work: Callable[..., T], *args, **kwargs) -> T:
    # Under gevent, subprocess is gevent's: waiting for the child lets every other greenlet run.
    child = subprocess.run(
        [sys.executable, "-m", "workshop.offload"],
        input=pickle.dumps((work, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL),
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if child.returncode != 0:
        raise OffloadError(
            f"{work.__qualname__} failed in its process: {child.stderr.decode(errors='replace')[-2000:]}"
        )
    succeeded, value = pickle.loads(child.stdout)
    if not succeeded:
        raise value
    return value


def _main() -> None:
    os.nice(10)  # the people at the hall door come first
    work, args, kwargs = pickle.load(sys.stdin.buffer)
    try:
        answer = (True, work(*args, **kwargs))
    except Exception as error:  # handed back to the web process, which raises it there
        answer = (False, error)
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _main()
