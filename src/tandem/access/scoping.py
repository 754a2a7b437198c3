"""The one way Tandem reads and checks customer data for a person: ``restrict`` and ``ensure``.

In the spirit of NetBox's ``RestrictedQuerySet.restrict(user, action)``: every page, API list and
detail, export, report and notification that reads customer data passes its queryset through
:func:`restrict`, and every write checks :func:`ensure` first. Which rows a person reaches follows
their roles' access rules (``policies.py``); a model not registered here is refused, so a new model
cannot be read around the rules by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from tandem.access.policies import Rights, rights_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User

M = TypeVar("M", bound=Model)


class Action(StrEnum):
    VIEW = "view"
    CHANGE = "change"
    DELETE = "delete"


class Kind(StrEnum):
    CUSTOMER = "customer"  # belongs to an account; the book rules apply
    COMMERCIAL = "commercial"  # customer data that changes money: also needs "changes commercial records"
    CONFIGURATION = "configuration"  # company-wide set-up: everyone sees it, managers change it
    QUOTA = "quota"  # a person's target: they and managers see it, managers change it
    PERSONAL = "personal"  # a person's own (tokens, preferences, notifications)
    ADMINISTRATION = "administration"  # users, teams, access rules, the audit log


@dataclass(frozen=True)
class ScopeRule:
    kind: Kind
    account_path: str | None = None  # "" for Account itself, "account" for a contact...
    owner_fields: tuple[str, ...] = ()  # a person named here reaches the row whatever the book
    person_field: str = "user"  # for PERSONAL and QUOTA rows
    # CUSTOMER rows that may have no account yet (logged email waiting to be assigned): without one,
    # the person named by this field and managers reach them; with one, the book rules apply.
    unassigned_owner: str | None = None


class AccessDenied(PermissionDenied):
    """Raised by ``ensure``; pages show the styled 403 page, the API a 403 problem."""


RULES: dict[str, ScopeRule] = {
    "accounts.Account": ScopeRule(Kind.CUSTOMER, ""),
    "accounts.Contact": ScopeRule(Kind.CUSTOMER, "account"),
    "accounts.ContactRole": ScopeRule(Kind.CUSTOMER, "contact__account"),
    "support.Ticket": ScopeRule(Kind.CUSTOMER, "account"),
    "timeline.Interaction": ScopeRule(Kind.CUSTOMER, "account", owner_fields=("author",)),
    "timeline.InteractionAttachment": ScopeRule(
        Kind.CUSTOMER, "interaction__account", owner_fields=("interaction__author",)
    ),
    "timeline.TimelineEvent": ScopeRule(Kind.CUSTOMER, "account"),
    "surveys.NpsResponse": ScopeRule(Kind.CUSTOMER, "account"),
    "comments.Comment": ScopeRule(Kind.CUSTOMER, "account", owner_fields=("author",)),
    "comments.Mention": ScopeRule(Kind.CUSTOMER, "comment__account"),
    "success.SuccessMilestone": ScopeRule(Kind.CUSTOMER, "account", owner_fields=("owner",)),
    "success.SuccessPlan": ScopeRule(Kind.CUSTOMER, "account"),
    "success.DesiredOutcome": ScopeRule(Kind.CUSTOMER, "plan__account"),
    "success.PlanShare": ScopeRule(Kind.CUSTOMER, "plan__account"),
    "success.PlanComment": ScopeRule(Kind.CUSTOMER, "share__plan__account"),
    "playbooks.CallToAction": ScopeRule(Kind.CUSTOMER, "account", owner_fields=("owner",)),
    "playbooks.CtaTask": ScopeRule(Kind.CUSTOMER, "cta__account", owner_fields=("assignee", "cta__owner")),
    "playbooks.OutboundEmail": ScopeRule(Kind.CUSTOMER, "account"),
    "health.HealthScoreCurrent": ScopeRule(Kind.CUSTOMER, "account"),
    "health.AccountHealth": ScopeRule(Kind.CUSTOMER, "account"),
    "risk.AccountRisk": ScopeRule(Kind.CUSTOMER, "account"),
    "metrics.MetricValue": ScopeRule(Kind.CUSTOMER, "account"),
    "ingest.TrackedUser": ScopeRule(Kind.CUSTOMER, "account"),
    "subscriptions.Subscription": ScopeRule(Kind.COMMERCIAL, "account"),
    "subscriptions.SubscriptionItem": ScopeRule(Kind.COMMERCIAL, "subscription__account"),
    "opportunities.Opportunity": ScopeRule(Kind.COMMERCIAL, "account", owner_fields=("owner",)),
    "opportunities.Quota": ScopeRule(Kind.QUOTA, person_field="owner"),
    "subscriptions.Product": ScopeRule(Kind.CONFIGURATION),
    "subscriptions.ExchangeRate": ScopeRule(Kind.CONFIGURATION),
    "opportunities.ChurnReason": ScopeRule(Kind.CONFIGURATION),
    "opportunities.RenewalPolicy": ScopeRule(Kind.CONFIGURATION),
    "playbooks.Rule": ScopeRule(Kind.CONFIGURATION),
    "playbooks.Playbook": ScopeRule(Kind.CONFIGURATION),
    "playbooks.PlaybookStep": ScopeRule(Kind.CONFIGURATION),
    "playbooks.EmailTemplate": ScopeRule(Kind.CONFIGURATION),
    "playbooks.EmailTemplateVersion": ScopeRule(Kind.CONFIGURATION),
    "playbooks.WorkPool": ScopeRule(Kind.CONFIGURATION),
    "health.Scorecard": ScopeRule(Kind.CONFIGURATION),
    "health.ScorecardMeasure": ScopeRule(Kind.CONFIGURATION),
    "metrics.MetricDefinition": ScopeRule(Kind.CONFIGURATION),
    "traits.TraitDefinition": ScopeRule(Kind.CONFIGURATION),
    "segments.Segment": ScopeRule(Kind.CONFIGURATION),
    "success.PlanTemplate": ScopeRule(Kind.CONFIGURATION),
    "segments.SegmentMembership": ScopeRule(Kind.CUSTOMER, "account"),
    "ingest.Source": ScopeRule(Kind.CONFIGURATION),
    "users.ApiToken": ScopeRule(Kind.PERSONAL),
    "notifications.Notification": ScopeRule(Kind.PERSONAL),
    "notifications.NotificationPreference": ScopeRule(Kind.PERSONAL),
    "meetings.Meeting": ScopeRule(Kind.CUSTOMER, "account", owner_fields=("organizer",)),
    "meetings.CalendarFeed": ScopeRule(Kind.PERSONAL),
    "meetings.CalDavSettings": ScopeRule(Kind.PERSONAL),
    "meetings.CalDavEvent": ScopeRule(Kind.PERSONAL, person_field="calendar__user"),
    "users.User": ScopeRule(Kind.ADMINISTRATION),
    "access.AccessPolicy": ScopeRule(Kind.ADMINISTRATION),
    "access.Team": ScopeRule(Kind.ADMINISTRATION),
    "audit.AuditEntry": ScopeRule(Kind.ADMINISTRATION),
    "webhooks.Endpoint": ScopeRule(Kind.ADMINISTRATION),
    "webhooks.Delivery": ScopeRule(Kind.ADMINISTRATION),
    "maillog.MailAddress": ScopeRule(Kind.PERSONAL),
    "maillog.LoggedEmail": ScopeRule(Kind.CUSTOMER, "account", unassigned_owner="user"),
    "maillog.MailAttachment": ScopeRule(Kind.CUSTOMER, "email__account", unassigned_owner="email__user"),
}


def rule_for(model: type[Model]) -> ScopeRule:
    rule = RULES.get(model._meta.label)
    if rule is None:
        raise LookupError(f"{model._meta.label} has no access rule in tandem/access/scoping.py")
    return rule


def _book_q(rights: Rights, scope: str, path: str) -> Q | None:
    """Rows whose account is in the scope's book; None means no restriction."""
    owners = rights.owner_ids(scope)
    if owners is None:
        return None
    prefix = f"{path}__" if path else ""
    if not owners:
        return Q(pk__in=[])
    return Q(**{f"{prefix}csm_owner_id__in": owners}) | Q(**{f"{prefix}am_owner_id__in": owners})


