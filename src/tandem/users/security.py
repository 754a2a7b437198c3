"""Who is on the other end of a login attempt: the client address that django-axes counts failures by."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the one the outermost of TANDEM_PROXY_COUNT proxies saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with N trusted
    proxies the N-th entry from the right was written by the first of them and is the client; anything
    further left came from the client itself and could be forged (the same rule as Werkzeug's ProxyFix).
    """
    count = settings.TANDEM_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
