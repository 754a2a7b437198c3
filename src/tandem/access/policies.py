"""The effective rights of one user: their roles' access rules combined, computed once per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tandem.access.models import AccessPolicy, BookScope
from tandem.users.roles import Role, user_roles

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User

# What a role may do until an admin changes it (Settings → Access rules).
DEFAULT_POLICIES: dict[Role, dict[str, Any]] = {
    Role.CS_MANAGER: {
        "view_accounts": BookScope.ALL,
        "change_accounts": BookScope.ALL,
        "see_contract_values": True,
        "change_commercial": True,
        "manage_configuration": True,
    },
    Role.CSM: {
        "view_accounts": BookScope.ALL,
        "change_accounts": BookScope.OWN,
        "see_contract_values": False,
        "change_commercial": False,
        "manage_configuration": False,
    },
    Role.ACCOUNT_MANAGER: {
        "view_accounts": BookScope.ALL,
        "change_accounts": BookScope.OWN,
        "see_contract_values": True,
        "change_commercial": True,
        "manage_configuration": False,
    },
    Role.READ_ONLY: {
        "view_accounts": BookScope.ALL,
        "change_accounts": BookScope.NONE,
        "see_contract_values": False,
        "change_commercial": False,
        "manage_configuration": False,
    },
}
CONFIGURABLE_ROLES = tuple(DEFAULT_POLICIES)

# Wider first: combining two roles keeps the wider scope.
_SCOPE_ORDER = [BookScope.NONE, BookScope.OWN, BookScope.TEAM, BookScope.ALL]


def _wider(a: str, b: str) -> str:
    return a if _SCOPE_ORDER.index(BookScope(a)) >= _SCOPE_ORDER.index(BookScope(b)) else b


@dataclass(frozen=True)
class Rights:
    """What one user may do. ``book_owner_ids`` is who owns the user's book (themselves, or their teams)."""

    user_id: int | None
    is_admin: bool
    view_accounts: str
    change_accounts: str
    see_contract_values: bool
    change_commercial: bool
    manage_configuration: bool
    team_member_ids: frozenset[int]

    @property
    def can_write(self) -> bool:
        return self.is_admin or self.change_accounts != BookScope.NONE

    def owner_ids(self, scope: str) -> frozenset[int] | None:
        """Owner ids a scope covers; None means every account."""
        if self.is_admin or scope == BookScope.ALL:
            return None
        if scope == BookScope.TEAM:
            return self.team_member_ids | ({self.user_id} if self.user_id else set())
        if scope == BookScope.OWN and self.user_id:
            return frozenset({self.user_id})
        return frozenset()


NO_RIGHTS = Rights(None, False, BookScope.NONE, BookScope.NONE, False, False, False, frozenset())
ADMIN_RIGHTS = Rights(None, True, BookScope.ALL, BookScope.ALL, True, True, True, frozenset())


def policy_values(role: Role) -> dict[str, Any]:
    """A role's rule as stored, or its default when an admin has not changed it."""
    values = dict(DEFAULT_POLICIES[role])
    stored = AccessPolicy.objects.filter(role=role.value).values(*values).first()
    if stored:
        values.update(stored)
    return values


def rights_for(user: User | AnonymousUser | None) -> Rights:
    """The user's rights, cached on the user object for the rest of the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_RIGHTS
    cached: Rights | None = getattr(user, "_tandem_rights", None)
    if cached is not None:
        return cached
    roles = [Role.ADMIN] if user.is_superuser else user_roles(user)
    if Role.ADMIN in roles:
        rights = Rights(user.pk, True, BookScope.ALL, BookScope.ALL, True, True, True, frozenset())
    else:
        stored = {p.role: p for p in AccessPolicy.objects.filter(role__in=[r.value for r in roles])}
        view, change = BookScope.NONE.value, BookScope.NONE.value
        values, commercial, configuration = False, False, False
        for role in roles:
            policy = DEFAULT_POLICIES[role] | (
                {f: getattr(stored[role.value], f) for f in DEFAULT_POLICIES[role]} if role.value in stored else {}
            )
            view = _wider(view, policy["view_accounts"])
            change = _wider(change, policy["change_accounts"])
            values = values or bool(policy["see_contract_values"])
            commercial = commercial or bool(policy["change_commercial"])
            configuration = configuration or bool(policy["manage_configuration"])
        # One can only change what one can see.
        if _SCOPE_ORDER.index(BookScope(change)) > _SCOPE_ORDER.index(BookScope(view)):
            change = view
        team_ids: frozenset[int] = frozenset()
        if BookScope.TEAM in (view, change):
            from tandem.access.models import Team

            team_ids = frozenset(
                Team.members.through.objects.filter(team__members=user).values_list("user_id", flat=True)
            )
        rights = Rights(user.pk, False, view, change, values, commercial, configuration, team_ids)
    user.__dict__["_tandem_rights"] = rights  # the request's user object carries it to the end of the request
    return rights


def rights_forget(user: Any) -> None:
    """Drop the cached rights (after a role or rule change in the same request)."""
    if hasattr(user, "_tandem_rights"):
        del user._tandem_rights
