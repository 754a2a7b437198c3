"""Writes on accounts, contacts and their stakeholder roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tandem.accounts.models import (
    Account,
    Contact,
    ContactRole,
    LifecycleStage,
    StakeholderRole,
    Tier,
)
from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.audit.services import audit_bulk_created, audit_bulk_update, audit_rows_written
from tandem.core.bulk import IN_CHUNK
from tandem.core.errors import DomainError, FieldError
from tandem.core.progress import Progress
from tandem.core.services import blank_to_none, model_assign, model_save, model_validate
from tandem.timeline import events
from tandem.timeline.models import EventKind
from tandem.traits.services import traits_apply
from tandem.users.models import User

ACCOUNT_FIELDS = (
    "name",
    "domain",
    "external_id",
    "crm_id",
    "billing_id",
    "industry",
    "country",
    "currency",
    "tier",
    "lifecycle_stage",
    "parent",
    "csm_owner",
    "am_owner",
    "start_date",
    "traits",
)

CONTACT_FIELDS = (
    "account",
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "is_primary",
    "still_at_company",
    "left_on",
    "language",
    "traits",
)


def _normalise_account(data: dict[str, Any]) -> dict[str, Any]:
    for key in ("external_id", "crm_id", "billing_id"):
        if key in data:
            data[key] = blank_to_none(data[key])
    for key in ("name", "domain", "industry"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    for key in ("country", "currency"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip().upper()
    return data


def _save_account(account: Account) -> Account:
    message = _("Invalid account.")
    model_validate(account, message=message)
    model_save(account, message=message)
    return account


@write_service
def account_create(
    *,
    acting_user: User | None,
    name: str,
    domain: str = "",
    external_id: str | None = None,
    crm_id: str | None = None,
    billing_id: str | None = None,
    industry: str = "",
    country: str = "",
    currency: str = "USD",
    tier: str = Tier.SMB,
    lifecycle_stage: str = LifecycleStage.ONBOARDING,
    parent: Account | None = None,
    csm_owner: User | None = None,
    am_owner: User | None = None,
    start_date: dt.date | None = None,
    traits: Mapping[str, Any] | None = None,
) -> Account:
    """Create a customer account. Revenue fields start at zero and follow its subscriptions."""
    data = _normalise_account(
        {
            "name": name,
            "domain": domain,
            "external_id": external_id,
            "crm_id": crm_id,
            "billing_id": billing_id,
            "industry": industry,
            "country": country,
            "currency": currency,
            "tier": tier,
            "lifecycle_stage": lifecycle_stage,
            "parent": parent,
            "csm_owner": csm_owner,
            "am_owner": am_owner,
            "start_date": start_date,
            "traits": traits_apply(entity="account", current={}, changes=traits),
        }
    )
    account = Account()
    model_assign(account, data=data, fields=ACCOUNT_FIELDS)
    return _save_account(account)


@write_service
def account_update(*, acting_user: User | None, account: Account, data: Mapping[str, Any]) -> Account:
    """Change some of an account's own fields (see ACCOUNT_FIELDS); others are derived. A new
    lifecycle stage is on the account's timeline."""
    stage_before = account.lifecycle_stage
    data = dict(data)
    if "traits" in data:  # only the fields sent change; None clears one
        data["traits"] = traits_apply(entity="account", current=account.traits, changes=data["traits"])
    changed = model_assign(account, data=_normalise_account(data), fields=ACCOUNT_FIELDS)
    if changed:
        _save_account(account)
        if account.lifecycle_stage != stage_before:
            events.record_many(
                _stage_events([(account, stage_before)], when=timezone.now(), actor_id=_actor(acting_user))
            )
    return account


def _actor(user: User | None) -> int | None:
    return user.pk if user is not None else None


def _stage_events(
    moves: Iterable[tuple[Account, str]], *, when: dt.datetime, actor_id: int | None
) -> list[events.Event]:
    """STAGE_CHANGED for each (account, stage before) whose stage is now another one."""
    return [
        events.Event(
            account_id=account.pk,
            kind=EventKind.STAGE_CHANGED,
            occurred_at=when,
            actor_id=actor_id,
            data={"before": before, "after": account.lifecycle_stage},
        )
        for account, before in moves
        if before != account.lifecycle_stage
    ]