def _owner_q(rule: ScopeRule, rights: Rights) -> Q:
    q = Q(pk__in=[])
    for name in rule.owner_fields:
        q |= Q(**{f"{name}_id": rights.user_id})
    return q


def _unassigned_q(rule: ScopeRule, rights: Rights, action: Action, assigned: Q | None) -> Q | None:
    """Rows without an account: their owner's and managers'; rows with one: ``assigned`` (the book rules)."""
    assert rule.account_path and rule.unassigned_owner
    no_account = Q(**{f"{rule.account_path}__isnull": True})
    if action == Action.VIEW or rights.can_write:
        mine = (
            no_account
            if rights.manage_configuration
            else no_account & Q(**{f"{rule.unassigned_owner}_id": rights.user_id})
        )
    else:
        mine = Q(pk__in=[])
    has_account = ~no_account if assigned is None else ~no_account & assigned
    return has_account | mine


def scope_q(model: type[Model], *, rights: Rights, action: Action, include_assigned: bool = True) -> Q | None:
    """The filter a person's rights put on ``model`` for ``action``; None means every row.

    ``include_assigned=False`` leaves out rows the person reaches only because they are assigned to
    them (a CTA they own on an account outside their book): creating one must not be a way in.
    """
    rule = rule_for(model)
    if rights.is_admin:
        return None
    nothing = Q(pk__in=[])
    if rights.user_id is None:
        return nothing
    if rule.kind in (Kind.CUSTOMER, Kind.COMMERCIAL):
        assert rule.account_path is not None
        if action == Action.DELETE and not rights.manage_configuration:
            return nothing  # deleting customer data is for managers
        if action == Action.VIEW:
            scope = rights.view_accounts
        else:
            if rule.kind == Kind.COMMERCIAL and not rights.change_commercial:
                return nothing
            scope = rights.change_accounts
        book = _book_q(rights, scope, rule.account_path)
        if rule.unassigned_owner:
            return _unassigned_q(rule, rights, action, book)
        if book is None:
            return None
        if include_assigned and rule.owner_fields and (action == Action.VIEW or rights.can_write):
            return book | _owner_q(rule, rights)
        return book
    if rule.kind == Kind.CONFIGURATION:
        return None if action == Action.VIEW or rights.manage_configuration else nothing
    if rule.kind == Kind.QUOTA:
        if rights.manage_configuration:
            return None
        return Q(**{f"{rule.person_field}_id": rights.user_id}) if action == Action.VIEW else nothing
    if rule.kind == Kind.PERSONAL:
        return Q(**{f"{rule.person_field}_id": rights.user_id})
    return nothing  # administration: admins only


