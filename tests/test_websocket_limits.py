"""What a stranger can make `python app.py` hold through a WebSocket: no message over Engine.IO's
limit (MAX_BODY_BYTES, 64 KiB), whatever a frame's header announces.

gevent-websocket alone read every byte a header announced before anyone could look at it: one
anonymous client announcing a 300 MiB frame took the process from 110 to 709 MiB. These tests
start the real server (as scripts/run.sh does) and talk to it over a raw socket: after the
handshake, the hostile frames are written by hand, since no WebSocket library sends a header that
lies about its length; honest fragments come from wsproto's frame writer.
"""

from __future__ import annotations

import contextlib
import struct
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsproto.frame_protocol import FrameProtocol

from tests import serving

LIMIT = 64 * 1024  # MAX_BODY_BYTES' default
MIB = 1024 * 1024
MESSAGE_TOO_BIG = 1009
OPEN_PATH = "/socket.io/?EIO=4&transport=websocket"
MASK = b"\x11\x22\x33\x44"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving.served(tmp_path_factory.mktemp("websocket-limits")) as started:
        yield started


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    with serving.served(tmp_path_factory.mktemp("websocket-limits-gunicorn"), serving.GUNICORN) as started:
        yield started


def _engineio_socket(base_url: str) -> serving.WebSocket:
    """An anonymous WebSocket past its Engine.IO open packet: nothing needs a login this far."""
    ws = serving.WebSocket(base_url.replace("http://", "ws://") + OPEN_PATH, {"Origin": base_url})
    assert ws.receive().startswith("0{")
    return ws


def _header(opcode: int, length: int, *, fin: bool = True, flags: int = 0, masked: bool = True) -> bytes:
    first = (0x80 if fin else 0) | flags | opcode
    mask_bit = 0x80 if masked else 0
    if length < 126:
        sized = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        sized = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        sized = struct.pack("!BBQ", first, mask_bit | 127, length)
    return sized + (MASK if masked else b"")


def _send_quietly(ws: serving.WebSocket, data: bytes) -> None:
    """Write what the server may already have stopped reading (it closed: a reset is expected)."""
    with contextlib.suppress(OSError):
        ws.sock.settimeout(5)
        ws.sock.sendall(data)


def _close_code(ws: serving.WebSocket, timeout: float = 10) -> int | None:
    """The code of the server's close frame; None if it only dropped the connection."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.receive(timeout=deadline - time.monotonic())
    except TimeoutError:
        pass
    except ConnectionError as closed:
        words = str(closed).split()
        return int(words[2]) if str(closed).startswith("WebSocket closed:") else None
    except OSError:
        return None
    raise AssertionError(f"the server kept the WebSocket open for {timeout} s")


def _still_serves(process: subprocess.Popen, base_url: str) -> None:
    assert process.poll() is None
    assert serving.get_json(base_url + "/healthz")[0] == 200
    _, answer = serving.socketio_connect(
        base_url
    )  # another client's WebSocket: refused only for want of a login
    assert answer.startswith("44") and "login_required" in answer


@pytest.mark.parametrize("served_by", ["server", "gunicorn"])
def test_a_frame_announcing_300_mib_is_refused_before_its_payload_is_read(request, served_by):
    process, base_url = request.getfixturevalue(served_by)
    worker = serving.serving_pid(process)
    before = serving.rss_bytes(worker)
    ws = _engineio_socket(base_url)
    try:
        _send_quietly(ws, _header(0x1, 300 * MIB) + bytes(4 * MIB))
        assert _close_code(ws) == MESSAGE_TOO_BIG
    finally:
        ws.sock.close()
    assert serving.rss_bytes(worker) - before < 2 * MIB
    _still_serves(process, base_url)


def test_a_message_in_fragments_is_refused_once_they_pass_the_limit(server):
    process, base_url = server
    writer = FrameProtocol(client=True, extensions=[])
    ws = _engineio_socket(base_url)
    try:
        fragments = [writer.send_data("4" + "x" * (16 * 1024 - 1), fin=False)]
        fragments += [writer.send_data("x" * 16 * 1024, fin=False) for _ in range(4)]  # 80 KiB in all
        _send_quietly(ws, b"".join(fragments) + writer.send_data("x" * 16 * 1024 * 100, fin=False))
        assert _close_code(ws) == MESSAGE_TOO_BIG
    finally:
        ws.sock.close()
    _still_serves(process, base_url)


def test_a_message_of_exactly_the_limit_in_fragments_is_read_and_the_socket_goes_on(server):
    process, base_url = server
    writer = FrameProtocol(client=True, extensions=[])
    ws = _engineio_socket(base_url)
    try:
        # An Engine.IO pong ("3") with a body the server ignores, in four fragments, a ping between.
        body = "3" + "x" * (LIMIT - 1)
        quarters = [body[i : i + LIMIT // 4] for i in range(0, LIMIT, LIMIT // 4)]
        ws.sock.sendall(writer.send_data(quarters[0], fin=False) + writer.ping(b"?"))
        ws.sock.sendall(b"".join(writer.send_data(part, fin=part is quarters[-1]) for part in quarters[1:]))
        ws.sock.sendall(writer.send_data("40", fin=True))  # then connect to the main namespace
        answer = ws.receive()
        assert answer.startswith("44") and "login_required" in answer
    finally:
        ws.close()
    _still_serves(process, base_url)


FRAMES = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=15),  # opcode: reserved ones too
        st.sampled_from([0, 0x40, 0x20, 0x10]),  # reserved bits
        st.booleans(),  # fin
        st.booleans(),  # masked
        st.one_of(
            st.integers(min_value=0, max_value=125),
            st.integers(min_value=126, max_value=LIMIT + 1),
            st.integers(min_value=LIMIT + 2, max_value=(1 << 63) - 1),
        ),  # the length announced
        st.integers(min_value=0, max_value=4096),  # the bytes then sent
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=FRAMES)
def test_any_frames_leave_the_server_serving_others_and_holding_no_more(server, frames):
    process, base_url = server
    before = serving.rss_bytes(process.pid)
    ws = _engineio_socket(base_url)
    try:
        for opcode, flags, fin, masked, announced, sent in frames:
            _send_quietly(ws, _header(opcode, announced, fin=fin, flags=flags, masked=masked) + bytes(sent))
    finally:
        ws.sock.close()
    _still_serves(process, base_url)
    assert serving.rss_bytes(process.pid) - before < 4 * MIB
