"""Render deploy/nginx.conf.template into an nginx prefix directory.

    .venv/bin/python deploy/render.py --prefix /srv/bimtek/nginx --listen 127.0.0.1:8080 \
        --upstream 127.0.0.1:5001 --upstream 127.0.0.1:5002
    nginx -p /srv/bimtek/nginx -c /srv/bimtek/nginx/nginx.conf -e stderr -t   # check it
    nginx -p /srv/bimtek/nginx -c /srv/bimtek/nginx/nginx.conf -e stderr      # start it

From Python (tests): `write_nginx_config(prefix, listen=..., upstreams=[...])`. The committed
deploy/nginx.conf is this template rendered with the defaults below (a test keeps them equal).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
TEMPLATE = DEPLOY / "nginx.conf.template"
EXAMPLE = DEPLOY / "nginx.conf"
PROJECT_STATIC = DEPLOY.parent / "static"

# The committed example: two web processes, nginx on 8080, the app checked out in /srv/bimtek.
EXAMPLE_SETTINGS = {
    "listen": "127.0.0.1:8080",
    "upstreams": ["127.0.0.1:5001", "127.0.0.1:5002"],
    "static_root": "/srv/bimtek/static",
    "open_files": 65536,
}
DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # as MAX_UPLOAD_BYTES in workshop/config.py
# Every other body: the app takes at most MAX_BODY_BYTES (64 KiB), and 512 KiB for the scanner's
# offline batch; nginx stops anything beyond 1 MiB before it reaches a web process.
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
FORM_HEADROOM_BYTES = 1024 * 1024
# Sticky balancing only: long-polling needs every request of a session at the same process.
# ip_hash keys on the first three bytes of an IPv4 address; `hash $remote_addr consistent` on the
# whole address (and moves fewer clients when a process is added or removed).
BALANCES = ("ip_hash", "hash $remote_addr consistent")
MAX_WORKER_CONNECTIONS = 16384  # per nginx worker; a proxied socket takes two
MAX_OPEN_FILES = 65536
INSTALL_HINT = "nginx is needed: run 'apt-get install nginx' (scripts/test.sh does it as root)."

_PLACEHOLDER = re.compile(r"\{\{ (\w+) \}\}")
_ADDRESS = re.compile(r"^(unix:/\S+|[\w.\-\[\]:]+:\d{1,5})$")


def render_nginx_config(
    *,
    listen: str,
    upstreams: Sequence[str],
    static_root: str | Path = PROJECT_STATIC,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    balance: str = "ip_hash",
    server_name: str = "_",
    open_files: int | None = None,
) -> str:
    """The nginx configuration for web processes at `upstreams` ("host:port" or "unix:/path"),
    listening on `listen` ("port" or "host:port"). `open_files` per nginx worker defaults to this
    machine's hard limit (at most 65536): nginx cannot raise it beyond that."""
    if open_files is None:
        open_files = default_open_files()
    if not upstreams:
        raise ValueError("at least one upstream web process is needed")
    for address in upstreams:
        if not _ADDRESS.match(address):
            raise ValueError(f"an upstream must be host:port or unix:/path, not {address!r}")
    if not re.fullmatch(r"([\w.\-\[\]:]+:)?\d{1,5}", listen):
        raise ValueError(f"listen must be a port or host:port, not {listen!r}")
    if balance not in BALANCES:
        raise ValueError(f"balance must be one of {BALANCES} (sticky), not {balance!r}")
    static = str(static_root).rstrip("/")
    if not static.startswith("/") or any(char in static for char in " ;{}'\""):
        raise ValueError(f"the static root must be an absolute path without spaces, not {static!r}")
    if max_upload_bytes <= 0 or max_request_bytes <= 0:
        raise ValueError("max_upload_bytes and max_request_bytes must be positive")
    if open_files < 256:
        raise ValueError("open_files must be at least 256")
    values = {
        "worker_rlimit_nofile": str(open_files),
        "worker_connections": str(min(MAX_WORKER_CONNECTIONS, open_files)),
        "listen": listen,
        "server_name": server_name,
        "balance": balance,
        "upstream_servers": "\n".join(
            f"        server {address} max_fails=1 fail_timeout=10s;" for address in upstreams
        ),
        "static_root": static,
        "client_max_body_size": f"{-(-max_request_bytes // 1024)}k",
        "upload_body_size": f"{-(-(max_upload_bytes + FORM_HEADROOM_BYTES) // 1024)}k",
    }

    def fill(match: re.Match) -> str:
        return values[match.group(1)]

    return _PLACEHOLDER.sub(fill, TEMPLATE.read_text(encoding="utf-8"))


def default_open_files() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(MAX_OPEN_FILES, hard)


def write_nginx_config(prefix: str | Path, **settings) -> Path:
    """Render into `prefix`/nginx.conf (creating the directory); returns the file's path."""
    prefix = Path(prefix)
    prefix.mkdir(parents=True, exist_ok=True)
    target = prefix / "nginx.conf"
    target.write_text(render_nginx_config(**settings), encoding="utf-8")
    return target


def nginx_command(prefix: str | Path, *extra: str) -> list[str]:
    """The command that runs nginx with the configuration in `prefix` (add "-t" to check it, or
    "-g", "daemon off;" to keep it in the foreground)."""
    prefix = Path(prefix).resolve()
    return [find_nginx(), "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", "stderr", *extra]


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )
    if found is None:
        raise RuntimeError(INSTALL_HINT)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write an nginx configuration for Bimtek Hybrid.")
    parser.add_argument("--prefix", type=Path, help="nginx prefix directory: writes PREFIX/nginx.conf")
    parser.add_argument(
        "--listen", default="127.0.0.1:8080", help="port or host:port (default 127.0.0.1:8080)"
    )
    parser.add_argument(
        "--upstream", action="append", required=True, help="a web process, host:port or unix:/path (repeat)"
    )
    parser.add_argument("--static-root", default=str(PROJECT_STATIC), help="the app's static/ directory")
    parser.add_argument(
        "--max-upload-bytes",
        type=int,
        default=int(os.environ.get("MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD_BYTES),
        help="MAX_UPLOAD_BYTES of the app (default: from the environment, else 5 MiB)",
    )
    parser.add_argument(
        "--max-request-bytes",
        type=int,
        default=DEFAULT_MAX_REQUEST_BYTES,
        help="largest body of any other request (default 1 MiB: above the app's own caps)",
    )
    parser.add_argument("--balance", choices=BALANCES, default="ip_hash")
    parser.add_argument("--server-name", default="_")
    parser.add_argument(
        "--open-files",
        type=int,
        help="worker_rlimit_nofile (default: this machine's hard limit, at most 65536)",
    )
    args = parser.parse_args(argv)
    settings = {
        "listen": args.listen,
        "upstreams": args.upstream,
        "static_root": args.static_root,
        "max_upload_bytes": args.max_upload_bytes,
        "max_request_bytes": args.max_request_bytes,
        "balance": args.balance,
        "server_name": args.server_name,
        "open_files": args.open_files,
    }
    try:
        if args.prefix is None:
            sys.stdout.write(render_nginx_config(**settings))
        else:
            print(write_nginx_config(args.prefix, **settings))
    except ValueError as error:
        parser.error(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