def restrict(queryset: QuerySet[M], *, user: User | AnonymousUser | None, action: Action = Action.VIEW) -> QuerySet[M]:
    """The rows of ``queryset`` this person may ``action``."""
    q = scope_q(queryset.model, rights=rights_for(user), action=action)
    return queryset if q is None else queryset.filter(q)


def restrict_list(rows: list[M], *, user: User | AnonymousUser | None, action: Action = Action.VIEW) -> list[M]:
    """Keep the rows of an already evaluated list this person may ``action`` (one query for the whole list)."""
    if not rows:
        return rows
    model = type(rows[0])
    q = scope_q(model, rights=rights_for(user), action=action)
    if q is None:
        return rows
    allowed = set(model._default_manager.filter(q, pk__in=[row.pk for row in rows]).values_list("pk", flat=True))
    return [row for row in rows if row.pk in allowed]


def can(user: User | AnonymousUser | None, action: Action, obj: Model) -> bool:
    """Whether this person may ``action`` this stored object."""
    rights = rights_for(user)
    q = scope_q(type(obj), rights=rights, action=action)
    if q is None:
        return True
    if q == Q(pk__in=[]):
        return False
    return type(obj)._default_manager.filter(q, pk=obj.pk).exists()


def can_model(user: User | AnonymousUser | None, action: Action, model: type[Model]) -> bool:
    """Whether this person may ``action`` at least some rows of ``model`` (to show or hide a form)."""
    q = scope_q(model, rights=rights_for(user), action=action)
    return q is None or q != Q(pk__in=[])


def ensure(user: User | AnonymousUser | None, action: Action, obj: Model) -> None:
    """Raise AccessDenied unless this person may ``action`` this object."""
    if not can(user, action, obj):
        raise AccessDenied(
            _("You may not %(action)s this %(object)s.")
            % {"action": ACTION_VERBS[action](), "object": obj._meta.verbose_name}
        )


def ensure_model(user: User | AnonymousUser | None, action: Action, model: type[Model]) -> None:
    if not can_model(user, action, model):
        raise AccessDenied(
            _("You may not %(action)s any %(object)s.")
            % {"action": ACTION_VERBS[action](), "object": model._meta.verbose_name}
        )


ACTION_VERBS: dict[Action, Any] = {
    Action.VIEW: lambda: _("see"),
    Action.CHANGE: lambda: _("change"),
    Action.DELETE: lambda: _("delete"),
}


def visible_accounts(user: User | AnonymousUser | None) -> QuerySet[Any]:
    """The accounts this person may see (a subquery for filtering anything by account)."""
    account = apps.get_model("accounts", "Account")
    return restrict(account.objects.all(), user=user)
