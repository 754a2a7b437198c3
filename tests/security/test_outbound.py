"""The SSRF guard (tandem.core.outbound) against real HTTP receivers on loopback.

Loopback is an internal address like any other, so each test allows exactly the receivers it means
to reach through TANDEM_OUTBOUND_ALLOWED_HOSTS and shows that everything else is refused.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from tandem.core.errors import DomainError
from tandem.core.outbound import OutboundRefused, address_is_public, outbound_request, outbound_url_check
from tandem.notifications.models import Notification, NotificationPreference
from tandem.notifications.services import notification_deliver, preference_update
from tandem.users.services import user_create

pytestmark = pytest.mark.audit_via("fixture")


class Receiver:
    """An HTTP server on 127.0.0.1: records requests; ``redirects`` maps a path to a Location."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        self.redirects: dict[str, tuple[int, str]] = {}
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            receiver.requests.append((self.command, self.path, self.rfile.read(length)))
            if self.path in receiver.redirects:
                status, location = receiver.redirects[self.path]
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def allow_loopback_ip(settings) -> None:
    settings.TANDEM_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


# --- which addresses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::7f00:1",  # IPv4-compatible ::127.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert address_is_public(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_are(address: str) -> None:
    assert address_is_public(ipaddress.ip_address(address)) is True


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/",
        "http://2130706433/",  # 127.0.0.1 in decimal
        "http://0177.0.0.1/",  # octal
        "http://0x7f.1/",  # hex, short form
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",  # 169.254.169.254, mapped and in hex
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "http://0.0.0.0:5432/",
        "http://[fe80::1%25eth0]/",
    ],
)
def test_urls_reaching_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(OutboundRefused, match="internal address"):
        outbound_url_check(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "Only http and https"),
        ("ftp://93.184.215.14/", "Only http and https"),
        ("gopher://93.184.215.14:70/", "Only http and https"),
        ("javascript:alert(1)", "Only http and https"),
        ("http:///path", "no host"),
        ("http://user:secret@93.184.215.14/", "user name or password"),
        ("http://93.184.215.14:99999/", "not a valid URL"),
        ("http://no-such-host.invalid/", "cannot be resolved"),
    ],
)
def test_other_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused, match=reason):
        outbound_url_check(url)


def test_a_public_address_passes() -> None:
    assert outbound_url_check("https://93.184.215.14/hooks/T0/B0") == "https://93.184.215.14/hooks/T0/B0"


