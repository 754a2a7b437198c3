"""Which models are audited, which of their fields, and how their rows name their account.

Computed tables (metric values, health and risk scores, the job queue, notifications) are not
audited: they are rebuilt from audited inputs every day and would drown the history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditlog.registry import auditlog
from auditlog.signals import pre_log
from django.apps import apps
from django.db import models
from django.db.models.signals import pre_save

from tandem.audit.context import current_scope, pending_account_id

# Timestamps that move on every save say nothing a reader needs.
NOISE_FIELDS = ("created_at", "updated_at", "last_login", "last_used_at")


@dataclass(frozen=True)
class AuditedModel:
    label: str
    account: Callable[[Any], int | None]
    exclude: Sequence[str] = ()
    mask: Sequence[str] = ()
    m2m: Sequence[str] = field(default_factory=tuple)


def _own(obj: Any) -> int | None:
    pk: int | None = obj.pk
    return pk


def _account_id(obj: Any) -> int | None:
    account_id: int | None = obj.account_id
    return account_id


def _via(relation: str) -> Callable[[Any], int | None]:
    def account_of(obj: Any) -> int | None:
        related = getattr(obj, relation, None)
        return getattr(related, "account_id", None)

    return account_of


def _none(obj: Any) -> int | None:
    return None


AUDITED: tuple[AuditedModel, ...] = (
    # Revenue and the renewal date are derived from the subscriptions (whose changes are audited).
    AuditedModel("accounts.Account", _own, exclude=("arr", "mrr", "arr_reporting", "mrr_reporting", "renewal_date")),
    AuditedModel("accounts.Contact", _account_id),
    AuditedModel("accounts.ContactRole", _via("contact")),
    AuditedModel("subscriptions.Product", _none),
    # MRR and ARR are the sum of the line items, audited themselves.
    AuditedModel("subscriptions.Subscription", _account_id, exclude=("mrr", "arr")),
    AuditedModel("subscriptions.SubscriptionItem", _via("subscription")),
    AuditedModel("subscriptions.ExchangeRate", _none),
    AuditedModel("support.Ticket", _account_id),
    AuditedModel("timeline.Interaction", _account_id, m2m=("contacts",)),
    AuditedModel("surveys.NpsResponse", _account_id),
    AuditedModel("success.SuccessMilestone", _account_id),
    AuditedModel("success.SuccessPlan", _account_id),
    AuditedModel("success.DesiredOutcome", _via("plan")),
    # Who shared the plan with whom, until when, and who revoked it; the views counter and the
    # one-time code are not changes anyone made.
    AuditedModel(
        "success.PlanShare",
        _via("plan"),
        exclude=("views", "last_viewed_at", "code_hash", "code_expires_at", "code_attempts", "key"),
    ),
    AuditedModel("traits.TraitDefinition", _none),
    AuditedModel("success.PlanTemplate", _none),
    # Members and the refresh day are computed by the daily pipeline (SegmentMembership keeps them).
    AuditedModel("segments.Segment", _none, exclude=("members", "refreshed_on")),
    AuditedModel("opportunities.Opportunity", _account_id),
    AuditedModel("opportunities.Quota", _none),
    AuditedModel("opportunities.ChurnReason", _none),
    AuditedModel("opportunities.RenewalPolicy", _none),
    AuditedModel("playbooks.CallToAction", _account_id),
    AuditedModel("playbooks.CtaTask", _via("cta")),
    AuditedModel("playbooks.Rule", _none),
    AuditedModel("playbooks.Playbook", _none),
    AuditedModel("playbooks.PlaybookStep", _none),
    AuditedModel("playbooks.EmailTemplate", _none),
    AuditedModel("playbooks.EmailTemplateVersion", _none),
    AuditedModel("playbooks.WorkPool", _none, m2m=("members",)),
    AuditedModel("health.Scorecard", _none),
    AuditedModel("health.ScorecardMeasure", _none),
    AuditedModel("metrics.MetricDefinition", _none),
    # The key's hash says nothing the prefix does not; the counters move with every drained call.
    AuditedModel(
        "ingest.Source",
        _none,
        exclude=("key_hash", "received_count", "rejected_count", "last_received_at"),
        mask=("secret_digest", "key_digest", "digest"),
    ),
    AuditedModel("notifications.NotificationPreference", _none, mask=("slack_webhook_url",)),
    AuditedModel("users.User", _none, exclude=("password",), m2m=("groups",)),
    AuditedModel("users.ApiToken", _none, exclude=("digest",)),
    AuditedModel("access.AccessPolicy", _none),
    AuditedModel("comments.Comment", _account_id),
    AuditedModel("webhooks.Endpoint", _none, mask=("secret", "url")),
    AuditedModel("meetings.Meeting", _account_id, m2m=("contacts", "colleagues")),
    # The feed token is the feed's password; the sync stamps move with every sync.
    AuditedModel("meetings.CalendarFeed", _none, mask=("token",)),
    AuditedModel(
        "meetings.CalDavSettings", _none, exclude=("last_synced_at", "last_error"), mask=("password_encrypted",)
    ),
    # The token is the BCC address: whoever reads the history must not be able to log mail as its owner.
    AuditedModel("maillog.MailAddress", _none, mask=("token",)),
    AuditedModel("maillog.LoggedEmail", _account_id, exclude=("text_body",), m2m=("contacts",)),
    AuditedModel("maillog.MailAttachment", _via("email")),
)

_ACCOUNT_OF: dict[type[models.Model], Callable[[Any], int | None]] = {}


def _existing_fields(model: type[models.Model], names: Iterable[str]) -> list[str]:
    present = {f.name for f in model._meta.get_fields()}
    return [name for name in names if name in present]


def register_audited_models() -> None:
    """Connect django-auditlog to every audited model (idempotent: auditlog replaces a registration)."""
    for entry in AUDITED:
        try:
            model = apps.get_model(entry.label)
        except LookupError:  # an app that is not installed in this configuration
            continue
        m2m = _existing_fields(model, entry.m2m)
        auditlog.register(
            model,
            exclude_fields=_existing_fields(model, (*NOISE_FIELDS, *entry.exclude)),
            mask_fields=_existing_fields(model, entry.mask),
            m2m_fields=set(m2m),
        )
        _ACCOUNT_OF[model] = entry.account
    pre_log.connect(_remember_account, dispatch_uid="tandem.audit.account")
    pre_save.connect(_fill_from_scope, sender=apps.get_model("audit.AuditEntry"), dispatch_uid="tandem.audit.scope")


def audited_models() -> list[type[models.Model]]:
    return list(_ACCOUNT_OF)


def is_audited(model: type[models.Model]) -> bool:
    return model in _ACCOUNT_OF


def audited_field_names(model: type[models.Model]) -> frozenset[str]:
    """The concrete fields whose changes entries record (bulk writes diff only these), by name."""
    options = auditlog.get_model_fields(model)
    excluded = set(options["exclude_fields"])
    included = set(options["include_fields"])
    return frozenset(
        f.name
        for f in model._meta.concrete_fields
        if f.name not in excluded and (not included or f.name in included) and not f.primary_key
    )


def account_id_of(instance: models.Model) -> int | None:
    account_of = _ACCOUNT_OF.get(type(instance))
    if account_of is None:
        return None
    try:
        return account_of(instance)
    except models.ObjectDoesNotExist:
        return None


def _remember_account(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    pending_account_id.set(account_id_of(instance))


def _fill_from_scope(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    if not instance._state.adding:
        return
    scope = current_scope()
    if instance.actor_id is None:
        actor = scope.resolved_actor()
        if actor is not None:
            instance.actor = actor
            instance.actor_email = actor.email or None
    if not instance.via:
        instance.via = scope.via
    if instance.remote_addr is None:
        instance.remote_addr = scope.remote_addr()
    if instance.additional_data is None and scope.extra:
        instance.additional_data = scope.extra
    if instance.account_id is None:
        instance.account_id = pending_account_id.get()
        pending_account_id.set(None)
