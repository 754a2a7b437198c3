"""Reads on users."""

from __future__ import annotations

from tandem.users.models import User
from tandem.users.roles import Role, user_roles


def user_owner_choices() -> list[tuple[int, str]]:
    """Active users as (id, display name) pairs for owner pickers, in name order (one query)."""
    users = User.objects.filter(is_active=True).only("id", "username", "first_name", "last_name")
    return [(u.pk, str(u)) for u in users]


def user_sees_all_accounts(*, user: User) -> bool:
    """Admins and CS managers look at the whole book of business; others at the accounts they own."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Role.CS_MANAGER in user_roles(user)


def password_set_path(user: User) -> str:
    """The path where ``user`` sets a password (Django's reset token: valid until used or the password changes)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("users:set_password", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})


def user_list() -> list[User]:
    return list(User.objects.prefetch_related("groups").order_by("-is_active", "username"))