def test_an_allowed_host_passes_but_only_that_exact_host(settings) -> None:
    settings.TANDEM_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1", "Chat.Internal.Example"]
    assert outbound_url_check("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"
    assert outbound_url_check("https://chat.internal.example/hook") == "https://chat.internal.example/hook"
    with pytest.raises(OutboundRefused):
        outbound_url_check("http://localhost:9/x")  # the same address under another name
    with pytest.raises(OutboundRefused, match="Only http and https"):
        outbound_url_check("ftp://127.0.0.1/")  # the scheme is still checked


# --- sending -----------------------------------------------------------------------------------


def test_an_allowed_receiver_gets_the_request(receiver: Receiver, allow_loopback_ip: None) -> None:
    response = outbound_request(method="POST", url=f"{receiver.url}/hook", json={"text": "hi"})
    assert (response.status, response.body) == (200, b"ok")
    assert [(m, p, json.loads(b)) for m, p, b in receiver.requests] == [("POST", "/hook", {"text": "hi"})]


def test_a_loopback_receiver_that_is_not_allowed_is_never_contacted(receiver: Receiver) -> None:
    with pytest.raises(OutboundRefused):
        outbound_request(method="POST", url=f"{receiver.url}/hook", json={"text": "hi"})
    assert receiver.requests == []


def test_a_redirect_to_a_refused_host_is_refused(receiver: Receiver, allow_loopback_ip: None) -> None:
    # The allowed receiver redirects to the same server under a name that is not allowed.
    receiver.redirects["/hook"] = (307, f"http://localhost:{receiver.port}/internal")
    with pytest.raises(OutboundRefused, match="internal address"):
        outbound_request(method="POST", url=f"{receiver.url}/hook", json={"text": "hi"})
    assert [p for _m, p, _b in receiver.requests] == ["/hook"]  # /internal never reached


def test_a_redirect_to_the_metadata_service_is_refused(receiver: Receiver, allow_loopback_ip: None) -> None:
    receiver.redirects["/hook"] = (302, "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(OutboundRefused, match=r"\(169\.254\.169\.254\)"):
        outbound_request(method="POST", url=f"{receiver.url}/hook", json={"text": "hi"})


def test_allowed_redirects_are_followed_a_few_times_then_refused(receiver: Receiver, allow_loopback_ip: None) -> None:
    receiver.redirects["/a"] = (307, "/b")
    receiver.redirects["/b"] = (308, f"{receiver.url}/c")
    response = outbound_request(method="POST", url=f"{receiver.url}/a", json={"n": 1})
    assert response.url == f"{receiver.url}/c" and response.status == 200
    assert [(m, p) for m, p, _b in receiver.requests] == [("POST", "/a"), ("POST", "/b"), ("POST", "/c")]

    receiver.requests.clear()
    receiver.redirects["/loop"] = (302, "/loop")
    with pytest.raises(OutboundRefused, match="More than 3 redirects"):
        outbound_request(method="GET", url=f"{receiver.url}/loop")
    assert len(receiver.requests) == 4  # the first request and three redirects


def test_dns_rebinding_after_the_check_is_refused_at_connect(receiver: Receiver, monkeypatch) -> None:
    """The name resolves to a public address for the check, then to loopback: no connection is made."""
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14", "127.0.0.1"])

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.example":
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(OutboundRefused, match="internal address"):
        outbound_request(method="POST", url=f"http://rebind.example:{receiver.port}/hook", json={"text": "hi"})
    assert receiver.requests == []


# --- where URLs are saved and used ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_preferences_form_names_the_field_of_a_refused_webhook_url() -> None:
    user = user_create(acting_user=None, username="dana", password="correct-horse-battery", roles=["csm"])
    client = Client()
    client.force_login(user)

    response = client.post(
        "/notifications/preferences/",
        {"slack_webhook_url": "http://169.254.169.254/latest/meta-data/", "daily_digest": "on"},
    )

    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == ["slack_webhook_url"]
    assert "internal address (169.254.169.254)" in form.errors["slack_webhook_url"][0]
    assert "internal address (169.254.169.254)" in response.content.decode()  # shown on the page
    assert not NotificationPreference.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_the_service_refuses_a_webhook_url_with_a_field_error() -> None:
    user = user_create(acting_user=None, username="dana", password="correct-horse-battery", roles=["csm"])
    with pytest.raises(DomainError) as refused:
        preference_update(
            acting_user=None, user=user, email=False, slack_webhook_url="http://[::ffff:10.0.0.1]/", daily_digest=True
        )
    assert [e.field for e in refused.value.errors] == ["slack_webhook_url"]
    assert not NotificationPreference.objects.filter(user=user).exclude(slack_webhook_url="").exists()  # not saved


@pytest.mark.django_db
def test_the_worker_refuses_a_stored_url_that_now_points_inside(receiver: Receiver) -> None:
    """A URL saved when it was fine (or written around the form) is checked again at send time."""
    user = user_create(acting_user=None, username="dana", password="correct-horse-battery", roles=["csm"])
    NotificationPreference.objects.create(user=user, slack_webhook_url=f"http://localhost:{receiver.port}/hook")
    Notification.objects.create(user=user, key="k", title="Hello")

    with pytest.raises(OutboundRefused):
        notification_deliver(user_id=user.pk, key="k")

    assert receiver.requests == []
    assert Notification.objects.get(key="k").slack_sent_at is None  # free to go out once fixed
