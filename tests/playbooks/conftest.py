"""Real outside services for the playbook tests: an SMTP server (aiosmtpd) and a webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        from email import message_from_bytes

        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings) -> Iterator[Inbox]:
    """A real SMTP server on a free loopback port; TANDEM_SMTP_* point at it."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    settings.TANDEM_SMTP_HOST = "127.0.0.1"
    settings.TANDEM_SMTP_PORT = controller.port
    settings.TANDEM_SMTP_FROM = "cs@tandem.test"
    try:
        yield inbox
    finally:
        controller.stop()


class Hook:
    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.url = ""


@pytest.fixture
def webhook(settings) -> Iterator[Hook]:
    """An HTTP server on loopback that records JSON POSTs, like a Slack incoming webhook.

    Outbound requests refuse loopback addresses (tandem.core.outbound), so 127.0.0.1 is allowed.
    """
    settings.TANDEM_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.posts.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
