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
