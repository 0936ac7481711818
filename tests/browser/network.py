"""What a page really downloads, read from Chromium's own network events (DevTools protocol): the
bytes on the wire per response (headers and compressed body), whether it came from the cache, and
the emulated slow network and CPU of a cheap phone on mobile data."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import CDPSession, Page

# The field conditions (issue 13): "Slow 3G" at 400 kbps both ways with 400 ms of latency,
# and a CPU four times slower than this machine's.
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 / 8,
    "uploadThroughput": 400_000 / 8,
}
CPU_SLOWDOWN = 4
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@dataclass
class Response:
    path: str
    status: int = 0
    encoding: str = ""
    cached: bool = False
    bytes: int = 0  # on the wire: headers and (compressed) body; 0 from the cache


@dataclass
class Transfer:
    """Every response a page received since `watch`, by request id."""

    cdp: CDPSession
    responses: dict[str, Response] = field(default_factory=dict)
    websocket_messages: list[str] = field(default_factory=list)  # received, as text

    @classmethod
    def watch(cls, page: Page) -> Transfer:
        cdp = page.context.new_cdp_session(page)
        transfer = cls(cdp)
        cdp.on("Network.requestWillBeSent", transfer._request)
        cdp.on("Network.requestServedFromCache", transfer._from_cache)
        cdp.on("Network.responseReceived", transfer._response)
        cdp.on("Network.loadingFinished", transfer._finished)
        cdp.on("Network.webSocketFrameReceived", transfer._websocket_message)
        cdp.send("Network.enable")
        return transfer

    def emulate_slow_phone(self) -> None:
        self.cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})

    def clear(self) -> None:
        self.responses.clear()
        self.websocket_messages.clear()

    def _request(self, event: dict) -> None:
        url = urlsplit(event["request"]["url"])
        if url.scheme in ("http", "https"):
            self.responses[event["requestId"]] = Response(
                path=url.path + (f"?{url.query}" if url.query else "")
            )

    def _from_cache(self, event: dict) -> None:
        if event["requestId"] in self.responses:
            self.responses[event["requestId"]].cached = True

    def _response(self, event: dict) -> None:
        response = self.responses.get(event["requestId"])
        if response is not None:
            headers = {key.lower(): value for key, value in event["response"]["headers"].items()}
            response.status = event["response"]["status"]
            response.encoding = headers.get("content-encoding", "")
            response.cached = response.cached or event["response"].get("fromDiskCache", False)

    def _finished(self, event: dict) -> None:
        response = self.responses.get(event["requestId"])
        if response is not None:
            response.bytes = int(event["encodedDataLength"])

    def _websocket_message(self, event: dict) -> None:
        self.websocket_messages.append(event["response"]["payloadData"])

    @property
    def websocket_bytes(self) -> int:
        """The received WebSocket messages' payloads (frame headers, 2-4 bytes each, not counted)."""
        return sum(len(message.encode()) for message in self.websocket_messages)

    @property
    def total(self) -> int:
        return sum(response.bytes for response in self.responses.values())

    def from_network(self) -> list[Response]:
        return [response for response in self.responses.values() if not response.cached]

    def table(self) -> str:
        """For failure messages: one line per response."""
        return "\n".join(
            f"{response.bytes:>7} {response.status} {response.encoding or '-':>4} "
            f"{'cache' if response.cached else 'net  '} {response.path}"
            for response in self.responses.values()
        )
