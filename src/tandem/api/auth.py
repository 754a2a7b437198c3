"""Who is calling: a personal API token (``Authorization: Bearer tdm_...``) or a browser session.

Permissions are Django model permissions, granted through the role groups in users/roles.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from tandem.users.models import User
from tandem.users.services import api_token_authenticate


class ApiTokenAuth(HttpBearer):
    """A personal API token. A token that is sent but unknown or revoked is a 401 straight away."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = api_token_authenticate(secret=token)
        if user is None:
            raise AuthenticationError(message=_("The API token is invalid or has been revoked."))
        request.user = user  # so permission checks read the same attribute for both schemes
        return user


class SessionAuth(APIKeyCookie):
    """The browser's Django session, CSRF-checked on unsafe methods.

    Unlike ninja's ``django_auth`` it checks CSRF only once a session user is found, so that a
    request with no credentials at all gets 401 rather than a CSRF 403.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if self.csrf and check_csrf(request) is not None:
            raise AuthorizationError(message=_("CSRF check failed: send the X-CSRFToken header."))
        return user


def require_perm(request: HttpRequest, perm: str) -> None:
    """403 unless the caller has the model permission ``perm`` (``app_label.codename``)."""
    if not request.user.has_perm(perm):
        raise AuthorizationError(message=_("You do not have the permission %(perm)s.") % {"perm": perm})