@dataclass(frozen=True)
class StageMove:
    """A lifecycle stage an account entered in the past: ``before`` empty for the first one."""

    account_id: int
    on: dt.datetime
    after: str
    before: str = ""


def account_stage_history_record(*, moves: Sequence[StageMove]) -> int:
    """Timeline events for stages accounts entered before their rows were written as they are now
    (the demo's past, a migration from another tool): the account's own write services record the
    changes from then on. Returns how many were written."""
    return events.record_many(
        events.Event(
            account_id=m.account_id,
            kind=EventKind.STAGE_CHANGED,
            occurred_at=m.on,
            data={"before": m.before, "after": m.after},
        )
        for m in moves
    )


@write_service
def account_archive(*, acting_user: User | None, account: Account, archived: bool = True) -> Account:
    """Archive an account, or bring it back (``archived=False``).

    An archived account is no longer worked: lists, pickers, queues, renewals, the pipeline and the
    rules leave it out (``Account.objects.live()``, ``live_account_q``); its history stays.
    Archiving closes its open calls to action in this transaction, each through ``cta_close`` (so
    each gets its audit entries and timeline event, as ``acting_user``'s) with the outcome "No action
    needed" and the note ARCHIVE_CLOSE_NOTE. Restoring brings the account back; those CTAs stay
    closed, and each rule opens a new one once its quiet period since the closing has passed.
    """
    from django.utils import timezone

    if archived and account.archived_at is None:
        account.archived_at = timezone.now()
    elif not archived and account.archived_at is not None:
        account.archived_at = None
    else:
        return account
    account.save(update_fields=["archived_at", "updated_at"])
    if archived:
        _close_open_ctas(acting_user=acting_user, account=account)
    return account


# The closing note of the CTAs an archiving closes, stored in the site's language like a rule's reason.
ARCHIVE_CLOSE_NOTE = gettext_noop("Account archived.")


def _close_open_ctas(*, acting_user: User | None, account: Account) -> int:
    from django.conf import settings
    from django.utils import translation

    from tandem.playbooks.models import OPEN_Q, CallToAction, CtaOutcome
    from tandem.playbooks.services import cta_close

    with translation.override(settings.LANGUAGE_CODE):
        note = _(ARCHIVE_CLOSE_NOTE)
    open_ctas = list(CallToAction.objects.filter(OPEN_Q, account=account).order_by("id"))
    for cta in open_ctas:
        cta_close(acting_user=acting_user, cta=cta, outcome=CtaOutcome.NOT_NEEDED, reason=note)
    return len(open_ctas)


@write_service
def contact_mark_left(*, acting_user: User | None, contact: Contact, left_on: dt.date | None = None) -> Contact:
    """Record that a contact left the company (on ``left_on``, if known); they stop being the primary contact."""
    changed = model_assign(
        contact, data={"still_at_company": False, "left_on": left_on, "is_primary": False}, fields=CONTACT_FIELDS
    )
    if changed:
        _save_contact(contact)
    return contact


@write_service
def account_delete(*, acting_user: User | None, account: Account) -> None:
    """Delete an account with its contacts, subscriptions, tickets and timeline; children are detached."""
    account.delete()


def _parse_roles(roles: Iterable[str]) -> list[str]:
    parsed: list[str] = []
    valid = set(StakeholderRole.values)
    for index, role in enumerate(roles):
        if role not in valid:
            raise DomainError(
                _("Unknown stakeholder role."),
                [
                    FieldError(
                        f"roles.{index}",
                        _("'%(role)s' is not one of: %(valid)s")
                        % {"role": role, "valid": ", ".join(StakeholderRole.values)},
                    )
                ],
            )
        if role not in parsed:
            parsed.append(str(role))
    return parsed


