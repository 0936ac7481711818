"""A lean Engine.IO v4 / Socket.IO v5 client over aiohttp websockets, for load tests.

One asyncio process holds thousands of these: each is one websocket (no HTTP long-polling first,
no upgrade: `GET /socket.io/?EIO=4&transport=websocket` with the session cookie), one reader task
and no timers. It speaks the text packets of the default namespace only:

- Engine.IO: open `0{...}`, ping `2` -> pong `3`, close `1`;
- Socket.IO: connect `40` -> `40{"sid": ...}` (or connect error `44{...}`), events `42[...]`
  (a server event asking for an ack, `42<id>[...]`, is answered `43<id>[]`), emit with an ack id
  `42<id>[...]` -> ack `43<id>[...]`, disconnect `41`.

Binary packets and namespaces other than "/" are not supported. Handlers get the event's first
argument and the `time.perf_counter()` at which the frame was read; events without a handler are
counted, not parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class ConnectError(RuntimeError):
    """The server refused the Socket.IO connection (a `44` packet) or the handshake failed."""


class Disconnected(ConnectionError):
    """The websocket closed while an ack was awaited."""


class SocketIOClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        cookie: str | None = None,
        compress: int = 0,
    ):
        """`base_url` is http://host:port; `cookie` the Cookie header (e.g. "session=..."), sent
        with the websocket handshake. `compress` 15 offers permessage-deflate, as browsers do."""
        self.http = http
        self.url = (
            base_url.replace("http://", "ws://", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        )
        self.headers = {"Cookie": cookie} if cookie else {}
        self.compress = compress
        self.handlers: dict[str, Callable[[Any, float], None]] = {}
        self.unhandled: dict[str, int] = {}
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.sid: str | None = None
        self.engine: dict = {}
        self.connected = False
        self.disconnect_reason: str | None = None
        self._acks: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._reader: asyncio.Task | None = None

    def on(self, event: str, handler: Callable[[Any, float], None]) -> None:
        self.handlers[event] = handler

    async def connect(self, timeout: float = 30.0, auth: dict | None = None) -> None:
        """Open the websocket and the default namespace; raise ConnectError if refused."""
        async with asyncio.timeout(timeout):
            self.ws = await self.http.ws_connect(
                self.url,
                headers=self.headers,
                autoping=True,
                max_msg_size=0,
                compress=self.compress,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
            )
            data = await self._receive_text()
            if not data.startswith("0"):
                raise ConnectError(f"expected an Engine.IO open packet, got {data[:80]!r}")
            self.engine = json.loads(data[1:])
            await self.ws.send_str("40" if auth is None else "40" + DUMPS(auth))
            while True:
                data = await self._receive_text()
                if data.startswith("2"):  # a ping can come before the namespace is open
                    await self.ws.send_str("3" + data[1:])
                elif data.startswith("40"):
                    self.sid = json.loads(data[2:]).get("sid") if len(data) > 2 else None
                    break
                elif data.startswith("44"):
                    detail = json.loads(data[2:]) if len(data) > 2 else {}
                    raise ConnectError(f"refused: {detail.get('message', detail)}")
                else:
                    raise ConnectError(f"unexpected packet during connect: {data[:80]!r}")
        self.connected = True
        self._reader = asyncio.create_task(self._read())

    async def _receive_text(self) -> str:
        assert self.ws is not None
        message = await self.ws.receive()
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectError(f"websocket {message.type.name} during connect ({message.data!r})")
        return message.data

    async def emit(self, event: str, data: Any = None) -> None:
        assert self.ws is not None
        await self.ws.send_str("42" + DUMPS([event, data]))

    async def call(self, event: str, data: Any, timeout: float) -> tuple[Any, float, float]:
        """Emit with an ack id and wait for the ack: (first ack argument, sent, received), the
        last two from time.perf_counter(). Raises TimeoutError or Disconnected."""
        assert self.ws is not None
        if not self.connected:
            raise Disconnected(self.disconnect_reason or "not connected")
        self._next_id += 1
        ack_id = self._next_id
        future = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        text = f"42{ack_id}" + DUMPS([event, data])
        sent = time.perf_counter()
        try:
            await self.ws.send_str(text)
            args, received = await asyncio.wait_for(future, timeout)
        finally:
            self._acks.pop(ack_id, None)
        return (args[0] if args else None), sent, received

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            if self.connected:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self.ws.send_str("41")
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
        self.connected = False

    async def _read(self) -> None:
        ws = self.ws
        assert ws is not None
        reason = "closed"
        try:
            async for message in ws:
                now = time.perf_counter()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    continue
                data: str = message.data
                kind = data[:1]
                if kind == "4":
                    answer = self._packet(data, now)
                    if answer == "41":
                        reason = "server disconnect"
                        break
                    if answer:
                        await ws.send_str(answer)
                elif kind == "2":
                    await ws.send_str("3" + data[1:])
                elif kind == "1":
                    reason = "engine.io close"
                    break
        except (ConnectionError, aiohttp.ClientError) as error:
            reason = f"{type(error).__name__}: {error}"
        finally:
            self.connected = False
            self.disconnect_reason = reason
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(Disconnected(reason))

    def _packet(self, data: str, now: float) -> str | None:
        """Handle one Socket.IO packet ("4" + type + [id] + JSON). Returns the packet to send
        back (an ack the server asked for), "41" on a disconnect, or None."""
        kind = data[1:2]
        start = 2
        if data[start : start + 1] == "/":  # another namespace: not ours
            return None
        end = start
        while end < len(data) and data[end].isdigit():
            end += 1
        ack_id = int(data[start:end]) if end > start else None
        body = data[end:]
        if kind == "2":
            name = body[2 : body.index('"', 2)] if body.startswith('["') else ""
            handler = self.handlers.get(name)
            if handler is None:
                self.unhandled[name] = self.unhandled.get(name, 0) + 1
            else:
                args = json.loads(body)
                handler(args[1] if len(args) > 1 else None, now)
            if ack_id is not None:
                return f"43{ack_id}[]"
        elif kind == "3" and ack_id is not None:
            future = self._acks.get(ack_id)
            if future is not None and not future.done():
                future.set_result((json.loads(body), now))
        elif kind == "1":
            return "41"
        return None
