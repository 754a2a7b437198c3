"""Writes on subscriptions: derived totals and the denormalised revenue on accounts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.audit.services import audit_rows_written
from tandem.core.bulk import IN_CHUNK, update_rows
from tandem.core.errors import DomainError, FieldError
from tandem.core.money import monthly, to_cents
from tandem.core.progress import Progress
from tandem.core.services import (
    blank_to_none,
    model_assign,
    model_save,
    model_validate,
    raise_if_errors,
    validation_problems,
)
from tandem.subscriptions.models import (
    BillingPeriod,
    ExchangeRate,
    Product,
    ProductKind,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from tandem.subscriptions.selectors import (
    exchange_rates_as_of,
    reporting_currency,
    subscriptions_current,
)
from tandem.timeline import events
from tandem.timeline.models import EventKind

if TYPE_CHECKING:
    from tandem.accounts.models import Account
    from tandem.users.models import User


def subscription_totals(*, subscription: Subscription, items: Iterable[SubscriptionItem]) -> tuple[Decimal, Decimal]:
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


def account_refresh_revenue(*, account_ids: Iterable[int] | None = None, on: dt.date | None = None) -> int:
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
    for account_id, currency, mrr in current.values_list("account_id", "currency", "mrr").iterator(chunk_size=5000):
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
        # One prepared UPDATE per row (executemany), not bulk_update's CASE per field per batch:
        # about 20x cheaper, which counts when the demo or an import refreshes 100,000 accounts.
        update_rows(Account, changed, ["mrr", "arr", "renewal_date"])
    return len(changed)


# --- The contract's timeline ------------------------------------------------------------------
# CONTRACT_CHANGED with ``change`` "started" (a first term), "renewed" (a term that starts the day
# after another of the account's ends), "cancelled" (a term moved into canceled) or "changed" (its
# dates, billing period or ARR changed); ``arr`` and ``arr_before`` in the term's own currency.

TERM_CHANGES = ("start_date", "end_date", "billing_period")  # with ARR: what makes a term "changed"


def _actor(user: User | None) -> int | None:
    return user.pk if user is not None else None


def _contract_name(subscription: Subscription, products: Iterable[tuple[str, str]]) -> str:
    """What the timeline calls a term: its plans (``(name, kind)`` of its lines' products), else its
    add-ons, else its external id."""
    lines = list(dict.fromkeys(products))
    names = [name for name, kind in lines if kind == ProductKind.PLAN] or [name for name, _kind in lines]
    return ", ".join(names)[:200] or str(subscription.external_id or "")


def _started_at(subscription: Subscription, now: dt.datetime) -> dt.datetime:
    """A term is on the timeline when it starts; one written before it starts, when it is written."""
    start = timezone.make_aware(dt.datetime.combine(subscription.start_date, dt.time(9)))
    return min(start, now)


def _ended_at(subscription: Subscription, now: dt.datetime) -> dt.datetime:
    if subscription.end_date is None:
        return now
    return min(timezone.make_aware(dt.datetime.combine(subscription.end_date, dt.time(17))), now)


def _contract_event(
    subscription: Subscription,
    change: str,
    *,
    name: str,
    when: dt.datetime,
    actor_id: int | None,
    arr_before: Decimal | None = None,
) -> events.Event:
    return events.Event(
        account_id=subscription.account_id,
        kind=EventKind.CONTRACT_CHANGED,
        occurred_at=when,
        actor_id=actor_id,
        target=subscription,
        data={
            "change": change,
            "name": name,
            "arr": subscription.arr,
            "arr_before": arr_before,
            "currency": subscription.currency,
        },
    )


@dataclass(frozen=True)
class _Term:
    pk: int
    end_date: dt.date | None
    arr: Decimal
    currency: str


def _previous_terms(account_ids: Iterable[int]) -> dict[int, list[_Term]]:
    """The stored terms of these accounts (one query per chunk of accounts)."""
    ids = sorted(set(account_ids))
    found: dict[int, list[_Term]] = defaultdict(list)
    for start in range(0, len(ids), IN_CHUNK):
        for pk, account_id, end_date, arr, currency in Subscription.objects.filter(
            account_id__in=ids[start : start + IN_CHUNK]
        ).values_list("pk", "account_id", "end_date", "arr", "currency"):
            found[account_id].append(_Term(pk, end_date, arr, currency))
    return found


def _created_events(
    subscription: Subscription,
    terms: Sequence[_Term],
    *,
    name: str,
    now: dt.datetime,
    actor_id: int | None,
) -> list[events.Event]:
    """A new term started, or renewed the account's term that ended the day before; cancelled
    too when it was written cancelled."""
    day_before = subscription.start_date - dt.timedelta(days=1)
    previous = next((t for t in terms if t.pk != subscription.pk and t.end_date == day_before), None)
    arr_before = previous.arr if previous is not None and previous.currency == subscription.currency else None
    found = [
        _contract_event(
            subscription,
            "renewed" if previous is not None else "started",
            name=name,
            when=_started_at(subscription, now),
            actor_id=actor_id,
            arr_before=arr_before,
        )
    ]
    if subscription.status == SubscriptionStatus.CANCELED:
        found.append(
            _contract_event(subscription, "cancelled", name=name, when=_ended_at(subscription, now), actor_id=actor_id)
        )
    return found


def _updated_event(
    subscription: Subscription,
    stored: Mapping[str, Any],
    *,
    name: str,
    now: dt.datetime,
    actor_id: int | None,
) -> events.Event | None:
    """What an update of a term did to the contract, by its ``stored`` values (only those written)."""
    arr_before = stored.get("arr", subscription.arr)
    cancelled = subscription.status == SubscriptionStatus.CANCELED
    if cancelled and "status" in stored and stored["status"] != SubscriptionStatus.CANCELED:
        change = "cancelled"
    elif arr_before != subscription.arr or any(
        f in stored and stored[f] != getattr(subscription, f) for f in TERM_CHANGES
    ):
        change = "changed"
    else:
        return None
    return _contract_event(subscription, change, name=name, when=now, actor_id=actor_id, arr_before=arr_before)


def _line_products(subscription: Subscription) -> list[tuple[str, str]]:
    return list(subscription.items.order_by("id").values_list("product__name", "product__kind"))


# --- Create, update and delete contract terms (used by the REST API, imports and the UI) ---------

SUBSCRIPTION_FIELDS = (
    "account",
    "external_id",
    "currency",
    "billing_period",
    "start_date",
    "end_date",
    "renewal_date",
    "auto_renew",
    "status",
)


@dataclass(frozen=True)
class SubscriptionItemInput:
    """One line item to write: a product, how many units and the price per unit per period."""

    product: Product
    quantity: Decimal
    unit_price: Decimal


def _normalise_subscription(data: dict[str, Any]) -> dict[str, Any]:
    if "external_id" in data:
        data["external_id"] = blank_to_none(data["external_id"])
    if isinstance(data.get("currency"), str):
        data["currency"] = data["currency"].strip().upper()
    return data


def _currency_errors(currency: str) -> list[FieldError]:
    """Revenue is reported in one currency, so a subscription's currency needs an exchange rate."""
    if not (len(currency) == 3 and currency.isalpha()) or currency == reporting_currency():
        return []  # a malformed code is reported by the model validator
    if ExchangeRate.objects.filter(currency=currency).exists():
        return []
    return [
        FieldError(
            "currency",
            _("No exchange rate from %(code)s to %(reporting)s; add one first.")
            % {"code": currency, "reporting": reporting_currency()},
        )
    ]


def _build_items(
    items: Sequence[SubscriptionItemInput],
) -> tuple[list[SubscriptionItem], list[FieldError]]:
    built: list[SubscriptionItem] = []
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        line = SubscriptionItem(product=item.product, quantity=item.quantity, unit_price=item.unit_price)
        line_errors, _unique = validation_problems(line, exclude=["subscription"], prefix=f"items.{index}.")
        errors.extend(line_errors)
        built.append(line)
    return built, errors


def _save_subscription(
    subscription: Subscription,
    *,
    items: Sequence[SubscriptionItemInput] | None,
    check_currency: bool,
) -> tuple[Subscription, list[SubscriptionItem] | None]:
    message = _("Invalid subscription.")
    extra = _currency_errors(subscription.currency) if check_currency else []
    errors, all_unique = validation_problems(subscription)
    lines: list[SubscriptionItem] | None = None
    if items is not None:
        lines, item_errors = _build_items(items)
        extra.extend(item_errors)
    raise_if_errors(message, [*errors, *extra], conflict=all_unique and not extra)
    model_save(subscription, message=message)
    return subscription, lines


def _replace_items(subscription: Subscription, lines: list[SubscriptionItem]) -> None:
    subscription.items.all().delete()  # a queryset delete still sends each row's delete signal
    for line in lines:
        line.subscription = subscription
    SubscriptionItem.objects.bulk_create(lines)
    audit_rows_written(model=SubscriptionItem, created=lines, account=lambda _line: subscription.account_id)


def _refresh_totals_and_revenue(subscription: Subscription, account_ids: Iterable[int]) -> None:
    subscription.refresh_from_db()  # also drops any prefetched, now stale, line items
    subscription_recompute_totals(subscription=subscription)
    account_refresh_revenue(account_ids=sorted(set(account_ids)))


@write_service
def subscription_create(
    *,
    acting_user: User | None,
    account: Account,
    start_date: dt.date,
    items: Sequence[SubscriptionItemInput] = (),
    currency: str | None = None,
    billing_period: int = BillingPeriod.ANNUAL,
    end_date: dt.date | None = None,
    renewal_date: dt.date | None = None,
    auto_renew: bool = False,
    status: str = SubscriptionStatus.ACTIVE,
    external_id: str | None = None,
) -> Subscription:
    """Create a contract term with its line items; totals and the account's revenue follow.

    The currency defaults to the account's.
    """
    subscription = Subscription()
    model_assign(
        subscription,
        data=_normalise_subscription(
            {
                "account": account,
                "external_id": external_id,
                "currency": currency if currency is not None else account.currency,
                "billing_period": billing_period,
                "start_date": start_date,
                "end_date": end_date,
                "renewal_date": renewal_date,
                "auto_renew": auto_renew,
                "status": status,
            }
        ),
        fields=SUBSCRIPTION_FIELDS,
    )
    subscription, lines = _save_subscription(subscription, items=items, check_currency=True)
    assert lines is not None
    _replace_items(subscription, lines)
    _refresh_totals_and_revenue(subscription, [account.pk])
    events.record_many(
        _created_events(
            subscription,
            _previous_terms([subscription.account_id]).get(subscription.account_id, []),
            name=_contract_name(subscription, ((i.product.name, i.product.kind) for i in items)),
            now=timezone.now(),
            actor_id=_actor(acting_user),
        )
    )
    return subscription


@write_service
def subscription_update(
    *,
    acting_user: User | None,
    subscription: Subscription,
    data: Mapping[str, Any],
    items: Sequence[SubscriptionItemInput] | None = None,
) -> Subscription:
    """Change a contract term. ``items``, when given, replaces all of its line items.

    Cancelling it, or changing its dates, billing period or ARR, is on the account's timeline.
    """
    previous_account_id = subscription.account_id
    stored = {"arr": subscription.arr, "status": subscription.status}
    stored.update((f, getattr(subscription, f)) for f in TERM_CHANGES)
    changed = model_assign(subscription, data=_normalise_subscription(dict(data)), fields=SUBSCRIPTION_FIELDS)
    if not changed and items is None:
        return subscription
    subscription, lines = _save_subscription(subscription, items=items, check_currency="currency" in changed)
    if lines is not None:
        _replace_items(subscription, lines)
    _refresh_totals_and_revenue(subscription, [previous_account_id, subscription.account_id])
    event = _updated_event(
        subscription,
        stored,
        name=_contract_name(subscription, _line_products(subscription)),
        now=timezone.now(),
        actor_id=_actor(acting_user),
    )
    if event is not None:
        events.record_many([event])
    return subscription


@write_service
def subscription_delete(*, acting_user: User | None, subscription: Subscription) -> None:
    """Delete a contract term and its line items; the account's revenue follows."""
    account_id = subscription.account_id
    subscription.delete()
    account_refresh_revenue(account_ids=[account_id])


# --- Bulk writes (imports, the demo) -----------------------------------------------------------


@write_service
def subscription_bulk_upsert(
    *,
    acting_user: User | None,
    creates: Sequence[Subscription],
    updates: Sequence[Subscription],
    fields: Sequence[str],
    lines: Sequence[tuple[Subscription, Sequence[SubscriptionItem]]],
    new_products: Sequence[Product] = (),
    product_of: Mapping[int, Product] | None = None,
    refresh_accounts: Iterable[int] = (),
    today: dt.date,
    now: dt.datetime,
    progress: Progress | None = None,
) -> None:
    """Insert and update contract terms with their line items, then refresh the accounts' revenue.

    Each new term is on its account's timeline when it started (renewing the term that ended the
    day before, if there is one; cancelled, when written cancelled, on its last day), and an
    updated one when it is cancelled or its dates or ARR changed from the stored values, so
    re-importing the same terms records nothing.

    Each ``(term, items)`` pair replaces that term's line items. ``new_products`` are inserted
    first; ``product_of`` maps ``id(item)`` to the new product an item sells. As with
    :func:`subscription_update`, the accounts' ARR, MRR and renewal date follow their terms, so an
    account whose currency has no exchange rate refuses the whole write.
    """
    if new_products:
        products = list(new_products)
        Product.objects.bulk_create(products)
        audit_rows_written(model=Product, created=products)
    stored_before = bulk_save(
        Subscription,
        creates=creates,
        updates=updates,
        fields=fields,
        now=now,
        progress=progress,
        describe=lambda s: f"{s.external_id} {s.start_date}–{s.end_date or '…'}",
    )
    # Replacing the lines of an updated term is simpler and as cheap as diffing them.
    replaced = [term.pk for term, _items in lines if term.pk is not None]
    for start in range(0, len(replaced), IN_CHUNK):
        SubscriptionItem.objects.filter(subscription_id__in=replaced[start : start + IN_CHUNK]).delete()
    written: list[SubscriptionItem] = []
    for term, items in lines:
        for item in items:
            item.subscription_id = term.pk
            if item.product_id is None and product_of and id(item) in product_of:
                item.product_id = product_of[id(item)].pk
            written.append(item)
    SubscriptionItem.objects.bulk_create(written, batch_size=1000)
    account_of = {term.pk: term.account_id for term, _items in lines}
    audit_rows_written(
        model=SubscriptionItem,
        created=written,
        describe=lambda i: f"{i.product_id} × {i.quantity}",
        account=lambda i: account_of[i.subscription_id],
    )
    _record_bulk(
        creates=creates, updates=updates, replaced=stored_before, lines=lines, now=now, actor_id=_actor(acting_user)
    )
    accounts = sorted(set(refresh_accounts))
    if accounts:
        if progress is not None:
            progress.stage("Refreshing account revenue", None)
        account_refresh_revenue(account_ids=accounts, on=today)


def _record_bulk(
    *,
    creates: Sequence[Subscription],
    updates: Sequence[Subscription],
    replaced: Mapping[Any, Mapping[str, Any]],
    lines: Sequence[tuple[Subscription, Sequence[SubscriptionItem]]],
    now: dt.datetime,
    actor_id: int | None,
) -> None:
    """The timeline events of :func:`subscription_bulk_upsert`: two queries, whatever the number of terms."""
    if not creates and not updates:
        return
    products = {pk: (name, kind) for pk, name, kind in Product.objects.values_list("pk", "name", "kind")}
    sold = {id(term): [products[i.product_id] for i in items if i.product_id in products] for term, items in lines}
    terms = _previous_terms(t.account_id for t in creates) if creates else {}
    found: list[events.Event] = []
    for term in creates:
        name = _contract_name(term, sold.get(id(term), []))
        found += _created_events(term, terms.get(term.account_id, []), name=name, now=now, actor_id=actor_id)
    for term in updates:
        stored = replaced.get(term.pk)
        if stored is None:
            continue
        event = _updated_event(
            term, stored, name=_contract_name(term, sold.get(id(term), [])), now=now, actor_id=actor_id
        )
        if event is not None:
            found.append(event)
    events.record_many(found)


@write_service
def exchange_rate_bulk_upsert(
    *,
    acting_user: User | None,
    creates: Sequence[ExchangeRate],
    updates: Sequence[ExchangeRate],
    now: dt.datetime,
    progress: Progress | None = None,
) -> None:
    """Insert new rates and change the rate of stored (currency, valid_from) pairs."""
    bulk_save(ExchangeRate, creates=creates, updates=updates, fields=["rate"], now=now, progress=progress)


PRODUCT_FIELDS = ("code", "name", "kind", "unit_label", "is_active")


@write_service
def product_save(*, acting_user: User | None, product: Product | None = None, data: Mapping[str, Any]) -> Product:
    """Add a plan or add-on to the catalogue, or change one (its name, kind, unit, whether it is offered).

    The code is how imports and billing recognise a product, so it is set once: a change is refused.
    A product taken out of the catalogue (``is_active=False``) stays on the terms that sell it."""
    product = product or Product()
    data = dict(data)
    if product.pk and "code" in data and data["code"] != product.code:
        raise DomainError(
            _("The product has errors."),
            [FieldError("code", _("A product's code cannot change: imports and billing find the product by it."))],
        )
    if "code" in data:
        data["code"] = str(data["code"] or "").strip()
    model_assign(product, data=data, fields=PRODUCT_FIELDS)
    model_validate(product, message=_("The product has errors."))
    model_save(product, message=_("The product has errors."))
    return product