def _normalise_contact(data: dict[str, Any]) -> dict[str, Any]:
    if "external_id" in data:
        data["external_id"] = blank_to_none(data["external_id"])
    for key in ("first_name", "last_name", "email", "phone", "title"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    return data


def _save_contact(contact: Contact) -> Contact:
    message = _("Invalid contact.")
    extra: list[FieldError] = []
    if (
        contact.email
        and Contact.objects.filter(account_id=contact.account_id, email__iexact=contact.email)
        .exclude(pk=contact.pk)
        .exists()
    ):
        extra.append(FieldError("email", _("Another contact of this account has this email address.")))
    if contact.is_primary:
        # Rolled back with the rest if the write is refused.
        _demote_other_primaries(account_ids=[contact.account_id], keep=[contact.pk])
    model_validate(contact, message=message, extra_errors=extra)
    model_save(contact, message=message)
    return contact


def _set_roles(contact: Contact, roles: list[str]) -> None:
    current = set(contact.roles.values_list("role", flat=True))
    contact.roles.exclude(role__in=roles).delete()  # a queryset delete still sends each row's delete signal
    added = ContactRole.objects.bulk_create(
        [ContactRole(contact=contact, role=role) for role in roles if role not in current]
    )
    audit_bulk_created(
        model=ContactRole,
        rows=[(r.pk, str(r), contact.account_id, (contact.pk, r.role)) for r in added],
        columns=("contact", "role"),
    )


@write_service
def contact_create(
    *,
    acting_user: User | None,
    account: Account,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    title: str = "",
    is_primary: bool = False,
    still_at_company: bool = True,
    left_on: dt.date | None = None,
    external_id: str | None = None,
    roles: Iterable[str] = (),
    language: str = "",
    traits: Mapping[str, Any] | None = None,
) -> Contact:
    """Add a person to an account; making them primary unsets the account's previous primary."""
    parsed_roles = _parse_roles(roles)
    contact = Contact()
    model_assign(
        contact,
        data=_normalise_contact(
            {
                "account": account,
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "phone": phone,
                "title": title,
                "is_primary": is_primary,
                "still_at_company": still_at_company,
                "left_on": left_on,
                "external_id": external_id,
                "language": language,
                "traits": traits_apply(entity="contact", current={}, changes=traits),
            }
        ),
        fields=CONTACT_FIELDS,
    )
    _save_contact(contact)
    _set_roles(contact, parsed_roles)
    return contact


@write_service
def contact_update(
    *, acting_user: User | None, contact: Contact, data: Mapping[str, Any], roles: Iterable[str] | None = None
) -> Contact:
    """Change a contact's fields; ``roles``, when given, replaces its stakeholder roles."""
    parsed_roles = _parse_roles(roles) if roles is not None else None
    data = dict(data)
    if "traits" in data:
        data["traits"] = traits_apply(entity="contact", current=contact.traits, changes=data["traits"])
    changed = model_assign(contact, data=_normalise_contact(data), fields=CONTACT_FIELDS)
    if changed:
        _save_contact(contact)
    if parsed_roles is not None:
        _set_roles(contact, parsed_roles)
    return contact


@write_service
def contact_delete(*, acting_user: User | None, contact: Contact) -> None:
    """Delete a contact; their tickets stay on the account without a requester."""
    contact.delete()


# --- Bulk writes (imports, the demo) -----------------------------------------------------------
# Rows arrive validated field by field (the importer runs each model field's own validation and
# checks uniqueness in bulk); what these services own is the rest of the entity's invariants and
# the audit entries, so an import and a form keep the same rules.


@write_service
def account_bulk_upsert(
    *,
    acting_user: User | None,
    creates: Sequence[Account],
    updates: Sequence[Account],
    fields: Sequence[str],
    new_parent_of: Mapping[str | None, str] | None = None,
    now: dt.datetime,
    progress: Progress | None = None,
) -> None:
    """Insert and update accounts in batches with their audit entries.

    ``new_parent_of`` maps an account's external_id to its parent's when that parent is among
    ``creates``: parents are inserted before their children, level by level, so each child is
    written with its parent's new id. The caller has ruled out cycles among new accounts.
    """
    pending = dict(new_parent_of or {})
    created: dict[str | None, int] = {}
    remaining = list(creates)
    while remaining:
        ready = [a for a in remaining if a.external_id not in pending or pending[a.external_id] in created]
        if not ready:
            raise DomainError(_("The new accounts' parents form a cycle."), [FieldError("parent", _("Cycle."))])
        for account in ready:
            if account.external_id in pending:
                account.parent_id = created[pending[account.external_id]]
        bulk_save(Account, creates=ready, updates=[], fields=fields, now=now, progress=progress)
        created.update((a.external_id, a.pk) for a in ready)
        ready_ids = {id(a) for a in ready}
        remaining = [a for a in remaining if id(a) not in ready_ids]
    for account in updates:
        if account.external_id in pending:
            account.parent_id = created[pending[account.external_id]]
    replaced = bulk_save(Account, creates=[], updates=updates, fields=fields, now=now, progress=progress)
    if "lifecycle_stage" in fields:
        moves = ((a, replaced[a.pk]["lifecycle_stage"]) for a in updates if a.pk in replaced)
        events.record_many(_stage_events(moves, when=now, actor_id=_actor(acting_user)))


def _demote_other_primaries(*, account_ids: Iterable[int], keep: Iterable[int]) -> None:
    """One primary contact per account: whoever becomes primary takes over from the stored one."""
    accounts = sorted(set(account_ids))
    kept = [pk for pk in keep if pk is not None]
    for start in range(0, len(accounts), IN_CHUNK):
        audit_bulk_update(
            queryset=Contact.objects.filter(account_id__in=accounts[start : start + IN_CHUNK], is_primary=True).exclude(
                pk__in=kept
            ),
            values={"is_primary": False},
        )


@write_service
def contact_bulk_upsert(
    *,
    acting_user: User | None,
    creates: Sequence[Contact],
    updates: Sequence[Contact],
    fields: Sequence[str],
    roles: Sequence[tuple[Contact, Sequence[str]]] = (),
    now: dt.datetime,
    progress: Progress | None = None,
) -> None:
    """Insert and update contacts in batches, then set the stakeholder roles given in ``roles``.

    The rule of :func:`contact_create` holds: a contact written as primary takes over from the
    account's stored primary (two primaries of one account in the same call are refused). Each
    ``(contact, roles)`` pair replaces that contact's roles; contacts not in ``roles`` keep theirs.
    """
    written = [*creates, *updates]
    primaries: dict[int, Contact] = {}
    for contact in written:
        if contact.is_primary:
            if contact.account_id in primaries:
                raise DomainError(
                    _("Invalid contacts."),
                    [FieldError("is_primary", _("An account can have only one primary contact."))],
                )
            primaries[contact.account_id] = contact
    _demote_other_primaries(account_ids=primaries, keep=(c.pk for c in primaries.values()))
    # The unique index on (account, primary) is checked row by row: write the demotions first.
    demoted = [c for c in updates if not c.is_primary]
    promoted = [c for c in updates if c.is_primary]
    bulk_save(Contact, creates=[], updates=demoted, fields=fields, now=now, progress=progress)
    bulk_save(Contact, creates=creates, updates=promoted, fields=fields, now=now, progress=progress)
    if not roles:
        return
    stored_ids = [contact.pk for contact, _roles in roles]
    for start in range(0, len(stored_ids), IN_CHUNK):
        ContactRole.objects.filter(contact_id__in=stored_ids[start : start + IN_CHUNK]).delete()
    new_roles = [ContactRole(contact_id=contact.pk, role=role) for contact, wanted in roles for role in wanted]
    ContactRole.objects.bulk_create(new_roles, batch_size=1000)
    account_of = {contact.pk: contact.account_id for contact, _roles in roles}
    # The labels once: get_role_display() rebuilds the choices and translates per row (~0.25 ms).
    labels = {value: str(label) for value, label in StakeholderRole.choices}
    audit_rows_written(
        model=ContactRole,
        created=new_roles,
        describe=lambda r: f"{r.contact_id}: {labels.get(r.role, r.role)}",
        account=lambda r: account_of[r.contact_id],
    )
