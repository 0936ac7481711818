"""Run a server script as production installs it: `python bench/as_installed.py SCRIPT [ARGS...]`.

The benchmarks run in the development venv, which also holds what only requirements-dev.txt
installs (the load generator's aiohttp, pytest, ...). A library imports some of them when they are
there: python-engineio imports aiohttp for its asyncio client, 7.5 MiB more in every server process
that production, installed from requirements.txt, never loads. Here the modules named in
BENCH_ABSENT_MODULES (comma-separated, see bench/common.py) cannot be imported, as if they were not
installed, and SCRIPT runs as `python SCRIPT` would run it.
"""

import os
import runpy
import sys

for name in filter(None, os.environ.get("BENCH_ABSENT_MODULES", "").split(",")):
    sys.modules[name] = None  # `import name` raises ImportError

script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(script))
runpy.run_path(script, run_name="__main__")
