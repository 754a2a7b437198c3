from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tandem.webhooks.outbox import forget_active


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on loopback that records each POST and answers with the next queued status."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.TANDEM_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # the SSRF guard refuses loopback otherwise
    recv = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            recv.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            status = recv.statuses.pop(0) if recv.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"nope" if status >= 400 else b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recv.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tandem"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recv
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _fresh_endpoint_cache() -> Iterator[None]:
    forget_active()
    yield
    forget_active()
