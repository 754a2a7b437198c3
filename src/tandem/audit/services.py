"""Audit entries for writes that bypass ``save()``: bulk inserts and queryset updates.

django-auditlog records every ``save()`` and ``delete()`` of a registered model by itself. Bulk
paths (rules opening thousands of CTAs, imports, queue updates) call these in the same
transaction, so the history has no holes and costs one multi-row INSERT per batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from tandem.audit.context import current_scope, set_process_via
from tandem.audit.models import AuditEntry

__all__ = ["AuditChange", "audit_bulk", "audit_bulk_update", "set_process_via"]

BATCH_SIZE = 2000


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return DjangoJSONEncoder().default(value) if not isinstance(value, list | dict) else value


@dataclass(frozen=True)
class AuditChange:
    """One object's change for a bulk entry: its id, how it reads, its account and field changes."""

    object_id: int
    object_repr: str
    account_id: int | None = None
    changes: Mapping[str, tuple[Any, Any]] | None = None


def audit_bulk(*, model: type[models.Model], action: int, items: Iterable[AuditChange]) -> int:
    """Record one entry per changed object written by a bulk statement; returns how many."""
    scope = current_scope()
    actor = scope.resolved_actor()
    content_type = ContentType.objects.get_for_model(model)
    now = timezone.now()
    remote_addr = scope.remote_addr()
    rows = [
        AuditEntry(
            content_type=content_type,
            object_pk=str(item.object_id),
            object_id=item.object_id,
            object_repr=item.object_repr[:500],
            action=action,
            changes={
                name: [_json_value(before), _json_value(after)]
                for name, (before, after) in (item.changes or {}).items()
            },
            actor=actor,
            actor_email=(actor.email or None) if actor is not None else None,
            remote_addr=remote_addr,
            timestamp=now,
            via=scope.via,
            account_id=item.account_id,
        )
        for item in items
    ]
    AuditEntry.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)


def audit_bulk_update(
    *,
    queryset: models.QuerySet[Any],
    values: Mapping[str, Any],
    account_field: str | None = "account_id",
) -> int:
    """``queryset.update(**values)`` with one audit entry per row that changed; returns rows updated.

    The rows' current values are read first (one query) so each entry has the real before value.
    """
    model = queryset.model
    names = list(values)
    columns = ["pk", *[model._meta.get_field(n).attname for n in names]]
    if account_field:
        columns.append(account_field)
    before = list(queryset.values_list(*columns))
    if not before:
        return 0
    updated: int = queryset.filter(pk__in=[row[0] for row in before]).update(**values)
    plain = {n: (v.pk if isinstance(v, models.Model) else v) for n, v in values.items()}
    items: list[AuditChange] = []
    for row in before:
        changes = {name: (row[1 + i], plain[name]) for i, name in enumerate(names) if row[1 + i] != plain[name]}
        if changes:
            items.append(
                AuditChange(
                    object_id=row[0],
                    object_repr=f"{model._meta.verbose_name} #{row[0]}",
                    account_id=row[-1] if account_field else None,
                    changes=changes,
                )
            )
    audit_bulk(model=model, action=AuditEntry.Action.UPDATE, items=items)
    return updated


def audit_bulk_created(
    *,
    model: type[models.Model],
    rows: Sequence[tuple[int, str, int | None]],
    fields: Mapping[int, Mapping[str, Any]] | None = None,
) -> int:
    """Entries for rows a bulk INSERT created: ``(id, repr, account_id)`` per row."""
    return audit_bulk(
        model=model,
        action=AuditEntry.Action.CREATE,
        items=[
            AuditChange(
                object_id=pk,
                object_repr=text,
                account_id=account_id,
                changes={name: (None, value) for name, value in (fields or {}).get(pk, {}).items()},
            )
            for pk, text, account_id in rows
        ],
    )
