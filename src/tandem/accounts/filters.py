"""The filter form of the accounts list."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from tandem.accounts.models import Account, LifecycleStage, Tier


class AccountFilterSet(django_filters.FilterSet):
    """Search and facet filters; every filter hits an indexed column of Account."""

    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        widget=forms.SearchInput(attrs={"placeholder": _("Name, domain or external id"), "autocomplete": "off"}),
    )
    csm_owner = django_filters.ChoiceFilter(label=_("CSM"), null_label=_("Unassigned"), empty_label=_("Any CSM"))
    am_owner = django_filters.ChoiceFilter(
        label=_("Account manager"), null_label=_("Unassigned"), empty_label=_("Any account manager")
    )
    tier = django_filters.ChoiceFilter(choices=Tier.choices, empty_label=_("Any tier"))
    lifecycle_stage = django_filters.ChoiceFilter(
        label=_("Stage"), choices=LifecycleStage.choices, empty_label=_("Any stage")
    )
    country = django_filters.ChoiceFilter(empty_label=_("Any country"))
    health = django_filters.ChoiceFilter(
        field_name="health__band",
        label=_("Health"),
        choices=[("good", _("Good")), ("neutral", _("Neutral")), ("poor", _("Poor"))],
        empty_label=_("Any health"),
    )
    risk = django_filters.ChoiceFilter(
        method="filter_risk",
        label=_("Churn risk"),
        choices=[("high", _("High (≥ 20%)")), ("medium", _("Medium (5-20%)")), ("low", _("Low (< 5%)"))],
        empty_label=_("Any risk"),
    )

    segment = django_filters.ChoiceFilter(method="filter_segment", label=_("Segment"), empty_label=_("Any segment"))

    archived = django_filters.ChoiceFilter(
        method="filter_archived",
        label=_("Archived"),
        choices=[("archived", _("Archived only")), ("all", _("Live and archived"))],
        empty_label=_("Hide archived"),
    )

    class Meta:
        model = Account
        fields = [
            "q",
            "csm_owner",
            "am_owner",
            "tier",
            "lifecycle_stage",
            "country",
            "health",
            "risk",
            "segment",
            "archived",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tandem.accounts.selectors import account_country_codes
        from tandem.users.selectors import user_owner_choices

        # One query for both owner pickers; the country list is cached (see the selector).
        owners = user_owner_choices()
        self.filters["csm_owner"].extra["choices"] = owners
        self.filters["am_owner"].extra["choices"] = owners
        from tandem.segments.models import Segment

        self.filters["segment"].extra["choices"] = [
            (str(pk), name) for pk, name in Segment.objects.values_list("pk", "name")
        ]
        self.filters["country"].extra["choices"] = sorted(
            ((code, countries.name(code)) for code in account_country_codes()),
            key=lambda choice: str(choice[1]),
        )

    def filter_risk(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        bounds = {"high": (0.2, None), "medium": (0.05, 0.2), "low": (None, 0.05)}.get(value)
        if bounds is None:
            return queryset
        low, high = bounds
        if low is not None:
            queryset = queryset.filter(risk__probability__gte=low)
        if high is not None:
            queryset = queryset.filter(risk__probability__lt=high)
        return queryset

    def filter_segment(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        from tandem.segments.models import SegmentMembership

        members = SegmentMembership.objects.filter(segment_id=int(value), left_on__isnull=True).values("account_id")
        return queryset.filter(pk__in=members)

    def filter_archived(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        # The selector reads the choice (accounts_visible(archived=...)): live accounts unless asked.
        return queryset

    def filter_search(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        from tandem.accounts.selectors import account_search

        return account_search(queryset, value)
