"""Closed-loop HTTP load generator, run as its own process by bench/participant_page.py.

Reads a JSON job on stdin, prints a JSON result on stdout. Each virtual user is a thread with
one keep-alive `http.client` connection and its own cookies. Set-up steps (logging in with a
personal link, fetching a CSRF token) run before the clock starts and are not measured.

Scenarios:
- ``baseline``: GET ``path`` and expect 200.
- ``participant``: log in with personal link ``tokens[i]`` (GET /p/<token>, POST it with the
  CSRF token), then GET /saya/<slug> and expect 200.
- ``register``: GET /daftar/<slug> once for the CSRF token and session cookie, then POST the
  form with a new phone number each time and expect 302.
"""

from __future__ import annotations

import http.client
import itertools
import json
import resource
import sys
import threading
import time
from urllib.parse import urlencode

from common import Client, SetupError, server_cpu


def _setup(job: dict, index: int) -> tuple[Client, callable]:
    """Return the client and a function that makes one measured request -> ok?"""
    client = Client(job["host"], job["port"])
    scenario = job["scenario"]
    if scenario == "baseline":
        path = job["path"]
        return client, lambda seq: client.request("GET", path)[0] == 200

    if scenario == "participant":
        token = job["tokens"][index]
        link = f"/p/{token}"
        csrf = client.csrf_token(link)
        status, _ = client.request("POST", link, urlencode({"csrf_token": csrf}))
        if status != 302:
            raise SetupError(f"POST {link}: {status}, expected 302")
        page = f"/saya/{job['slug']}"
        status, body = client.request("GET", page)
        if status != 200 or b'data-testid="stage-4"' not in body:
            raise SetupError(f"GET {page} after login: {status}, not the four-stage participant page")
        return client, lambda seq: client.request("GET", page)[0] == 200

    if scenario == "register":
        path = f"/daftar/{job['slug']}"
        csrf = client.csrf_token(path)
        fields = dict(job["form"])
        fields["csrf_token"] = csrf

        def register(seq: int) -> bool:
            fields["phone"] = f"0{job['phone_base'] + seq}"
            fields["name"] = f"Peserta Uji {seq}"
            return client.request("POST", path, urlencode(fields))[0] == 302

        return client, register
    raise SystemExit(f"unknown scenario {scenario!r}")


def run(job: dict) -> dict:
    concurrency, total = job["concurrency"], job["requests"]
    counter = itertools.count()  # next() is atomic under the GIL
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    failures: list[str] = []
    ready = threading.Barrier(concurrency + 1)
    clients: list = [None] * concurrency

    def user(index: int) -> None:
        try:
            clients[index] = _setup(job, index)
        except Exception as error:
            failures.append(f"user {index}: {error}")
        ready.wait()
        if clients[index] is None:
            return
        _, one_request = clients[index]
        mine, clock = latencies[index], time.perf_counter
        while (seq := next(counter)) < total:
            started = clock()
            try:
                ok = one_request(seq)
            except (OSError, http.client.HTTPException):
                ok = False
            mine.append(clock() - started)
            if not ok:
                errors[index] += 1

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    server_before = server_cpu(job["server_pid"])
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    server_after = server_cpu(job["server_pid"])
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "latencies": [value for per_user in latencies for value in per_user],
        "errors": sum(errors),
        "failures": failures,
        "wall": wall,
        "client_cpu": (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime),
        "server_cpu": server_after - server_before,
    }


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
