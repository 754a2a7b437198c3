"""Writes to the access rules and teams. Only admins reach these (the views and API check first)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from tandem.access.models import AccessPolicy, BookScope, Team
from tandem.access.policies import CONFIGURABLE_ROLES, DEFAULT_POLICIES
from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.core.services import model_assign, model_save, model_validate
from tandem.users.models import User
from tandem.users.roles import Role

POLICY_FIELDS = ("view_accounts", "change_accounts", "see_contract_values", "change_commercial", "manage_configuration")


@write_service
def access_policy_update(*, role: str, data: Mapping[str, Any], acting_user: User | None) -> AccessPolicy:
    """Change one role's access rule; fields not given keep their current value."""
    try:
        parsed = Role(role)
    except ValueError:
        parsed = None
    if parsed not in CONFIGURABLE_ROLES:
        raise DomainError(_("Invalid access rule."), [FieldError("role", _("Admins always have every right."))])
    assert parsed is not None
    policy = AccessPolicy.objects.select_for_update().filter(role=parsed.value).first()
    if policy is None:
        policy = AccessPolicy(role=parsed.value, **DEFAULT_POLICIES[parsed])
    model_assign(policy, data=dict(data), fields=POLICY_FIELDS)
    if policy.view_accounts == BookScope.NONE:
        raise DomainError(
            _("Invalid access rule."), [FieldError("view_accounts", _("Every role sees at least its own book."))]
        )
    message = _("Invalid access rule.")
    model_validate(policy, message=message)
    model_save(policy, message=message)
    return policy


@write_service
def team_save(*, team: Team | None, name: str, members: Iterable[User], acting_user: User | None) -> Team:
    """Create or rename a team and set its members."""
    team = team or Team()
    model_assign(team, data={"name": name.strip()}, fields=("name",))
    message = _("Invalid team.")
    model_validate(team, message=message)
    model_save(team, message=message)
    team.members.set(list(members))
    return team


@write_service
def team_delete(*, team: Team, acting_user: User | None) -> None:
    team.delete()
