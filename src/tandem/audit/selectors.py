"""Reads of the audit history: one object's, one account's, and the admin's search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from tandem.audit.models import AuditEntry, AuditVia
from tandem.audit.registry import audited_models
from tandem.users.models import User


def _base() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")


def audit_history_for_object(*, obj: Model) -> QuerySet[AuditEntry]:
    """Every entry about this object, newest first."""
    return _base().filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)


def audit_history_for_account(*, account_id: int) -> QuerySet[AuditEntry]:
    """Every entry about an account and what belongs to it (contacts, contracts, CTAs...), deleted ones included."""
    return _base().filter(account_id=account_id)


def audited_content_types() -> list[ContentType]:
    types = ContentType.objects.get_for_models(*audited_models())
    return sorted(types.values(), key=_kind_label)


def _kind_label(content_type: ContentType) -> str:
    model = content_type.model_class()
    return str(model._meta.verbose_name) if model is not None else content_type.model


def _content_type_choices() -> list[tuple[int, str]]:
    return [
        (ct.pk, str(ct.model_class()._meta.verbose_name).capitalize())  # type: ignore[union-attr]
        for ct in audited_content_types()
    ]


class AuditFilterSet(django_filters.FilterSet):
    """The admin's search of the audit log: by person, kind of object, object, path and date."""

    actor = django_filters.ModelChoiceFilter(
        label=_("Person"), queryset=User.objects.order_by("first_name", "last_name", "username")
    )
    content_type = django_filters.TypedChoiceFilter(label=_("Kind"), choices=_content_type_choices, coerce=int)
    object_id = django_filters.NumberFilter(label=_("Object id"), min_value=1, max_value=2**63 - 1)
    q = django_filters.CharFilter(label=_("Object"), method="filter_q")
    via = django_filters.ChoiceFilter(label=_("Via"), choices=[c for c in AuditVia.choices if c[0]])
    date_from = django_filters.DateFilter(
        label=_("From"), field_name="timestamp", lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label=_("To"), field_name="timestamp", lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEntry
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet[AuditEntry]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(object_repr__icontains=value) | Q(object_pk=value))


def audit_search(*, filters: Mapping[str, Any] | None) -> AuditFilterSet:
    # A QueryDict stays one (dict() of it would turn each value into a list).
    data = filters if isinstance(filters, QueryDict) else dict(filters or {})
    return AuditFilterSet(data=data or None, queryset=_base())


@dataclass(frozen=True)
class ChangeLine:
    field: str
    before: str
    after: str


def audit_change_lines(entry: AuditEntry) -> list[ChangeLine]:
    """The entry's field changes with the models' translated field names, for display."""
    model = entry.content_type.model_class()
    lines: list[ChangeLine] = []
    for name, values in (entry.changes or {}).items():
        label = name
        if model is not None:
            try:
                label = str(model._meta.get_field(name).verbose_name)
            except Exception:  # a field since removed from the model
                label = name
        if isinstance(values, dict):  # many-to-many: {"type": "m2m", "operation": ..., "objects": [...]}
            before, after = str(values.get("operation", "")), ", ".join(map(str, values.get("objects", [])))
        else:
            before, after = ("" if v is None else str(v) for v in [*values, None, None][:2])
        lines.append(ChangeLine(field=label, before=before, after=after))
    return lines
