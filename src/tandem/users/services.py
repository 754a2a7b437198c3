"""Writes on users: creation with roles, API tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
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


def _parse_roles(roles: Iterable[Role | str]) -> list[Role]:
    parsed = []
    for raw in roles:
        try:
            parsed.append(Role(raw))
        except ValueError:
            valid = ", ".join(r.value for r in Role)
            raise DomainError(
                _("Unknown role."),
                [FieldError("roles", _("'%(role)s' is not one of: %(valid)s") % {"role": raw, "valid": valid})],
            ) from None
    return parsed


@write_service
def user_invite(
    *,
    acting_user: User | None,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    roles: Iterable[Role | str] = (),
    password: str | None = None,
) -> User:
    """Create a colleague with roles: with an initial password, or none (they set one with a link)."""
    parsed = _parse_roles(roles)
    errors = []
    # Checked before any query: PostgreSQL refuses a NUL character in a query parameter.
    for name, value in (("username", username), ("email", email), ("first_name", first_name), ("last_name", last_name)):
        if "\x00" in value:
            errors.append(FieldError(name, _("Null characters are not allowed.")))
    if errors:
        raise DomainError(_("Invalid user."), errors)
    if not username.strip():
        errors.append(FieldError("username", _("This field is required.")))
    else:
        try:
            UnicodeUsernameValidator()(username.strip())
        except ValidationError as exc:
            errors.append(FieldError("username", exc.messages[0]))
    if not parsed:
        errors.append(FieldError("roles", _("Choose at least one role.")))
    if email and User.objects.filter(email__iexact=email).exists():
        errors.append(FieldError("email", _("Another user has this email address.")))
    if errors:
        raise DomainError(_("Invalid user."), errors)
    return user_create(
        acting_user=acting_user,
        username=username.strip(),
        password=password or None,
        email=email,
        first_name=first_name,
        last_name=last_name,
        roles=parsed,
    )


@write_service
def user_update(
    *,
    acting_user: User | None,
    user: User,
    roles: Iterable[Role | str] | None = None,
    is_active: bool | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> User:
    """Change a colleague's roles, name or email, or (de)activate them; one cannot lock oneself out."""
    errors = []
    parsed = _parse_roles(roles) if roles is not None else None
    is_self = acting_user is not None and acting_user.pk == user.pk
    if is_self and is_active is False:
        errors.append(FieldError("is_active", _("You cannot deactivate yourself.")))
    if is_self and parsed is not None and Role.ADMIN not in parsed and user.is_superuser:
        errors.append(FieldError("roles", _("You cannot remove your own admin role.")))
    if parsed is not None and not parsed:
        errors.append(FieldError("roles", _("Choose at least one role.")))
    if email and User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        errors.append(FieldError("email", _("Another user has this email address.")))
    if errors:
        raise DomainError(_("Invalid user."), errors)
    for name, value in (("email", email), ("first_name", first_name), ("last_name", last_name)):
        if value is not None:
            setattr(user, name, value)
    if is_active is not None:
        user.is_active = is_active
    if parsed is not None:
        user.is_staff = user.is_superuser = Role.ADMIN in parsed
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise DomainError(_("Invalid user."), field_errors_from_validation(exc)) from None
    user.save()
    if parsed is not None:
        sync_role_groups()
        user.groups.set(Group.objects.filter(name__in=[r.group_name for r in parsed]))
    if is_active is False:  # a deactivated colleague's tokens stop working with them
        audit_bulk_update(
            queryset=ApiToken.objects.filter(user=user, revoked_at__isnull=True),
            values={"revoked_at": timezone.now()},
            account_field=None,
        )
    return user
