"""Every HTTP request Tandem makes to a URL someone typed in: the guard against server-side request forgery.

A user who may save a webhook URL must not be able to make the server reach what only it can reach:
the cloud metadata service (169.254.169.254), the database, an admin port on loopback, the office
network. So a URL is refused unless its scheme is http or https and every address its host resolves
to is a public unicast address; IPv4 written in decimal, octal or hex and IPv4 inside IPv6 (mapped,
compatible, 6to4) are caught because the check looks at what the resolver returns, not at the text.

Checked twice: when the URL is saved (``outbound_url_validate``, a field error), and when a worker
sends (``outbound_request``). Sending goes through requests-hardened, which resolves the host once
more, refuses a non-public answer and connects to exactly that address (TLS still verifies the
name), so a DNS answer that changes after the check (rebinding) gains nothing. Redirects are never
followed by the HTTP client: ``outbound_request`` follows at most ``MAX_REDIRECTS`` itself, checking
each target like the first URL.

``TANDEM_OUTBOUND_ALLOWED_HOSTS`` lists host names (or literal addresses) an administrator allows
although they resolve to internal addresses, e.g. an on-premises chat server; tests allow 127.0.0.1
for their loopback receivers. Only the exact host is allowed, not what it redirects to.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_REDIRECTS = 3
MAX_BODY_BYTES = 64 * 1024  # what is kept of a response body: enough for an error message
DEFAULT_TIMEOUT = (5.0, 10.0)  # seconds to connect, seconds between bytes
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_6TO4 = ipaddress.ip_network("2002::/16")  # 2002:aabb:ccdd::/48 carries a.b.c.d
# Not "global" to Python in every version, or routed to internal workloads (CG-NAT, NAT64).
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in ("100.64.0.0/10", "192.0.0.0/24", "192.88.99.0/24", "64:ff9b::/96", "64:ff9b:1::/48", "fec0::/10")
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(Exception):
    """The URL may not be requested; ``message`` says why in the active language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class OutboundResponse:
    """What came back: the final URL after redirects, its status and the start of its body."""

    url: str
    status: int
    body: bytes


def address_is_public(ip: IPAddress) -> bool:
    """Whether ``ip`` is a public unicast address (IPv4 embedded in IPv6 is judged as that IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_is_public(ip.ipv4_mapped)
        if ip in _6TO4 and ip.sixtofour is not None and not address_is_public(ip.sixtofour):
            return False
        if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are judged as IPv6 below
            return address_is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version):
        return False
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def _allowed_hosts() -> set[str]:
    return {host.strip().lower().strip("[]").rstrip(".") for host in settings.TANDEM_OUTBOUND_ALLOWED_HOSTS}


def _resolve(host: str, port: int) -> list[IPAddress]:
    if "%" in host:  # an IPv6 literal with a zone (fe80::1%25eth0): only link-local addresses have one
        try:
            return [ipaddress.ip_address(host.split("%", 1)[0])]
        except ValueError:
            raise OutboundRefused(_("This is not a valid URL.")) from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise OutboundRefused(_("The host %(host)s cannot be resolved.") % {"host": host}) from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def outbound_url_check(url: str) -> str:
    """Refuse (``OutboundRefused``) a URL Tandem must not request; return it unchanged when it is fine.

    The host is resolved now, and every address it resolves to must be public, unless the host is
    in ``TANDEM_OUTBOUND_ALLOWED_HOSTS``.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise OutboundRefused(_("This is not a valid URL.")) from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise OutboundRefused(_("Only http and https URLs are allowed."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundRefused(_("The URL has no host."))
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused(_("The URL must not contain a user name or password."))
    if host in _allowed_hosts():
        return url
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    for ip in _resolve(host, port):
        if not address_is_public(ip):
            raise OutboundRefused(
                _("The host %(host)s is an internal address (%(address)s), which Tandem does not connect to.")
                % {"host": host, "address": ip}
            )
    return url


def outbound_url_validate(url: str) -> None:
    """A Django validator (models and forms): ``outbound_url_check`` as a ValidationError."""
    if not url:
        return
    try:
        outbound_url_check(url)
    except OutboundRefused as exc:
        raise ValidationError(exc.message, code="outbound_refused") from None


def _session(url: str) -> requests.Session:
    host = (urlsplit(url).hostname or "").rstrip(".")
    # An allowed host is reached wherever it resolves to; any other through the address filter.
    session = HTTPSession(
        Config(
            ip_filter_enable=host not in _allowed_hosts(),
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=DEFAULT_TIMEOUT,
            user_agent_override="Tandem",
        )
    )
    session.trust_env = False  # no proxies or .netrc from the environment: the filter sees the real host
    return session


def outbound_request(
    *,
    method: str,
    url: str,
    json: Any = None,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    max_redirects: int = MAX_REDIRECTS,
) -> OutboundResponse:
    """Send one request to a user-supplied URL, re-checking it and every redirect target.

    ``data`` sends these exact bytes (a signed body must arrive as it was signed); ``json`` lets
    requests serialise. Raises ``OutboundRefused`` for a refused URL or redirect target (or too many redirects) and
    ``requests.RequestException`` when the other end cannot be reached.
    """
    for _hop in range(max_redirects + 1):
        outbound_url_check(url)
        try:
            with _session(url) as session:
                response = session.request(
                    method, url, json=json, data=data, headers=dict(headers or {}), timeout=timeout, stream=True
                )
                body = b""
                for chunk in response.iter_content(chunk_size=8192):
                    body += chunk
                    if len(body) >= MAX_BODY_BYTES:
                        break
                response.close()
        except InvalidIPAddress as exc:  # the host re-resolved to an internal address (DNS rebinding)
            raise OutboundRefused(
                _("The host %(host)s is an internal address (%(address)s), which Tandem does not connect to.")
                % {"host": urlsplit(url).hostname, "address": exc}
            ) from None
        location = response.headers.get("Location")
        if response.status_code not in REDIRECT_STATUSES or not location:
            return OutboundResponse(url=url, status=response.status_code, body=body[:MAX_BODY_BYTES])
        if response.status_code == 303 or (response.status_code in {301, 302} and method.upper() == "POST"):
            method, json, data = "GET", None, None  # what browsers and requests do: the body is not sent on
        url = urljoin(url, location)
    raise OutboundRefused(_("More than %(count)s redirects.") % {"count": max_redirects})
