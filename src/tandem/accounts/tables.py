"""The accounts list table."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import F, QuerySet
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tables2.utils import A

from tandem.accounts.models import Account
from tandem.web.templatetags.tandem_format import local_date, money


class AccountTable(tables.Table):
    """One row per account. Every sortable column is backed by an index ending in a tiebreaker."""

    # dir="auto": a Latin name ending in punctuation must not have it flipped to the wrong side in RTL.
    name = tables.Column(
        linkify=("accounts:detail", {"account_id": A("pk")}),
        order_by=("name", "id"),
        attrs={"a": {"dir": "auto"}},
    )
    tier = tables.Column(order_by=("tier", "name"))
    lifecycle_stage = tables.Column(verbose_name=_("Stage"), order_by=("lifecycle_stage", "name"))
    # Through Country.name: get_country_display() would build and sort every country's name
    # for each row (most of the page's render time).
    country = tables.Column(accessor="country__name", verbose_name=_("Country"), order_by=("country", "name"))
    csm_owner = tables.Column(verbose_name=_("CSM"), orderable=False)
    am_owner = tables.Column(verbose_name=_("Account manager"), orderable=False)
    arr = tables.Column(
        verbose_name=_("ARR"),
        order_by=("arr", "id"),
        attrs={"th": {"class": "num"}, "td": {"class": "num"}},
    )
    renewal_date = tables.Column(verbose_name=_("Renewal"))
    health = tables.Column(
        accessor="health__score",
        verbose_name=_("Health"),
        order_by=("health__score", "id"),
        default="—",
        attrs={"th": {"class": "num"}, "td": {"class": "num"}},
    )
    risk = tables.Column(
        accessor="risk__probability",
        verbose_name=_("Churn risk"),
        order_by=("risk__probability", "id"),
        default="—",
        attrs={"th": {"class": "num"}, "td": {"class": "num"}},
    )

    class Meta:
        model = Account
        fields = (
            "name",
            "tier",
            "lifecycle_stage",
            "country",
            "csm_owner",
            "am_owner",
            "arr",
            "renewal_date",
            "health",
            "risk",
        )
        order_by = "name"
        order_by_field = "sort"
        page_field = "page"
        empty_text = _("No accounts match these filters.")
        attrs = {"class": "data-table"}

    def render_tier(self, value: str, record: Account) -> str:
        return format_html('<span class="badge tier-{}">{}</span>', record.tier, value)

    def render_lifecycle_stage(self, value: str, record: Account) -> str:
        return format_html('<span class="badge stage-{}">{}</span>', record.lifecycle_stage, value)

    def render_arr(self, value: Any) -> str:
        return money(value)

    def render_renewal_date(self, value: Any) -> str:
        return local_date(value)

    def render_health(self, value: Any, record: Account) -> str:
        return format_html('<span class="badge health-{}">{}</span>', record.health.band, round(value))

    def render_risk(self, value: Any) -> str:
        return format_html("{}%", round(value * 100))

    def order_health(self, queryset: QuerySet[Account], is_descending: bool) -> tuple:
        # Accounts not scored yet go last whichever way one sorts: they are neither healthy nor at risk.
        field = F("health__score")
        first = field.desc(nulls_last=True) if is_descending else field.asc(nulls_last=True)
        return queryset.order_by(first, "-id" if is_descending else "id"), True

    def order_risk(self, queryset: QuerySet[Account], is_descending: bool) -> tuple:
        field = F("risk__probability")
        first = field.desc(nulls_last=True) if is_descending else field.asc(nulls_last=True)
        return queryset.order_by(first, "-id" if is_descending else "id"), True

    def order_renewal_date(self, queryset: QuerySet[Account], is_descending: bool) -> tuple:
        # Accounts without a renewal (no current contract) go last in both directions rather than
        # crowding the top of an ascending "what renews next" sort.
        field = F("renewal_date")
        first = field.desc(nulls_last=True) if is_descending else field.asc(nulls_last=True)
        tiebreak = "-id" if is_descending else "id"
        return queryset.order_by(first, tiebreak), True
