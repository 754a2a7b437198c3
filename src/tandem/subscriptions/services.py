"""Writes on subscriptions: derived totals and the denormalised revenue on accounts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.core.errors import DomainError, FieldError
from tandem.core.money import monthly, to_cents
from tandem.subscriptions.models import Subscription, SubscriptionItem
from tandem.subscriptions.selectors import exchange_rates_as_of, subscriptions_current


def subscription_totals(
    *, subscription: Subscription, items: Iterable[SubscriptionItem]
) -> tuple[Decimal, Decimal]:
    """MRR and ARR of a subscription in its own currency, rounded once at the end."""
    exact = sum(
        (monthly(item.amount_per_period, subscription.billing_period) for item in items),
        Decimal("0"),
    )
    mrr = to_cents(exact)
    # ARR is defined as 12 x the rounded MRR so the two never disagree by a cent.
    return mrr, mrr * 12


def subscription_recompute_totals(*, subscription: Subscription) -> Subscription:
    mrr, arr = subscription_totals(subscription=subscription, items=subscription.items.all())
    if (mrr, arr) != (subscription.mrr, subscription.arr):
        subscription.mrr, subscription.arr = mrr, arr
        Subscription.objects.filter(pk=subscription.pk).update(mrr=mrr, arr=arr)
    return subscription


def account_refresh_revenue(
    *, account_ids: Iterable[int] | None = None, on: dt.date | None = None
) -> int:
    """Recompute Account.mrr/arr (reporting currency) and renewal_date from current subscriptions.

    Works in bulk: a handful of queries whatever the number of accounts. Returns how many accounts
    were updated. A currency without an exchange rate is an error, not a silent zero.
    """
    from tandem.accounts.models import Account

    on = on or timezone.localdate()
    rates = exchange_rates_as_of(on=on)
    current = subscriptions_current(on=on)
    accounts = Account.objects.all()
    if account_ids is not None:
        ids = list(account_ids)
        current = current.filter(account_id__in=ids)
        accounts = accounts.filter(pk__in=ids)

    mrr_by_account: dict[int, Decimal] = defaultdict(Decimal)
    missing: set[str] = set()
    for account_id, currency, mrr in current.values_list("account_id", "currency", "mrr").iterator(
        chunk_size=5000
    ):
        rate = rates.get(currency)
        if rate is None:
            missing.add(currency)
            continue
        mrr_by_account[account_id] += mrr * rate
    if missing:
        raise DomainError(
            _("No exchange rate to the reporting currency."),
            [
                FieldError(
                    "currency",
                    _("No exchange rate for %(codes)s on %(date)s.")
                    % {"codes": ", ".join(sorted(missing)), "date": on},
                )
            ],
        )
    renewal_by_account = dict(
        current.annotate(renews_on=Coalesce("renewal_date", "end_date"))
        .filter(renews_on__gte=on)
        .values("account_id")
        .annotate(next_renewal=Min("renews_on"))
        .values_list("account_id", "next_renewal")
    )

    changed: list[Account] = []
    for account in accounts.only("id", "mrr", "arr", "renewal_date").iterator(chunk_size=5000):
        mrr = to_cents(mrr_by_account.get(account.id, Decimal("0")))
        arr = mrr * 12
        renewal = renewal_by_account.get(account.id)
        if (account.mrr, account.arr, account.renewal_date) != (mrr, arr, renewal):
            account.mrr, account.arr, account.renewal_date = mrr, arr, renewal
            changed.append(account)
    with transaction.atomic():
        Account.objects.bulk_update(changed, ["mrr", "arr", "renewal_date"], batch_size=2000)
    return len(changed)
