"""Reads on subscriptions and exchange rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet

from tandem.subscriptions.models import ExchangeRate, Subscription, SubscriptionStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User


def reporting_currency() -> str:
    return settings.TANDEM_REPORTING_CURRENCY


def exchange_rates_as_of(*, on: dt.date) -> dict[str, Decimal]:
    """Rate to the reporting currency for every currency known on ``on`` (latest valid_from <= on)."""
    rates: dict[str, Decimal] = {}
    for currency, rate in (
        ExchangeRate.objects.filter(valid_from__lte=on)
        .order_by("currency", "-valid_from")
        .values_list("currency", "rate")
    ):
        rates.setdefault(currency, rate)
    rates[reporting_currency()] = Decimal("1")
    return rates


def subscriptions_current(*, on: dt.date) -> QuerySet[Subscription]:
    """Subscriptions that generate revenue on ``on``."""
    return Subscription.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=on),
        status=SubscriptionStatus.ACTIVE,
        start_date__lte=on,
    )


def account_subscriptions(*, account_id: int) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(account_id=account_id)
        .prefetch_related("items__product")
        .order_by("-start_date", "-id")
    )


def subscription_list(*, user: User | AnonymousUser, account_id: int | None = None) -> QuerySet[Subscription]:
    """Contract terms this person may see, newest first, with line items and products.

    The one read path of the list: the REST API filters it, the account page shows an account's.
    """
    from django.db.models import Prefetch

    from tandem.access.scoping import restrict
    from tandem.subscriptions.models import SubscriptionItem

    qs = Subscription.objects.prefetch_related(
        Prefetch("items", queryset=SubscriptionItem.objects.select_related("product"))
    )
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return restrict(qs, user=user).order_by("-start_date", "-id")


def account_subscription_terms(*, user: User | AnonymousUser, account_id: int) -> list[Subscription]:
    """Every contract term of an account, newest first (2 queries)."""
    return list(subscription_list(user=user, account_id=account_id))


def subscription_is_current(*, subscription: Subscription, on: dt.date) -> bool:
    """The in-memory twin of subscriptions_current(), for terms already loaded."""
    return (
        subscription.status == SubscriptionStatus.ACTIVE
        and subscription.start_date <= on
        and (subscription.end_date is None or subscription.end_date >= on)
    )
