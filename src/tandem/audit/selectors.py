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


def audit_change_lines(entry: AuditEntry, *, hide_contract_values: bool = False) -> list[ChangeLine]:
    """The entry's field changes with the models' translated field names, for display.

    With ``hide_contract_values`` (a reader whose access rule hides them) ARR, MRR, prices and
    amounts show the same mask as everywhere else, before and after.
    """
    from tandem.access.masking import CONTRACT_VALUE_FIELDS, HIDDEN

    model = entry.content_type.model_class()
    hidden = set(CONTRACT_VALUE_FIELDS.get(model._meta.label, ())) if hide_contract_values and model else set()
    lines: list[ChangeLine] = []
    for name, values in (entry.changes or {}).items():
        if name in hidden:
            label = str(model._meta.get_field(name).verbose_name) if model is not None else name
            lines.append(ChangeLine(field=label, before=str(HIDDEN), after=str(HIDDEN)))
            continue
        label = name
        if model is not None:
            try:
                label = str(model._meta.get_field(name).verbose_name)
            except Exception:  # a field since removed from the model
                label = name
        if isinstance(values, dict):  # many-to-many: {"type": "m2m", "operation": ..., "objects": [...]}
            before, after = str(values.get("operation", "")), ", ".join(map(str, values.get("objects", [])))
        else:
            field = _field(model, name)
            before, after = (
                display_value(field, v, currency=_currency_of(model, entry)) for v in [*values, None, None][:2]
            )
        lines.append(ChangeLine(field=label, before=before, after=after))
    return lines


# Money fields held in the reporting currency (a contract's own amounts are in its currency).
REPORTING_CURRENCY_MODELS = frozenset({"accounts.Account", "opportunities.Opportunity", "opportunities.Quota"})


def _field(model: type[Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _currency_of(model: type[Model] | None, entry: AuditEntry) -> str | None:
    """The currency of the entry's money fields when it is known without a query."""
    from django.conf import settings

    if model is None:
        return None
    if model._meta.label in REPORTING_CURRENCY_MODELS:
        return str(settings.TANDEM_REPORTING_CURRENCY)
    currency = (entry.changes or {}).get("currency")
    if isinstance(currency, list) and currency and currency[-1] not in (None, "None"):
        return str(currency[-1])
    return None


def display_value(field: Any, raw: Any, *, currency: str | None) -> str:
    """A stored change as people read it: money with its currency, numbers and dates in the locale.

    django-auditlog keeps values as strings ("761.0000", "2026-03-01"); the history shows them the
    way every other page does (tandem_format), so a price is never "761.0000" without a currency.
    """
    import datetime as dt
    from decimal import Decimal, InvalidOperation

    from babel.numbers import format_decimal
    from django.db import models

    from tandem.access.masking import CONTRACT_VALUE_KEYS
    from tandem.web.templatetags.tandem_format import babel_locale, format_money, local_date, number

    if raw is None or raw == "None":
        return ""
    text = str(raw)
    try:
        if isinstance(field, models.DecimalField | models.FloatField):
            value = Decimal(text)
            if field.name in CONTRACT_VALUE_KEYS:  # money: with its currency where known, else cents
                if currency:
                    return format_money(value, currency)
                return format_decimal(value, format="#,##0.00", locale=babel_locale())
            return number(value.normalize() if value == value.to_integral() else value)
        if isinstance(field, models.DateTimeField):
            return text
        if isinstance(field, models.DateField):
            return local_date(dt.date.fromisoformat(text[:10]))
    except (InvalidOperation, ValueError):
        return text
    return text
