"""Writes for segments: defining one (its conditions checked like a rule's), and the daily refresh
that moves accounts in and out, keeping each stay as a membership row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.core.services import model_save, model_validate
from tandem.segments.models import Segment, SegmentMembership
from tandem.users.models import User


def _check_conditions(conditions: Any) -> list[dict[str, Any]]:
    from tandem.playbooks.rules.conditions import validate_conditions

    problems = validate_conditions(conditions)
    if not problems and any("segment" in c for c in conditions):
        problems = [_("A segment's conditions cannot name another segment.")]
    if problems:
        raise DomainError(_("Invalid segment."), [FieldError("conditions", p) for p in problems])
    if not conditions:
        raise DomainError(_("Invalid segment."), [FieldError("conditions", _("Add at least one condition."))])
    return list(conditions)


@write_service
def segment_save(
    *,
    acting_user: User | None,
    name: str,
    conditions: list[dict[str, Any]],
    description: str = "",
    service_model: str = "",
    segment: Segment | None = None,
    today: dt.date | None = None,
) -> Segment:
    """Create or change a segment, then bring its members up to date at once."""
    checked = _check_conditions(conditions)
    if segment is None:
        segment = Segment(created_by=acting_user)
    segment.name = name.strip()
    segment.description = description.strip()
    segment.service_model = service_model
    segment.conditions = checked
    message = _("Invalid segment.")
    model_validate(segment, message=message, exclude=["members", "refreshed_on"])
    model_save(segment, message=message)
    _refresh_one(segment, today=today or timezone.localdate())
    return segment


@write_service
def segment_delete(*, acting_user: User | None, segment: Segment) -> None:
    from tandem.playbooks.models import Rule

    users = [r.name for r in Rule.objects.only("name", "conditions") if _names(r.conditions, segment.pk)]
    if users:
        raise DomainError(
            _("The segment is in use."),
            [FieldError("segment", _("Used by the rules: %(names)s.") % {"names": ", ".join(users)})],
            status=409,
        )
    segment.delete()


def _names(conditions: Any, segment_id: int) -> bool:
    if not isinstance(conditions, list):
        return False
    for c in conditions:
        if isinstance(c, dict) and "segment" in c:
            value = c.get("value")
            ids = value if isinstance(value, list) else [value]
            if segment_id in ids or c.get("segment") == segment_id:
                return True
    return False


@dataclass
class SegmentsRefreshed:
    segments: int = 0
    joined: int = 0
    left: int = 0
    plans_started: int = 0  # accounts given their segment's success plan template


def _members_now(segment: Segment, *, today: dt.date, ctx: Any) -> set[int]:
    from tandem.playbooks.rules.conditions import candidate_ids

    return candidate_ids(ctx, segment.conditions)


def _refresh_one(segment: Segment, *, today: dt.date, ctx: Any = None) -> tuple[int, int]:
    from tandem.playbooks.providers import default_providers
    from tandem.playbooks.rules.context import EvalContext

    ctx = ctx or EvalContext(today=today, providers=default_providers())
    wanted = _members_now(segment, today=today, ctx=ctx)
    current = set(
        SegmentMembership.objects.filter(segment=segment, left_on__isnull=True).values_list("account_id", flat=True)
    )
    joined, left = wanted - current, current - wanted
    with transaction.atomic():
        if left:
            SegmentMembership.objects.filter(segment=segment, left_on__isnull=True, account_id__in=left).update(
                left_on=today
            )
        SegmentMembership.objects.bulk_create(
            [SegmentMembership(segment=segment, account_id=a, joined_on=today) for a in sorted(joined)],
            batch_size=2000,
        )
        Segment.objects.filter(pk=segment.pk).update(members=len(wanted), refreshed_on=today)
    segment.members, segment.refreshed_on = len(wanted), today
    return len(joined), len(left)


@write_service
def segments_refresh(*, acting_user: User | None, today: dt.date) -> SegmentsRefreshed:
    """The daily pipeline's *segments* step: every segment's members as of today (after metrics,
    health and risk, before the rules that read segments), then the success plan templates given to
    the new members of their segment. Idempotent on a day."""
    from tandem.playbooks.providers import default_providers
    from tandem.playbooks.rules.context import EvalContext

    ctx = EvalContext(today=today, providers=default_providers())
    result = SegmentsRefreshed()
    for segment in Segment.objects.order_by("id"):
        joined, left = _refresh_one(segment, today=today, ctx=ctx)
        result.segments += 1
        result.joined += joined
        result.left += left
    from tandem.success.templates_services import plan_templates_auto_apply

    result.plans_started = plan_templates_auto_apply(acting_user=acting_user, today=today).plans
    return result
