"""Which changes are events, what each is called, and the JSON an endpoint receives.

An event is an audit entry of one of the models below. Its type is ``<object>.<what happened>``:
``created``, ``updated`` and ``deleted`` for every object, plus the moments people wait for —
a CTA ``closed``, an opportunity or renewal ``won`` or ``lost``, a milestone ``completed``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tandem.audit.models import AuditEntry

CREATE, UPDATE, DELETE = AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE, AuditEntry.Action.DELETE

# Model label -> the object's name in event types.
OBJECTS: dict[str, str] = {
    "accounts.account": "account",
    "accounts.contact": "contact",
    "subscriptions.subscription": "contract",
    "playbooks.calltoaction": "cta",
    "opportunities.opportunity": "opportunity",
    "success.successmilestone": "milestone",
    "surveys.npsresponse": "survey_answer",
    "support.ticket": "ticket",
    "comments.comment": "comment",
}

# Field changes that make an update one of the named moments: (object, field, new value) -> what.
MOMENTS: dict[tuple[str, str, str], str] = {
    ("cta", "status", "closed"): "closed",
    ("opportunity", "stage", "closed_won"): "won",
    ("opportunity", "stage", "closed_lost"): "lost",
    ("renewal", "stage", "closed_won"): "won",
    ("renewal", "stage", "closed_lost"): "lost",
}

EVENT_TYPES: dict[str, Promise] = {
    "account.created": _("Account created"),
    "account.updated": _("Account changed"),
    "account.deleted": _("Account deleted"),
    "contact.created": _("Contact created"),
    "contact.updated": _("Contact changed"),
    "contact.deleted": _("Contact deleted"),
    "contract.created": _("Contract term created"),
    "contract.updated": _("Contract term changed"),
    "contract.deleted": _("Contract term deleted"),
    "cta.created": _("CTA opened"),
    "cta.updated": _("CTA changed"),
    "cta.closed": _("CTA closed"),
    "cta.deleted": _("CTA deleted"),
    "opportunity.created": _("Opportunity created"),
    "opportunity.updated": _("Opportunity changed"),
    "opportunity.won": _("Opportunity won"),
    "opportunity.lost": _("Opportunity lost"),
    "opportunity.deleted": _("Opportunity deleted"),
    "renewal.created": _("Renewal created"),
    "renewal.updated": _("Renewal changed"),
    "renewal.won": _("Renewal won"),
    "renewal.lost": _("Renewal lost"),
    "renewal.deleted": _("Renewal deleted"),
    "milestone.created": _("Milestone created"),
    "milestone.updated": _("Milestone changed"),
    "milestone.completed": _("Milestone completed"),
    "milestone.deleted": _("Milestone deleted"),
    "survey_answer.created": _("Survey answer received"),
    "survey_answer.updated": _("Survey answer changed"),
    "survey_answer.deleted": _("Survey answer deleted"),
    "ticket.created": _("Ticket opened"),
    "ticket.updated": _("Ticket changed"),
    "ticket.deleted": _("Ticket deleted"),
    "comment.created": _("Comment posted"),
    "comment.updated": _("Comment edited"),
    "comment.deleted": _("Comment deleted"),
}

_ACTION_WORD = {CREATE: "created", UPDATE: "updated", DELETE: "deleted"}


@dataclass(frozen=True)
class Event:
    message_id: str
    type: str
    account_id: int | None
    payload: dict[str, Any]


def model_label(entry: AuditEntry) -> str:
    return f"{entry.content_type.app_label}.{entry.content_type.model}"


def event_type_of(entry: AuditEntry, *, object_name: str) -> str | None:
    word = _ACTION_WORD.get(entry.action)
    if word is None:
        return None
    changes = entry.changes or {}
    if entry.action == UPDATE:
        if object_name == "milestone" and _after(changes, "completed_at") not in (None, "None", ""):
            return "milestone.completed"
        for (name, field, value), moment in MOMENTS.items():
            if name == object_name and _after(changes, field) == value:
                return f"{object_name}.{moment}"
    return f"{object_name}.{word}"


def _after(changes: dict[str, Any], field: str) -> Any:
    pair = changes.get(field)
    return pair[1] if isinstance(pair, list | tuple) and len(pair) == 2 else None


def events_for(entries: Iterable[AuditEntry]) -> list[Event]:
    """The events of these entries, in entry order; entries of other models are not events."""
    entries = [e for e in entries if model_label(e) in OBJECTS]
    renewals = _renewal_ids(e for e in entries if model_label(e) == "opportunities.opportunity")
    events = []
    for entry in entries:
        name = OBJECTS[model_label(entry)]
        if name == "opportunity" and entry.object_id in renewals:
            name = "renewal"
        event_type = event_type_of(entry, object_name=name)
        if event_type is None:
            continue
        events.append(
            Event(
                message_id=f"evt_{entry.pk}",
                type=event_type,
                account_id=entry.account_id,
                payload={
                    "type": event_type,
                    "timestamp": entry.timestamp.isoformat(),
                    "data": {
                        "object": name,
                        "id": entry.object_id if entry.object_id is not None else entry.object_pk,
                        "name": entry.object_repr,
                        "account_id": entry.account_id,
                        "changes": entry.changes or {},
                        "actor": None
                        if entry.actor is None
                        else {"id": entry.actor_id, "username": entry.actor.get_username()},
                        "via": entry.via or None,
                    },
                },
            )
        )
    return events


def _renewal_ids(entries: Iterable[AuditEntry]) -> set[int]:
    """Opportunities that are renewals: from the stored row, or a deleted one's creation entry."""
    from tandem.opportunities.models import Opportunity, OpportunityKind

    ids = {e.object_id for e in entries if e.object_id is not None}
    if not ids:
        return set()
    found = set(Opportunity.objects.filter(pk__in=ids, kind=OpportunityKind.RENEWAL).values_list("pk", flat=True))
    stored = set(Opportunity.objects.filter(pk__in=ids).values_list("pk", flat=True))
    for entry in AuditEntry.objects.filter(
        content_type__app_label="opportunities",
        content_type__model="opportunity",
        object_id__in=ids - stored,
        action=CREATE,
    ):
        if _after(entry.changes or {}, "kind") == OpportunityKind.RENEWAL:
            found.add(entry.object_id)
    return found
