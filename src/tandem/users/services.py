"""Writes on users: creation with roles, API tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.audit.context import write_service
from tandem.audit.services import audit_bulk_update
from tandem.core.errors import DomainError, FieldError, field_errors_from_validation
from tandem.users.models import ApiToken, User
from tandem.users.roles import Role, sync_role_groups

TOKEN_PREFIX = "tdm_"


@write_service
def user_create(
    *,
    acting_user: User | None,
    username: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    roles: Iterable[Role | str] = (),
    validate: bool = True,
) -> User:
    """Create a user with the given roles. Admins become superusers and staff."""
    parsed_roles: list[Role] = []
    for raw in roles:
        try:
            parsed_roles.append(Role(raw))
        except ValueError:
            valid = ", ".join(r.value for r in Role)
            raise DomainError(
                _("Unknown role."),
                [
                    FieldError(
                        "roles",
                        _("'%(role)s' is not one of: %(valid)s") % {"role": raw, "valid": valid},
                    )
                ],
            ) from None
    if User.objects.filter(username=username).exists():
        raise DomainError(
            _("User exists."),
            [FieldError("username", _("A user with that username already exists."))],
        )
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password is None:
        user.set_unusable_password()
    else:
        if validate:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise DomainError(_("Weak password."), [FieldError("password", m) for m in exc.messages]) from None
        user.set_password(password)
    if Role.ADMIN in parsed_roles:
        user.is_staff = True
        user.is_superuser = True
    try:
        user.full_clean()
    except ValidationError as exc:
        raise DomainError(_("Invalid user."), field_errors_from_validation(exc)) from None
    user.save()
    if parsed_roles:
        sync_role_groups()
        user.groups.set(Group.objects.filter(name__in=[r.group_name for r in parsed_roles]))
    return user


@write_service
def api_token_create(*, acting_user: User | None, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its secret, which is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=ApiToken.digest_for(secret),
    )
    return token, secret


def api_token_authenticate(*, secret: str) -> User | None:
    """Return the active user owning a live token, stamping its last use (at most once a minute)."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_for(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@write_service
def api_token_revoke(*, acting_user: User | None, token: ApiToken) -> None:
    """Stop a token working at once; revoking it twice keeps the first date."""
    audit_bulk_update(
        queryset=ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True),
        values={"revoked_at": timezone.now()},
        account_field=None,
    )


@write_service
def user_set_preferred_language(*, acting_user: User | None, user: User, language: str) -> User:
    """Remember the language a user picked so it follows them to other browsers."""
    codes = {code for code, _name in settings.LANGUAGES}
    if language not in codes:
        raise DomainError(
            _("Unknown language."), [FieldError("language", _("'%(code)s' is not offered.") % {"code": language})]
        )
    if user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
    return user
