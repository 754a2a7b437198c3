"""The five roles of Tandem, kept as Django auth groups with model permissions.

Admins are superusers. The CS manager can change everything in the customer database; CSMs and
account managers change the customer records they work on; read-only users only view.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User


class Role(StrEnum):
    ADMIN = "admin"
    CS_MANAGER = "cs_manager"
    CSM = "csm"
    ACCOUNT_MANAGER = "account_manager"
    READ_ONLY = "read_only"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def group_name(self) -> str:
        return GROUP_NAMES[self]


ROLE_LABELS = {
    Role.ADMIN: pgettext_lazy("Tandem user role", "Admin"),
    Role.CS_MANAGER: _("CS manager"),
    Role.CSM: _("Customer success manager"),
    Role.ACCOUNT_MANAGER: _("Account manager"),
    Role.READ_ONLY: _("Read-only"),
}

# Group names are stored data, so they stay in English; labels are translated.
GROUP_NAMES = {
    Role.ADMIN: "Admin",
    Role.CS_MANAGER: "CS manager",
    Role.CSM: "CSM",
    Role.ACCOUNT_MANAGER: "Account manager",
    Role.READ_ONLY: "Read-only",
}

CUSTOMER_DATA_MODELS = [
    ("accounts", "account"),
    ("accounts", "contact"),
    ("accounts", "contactrole"),
    ("subscriptions", "product"),
    ("subscriptions", "subscription"),
    ("subscriptions", "subscriptionitem"),
    ("subscriptions", "exchangerate"),
    ("support", "ticket"),
    ("timeline", "interaction"),
]

# Which actions each role has on the customer data models.
ROLE_ACTIONS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: ("view", "add", "change", "delete"),
    Role.CS_MANAGER: ("view", "add", "change", "delete"),
    Role.CSM: ("view", "add", "change"),
    Role.ACCOUNT_MANAGER: ("view", "add", "change"),
    Role.READ_ONLY: ("view",),
}


def sync_role_groups() -> None:
    """Create the role groups and give each exactly its permissions. Idempotent."""
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.group_name)
        codenames = [f"{action}_{model}" for _app, model in CUSTOMER_DATA_MODELS for action in ROLE_ACTIONS[role]]
        apps = {app for app, _model in CUSTOMER_DATA_MODELS}
        perms = Permission.objects.filter(content_type__app_label__in=apps, codename__in=codenames)
        group.permissions.set(perms)


def sync_role_groups_after_migrate(sender: object, **kwargs: Any) -> None:  # signal receiver
    sync_role_groups()


def user_roles(user: User | AnonymousUser) -> list[Role]:
    if not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))
    roles = [role for role in Role if role.group_name in names]
    if user.is_superuser and Role.ADMIN not in roles:
        roles.insert(0, Role.ADMIN)
    return roles
