"""Runs one function for a web process, in a process of its own: `python -m workshop.offload`.

workshop.uploads.off_the_loop sends the function (by module and name) and its arguments, pickled,
on stdin; this process runs it at a lower priority and answers (True, result) or (False, the
exception), pickled, on stdout. Reading and checking a large roster takes seconds of CPU: in the
web process itself, even in a thread, it would share the interpreter lock with the gevent loop
that answers the check-in desks and the live pages.
"""

from __future__ import annotations

import importlib
import os
import pickle
import sys


def main() -> None:
    os.nice(10)  # the people at the hall door come first
    module, name, args = pickle.load(sys.stdin.buffer)
    function = getattr(importlib.import_module(module), name)
    try:
        answer = (True, function(*args))
    except Exception as error:  # handed to the web process, which raises it there
        answer = (False, error)
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
