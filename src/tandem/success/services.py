"""Writes for success milestones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.models import Account
from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.core.services import blank_to_none, model_save, model_validate
from tandem.success.models import SuccessMilestone
from tandem.timeline import events
from tandem.timeline.models import EventKind
from tandem.users.models import User


def _reached(milestone: SuccessMilestone, *, actor_id: int | None) -> events.Event:
    assert milestone.completed_at is not None
    return events.Event(
        account_id=milestone.account_id,
        kind=EventKind.MILESTONE_REACHED,
        occurred_at=milestone.completed_at,
        actor_id=actor_id,
        target=milestone,
        # A milestone has no measured value of its own (yet): the timeline shows the title alone.
        data={"title": milestone.title, "value": None, "due_date": milestone.due_date},
    )


@write_service
def milestone_create(
    *,
    acting_user: User | None,
    account: Account,
    title: str,
    due_date: dt.date,
    owner: User | None = None,
    external_id: str | None = None,
) -> SuccessMilestone:
    """Add a milestone to an account's success plan."""
    milestone = SuccessMilestone(
        account=account, title=title, due_date=due_date, owner=owner, external_id=blank_to_none(external_id)
    )
    message = _("Invalid milestone.")
    model_validate(milestone, message=message)
    model_save(milestone, message=message)
    return milestone


@write_service
def milestone_complete(
    *, acting_user: User | None, milestone: SuccessMilestone, when: dt.datetime | None = None
) -> SuccessMilestone:
    """Mark a milestone reached; completing it twice keeps the first date."""
    milestone = SuccessMilestone.objects.select_for_update().get(pk=milestone.pk)
    if milestone.completed_at is None:
        milestone.completed_at = when or timezone.now()
        milestone.save(update_fields=["completed_at", "updated_at"])
        events.record_many([_reached(milestone, actor_id=acting_user.pk if acting_user is not None else None)])
    return milestone


@write_service
def milestone_bulk_create(
    *, acting_user: User | None, milestones: Sequence[SuccessMilestone], now: dt.datetime
) -> None:
    """Record many milestones at once (a plan imported from another tool, the demo), with their audit
    entries; those already completed are reached on the timeline when they were completed."""
    bulk_save(SuccessMilestone, creates=milestones, updates=[], fields=[], now=now)
    events.record_many(
        _reached(m, actor_id=m.owner_id if acting_user is None else acting_user.pk)
        for m in milestones
        if m.completed_at is not None
    )
