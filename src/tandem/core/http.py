"""Request types for views: what the middleware and the login checks guarantee, spelled out for mypy.

A view behind ``login_required`` (or a ninja operation behind the API's authentication) always
has a :class:`~tandem.users.models.User` as ``request.user``, never ``AnonymousUser``; every
request has ``request.htmx`` (``django_htmx.middleware.HtmxMiddleware``). These classes are never
instantiated: they only annotate the ``request`` parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from tandem.users.models import User


class HtmxHttpRequest(HttpRequest):
    """Any request that went through the middleware."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request of a logged-in user (a view behind ``login_required``, an authenticated API call)."""

    user: User
