"""Subscriptions: one row per line item, grouped into contract terms by the term's external_id.

A billing export with one term per period loads as the account's subscription history. A term
is written whole or not at all: re-importing replaces its line items, and one invalid line
keeps the whole term out (a partial set of lines would state the wrong revenue).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from tandem.accounts.models import Account
from tandem.core.money import monthly, to_cents
from tandem.imports.entities.base import (
    Column,
    Context,
    Entity,
    Plan,
    Row,
    clean_model,
    concrete_attnames,
    copy_simple_fields,
    differs,
    fetch_in_chunks,
)
from tandem.imports.entities.contacts import account_ids_for
from tandem.imports.values import (
    choice_parser,
    parse_billing_period,
    parse_bool,
    parse_currency,
    parse_date,
    parse_decimal,
)
from tandem.subscriptions.models import (
    REVENUE_STATUSES,
    Product,
    ProductKind,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from tandem.subscriptions.selectors import exchange_rates_as_of
from tandem.subscriptions.services import subscription_bulk_upsert, subscription_totals

COLUMNS = (
    Column("account_external_id", required=True, description="external_id of the account."),
    Column("external_id", required=True, description="Identifier of the term; groups its lines."),
    Column("currency", parse_currency, description="ISO 4217; default the account's currency."),
    Column(
        "billing_period",
        parse_billing_period,
        description="monthly, quarterly, semi-annual, annual (default), biennial, triennial or months.",
    ),
    Column("start_date", parse_date, required=True),
    Column("end_date", parse_date, description="Empty for an evergreen contract."),
    Column("renewal_date", parse_date),
    Column("auto_renew", parse_bool, description="Default false."),
    Column(
        "status",
        choice_parser(SubscriptionStatus),
        description="trialing, active, paused, ended, canceled; default from the dates.",
    ),
    Column("product_code", required=True, description="Code of an existing product."),
    Column("quantity", parse_decimal, description="Default 1."),
    Column("unit_price", parse_decimal, description="Price per unit per period; required unless mrr is given."),
    Column(
        "mrr",
        parse_decimal,
        description="The line's monthly recurring revenue, for billing exports without unit prices: "
        "unit_price = mrr × months in the billing period ÷ quantity.",
    ),
)
# Columns describing the term, which every line of the term must repeat identically.
TERM_FIELDS = (
    "account_external_id",
    "currency",
    "billing_period",
    "start_date",
    "end_date",
    "renewal_date",
    "auto_renew",
    "status",
)
SIMPLE = ("external_id", "billing_period", "start_date", "end_date", "renewal_date", "auto_renew")
WRITTEN = [
    "account_id",
    "currency",
    "billing_period",
    "start_date",
    "end_date",
    "renewal_date",
    "auto_renew",
    "status",
    "mrr",
    "arr",
]
TERM_ATTRIBUTES = [f for f in WRITTEN if f not in ("account_id", "mrr", "arr")]

ItemKey = tuple[int | None, Decimal, Decimal]


class SubscriptionPlan(Plan):
    def __init__(self) -> None:
        super().__init__()
        self.creates: list[Subscription] = []
        self.updates: list[Subscription] = []
        self.items: dict[int, list[SubscriptionItem]] = {}  # id(subscription) -> its lines
        self.new_products: dict[str, Product] = {}
        self.product_code_of: dict[int, str] = {}  # id(item) -> code, for new products
        self.touched_accounts: set[int] = set()

    def write(self, ctx: Context) -> None:
        subscription_bulk_upsert(
            acting_user=ctx.acting_user,
            creates=self.creates,
            updates=self.updates,
            fields=WRITTEN,
            lines=[(term, self.items[id(term)]) for term in [*self.creates, *self.updates]],
            new_products=list(self.new_products.values()),
            product_of={item: self.new_products[code] for item, code in self.product_code_of.items()},
            refresh_accounts=self.touched_accounts,
            today=ctx.today,
            now=ctx.now,
            progress=ctx.progress,
        )


def plan_subscriptions(rows: list[Row], ctx: Context) -> SubscriptionPlan:
    plan = SubscriptionPlan()
    terms: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.values.get("external_id") is not None:
            terms[row.values["external_id"]].append(row)
    account_ids = account_ids_for(rows, ctx)
    account_currency = {
        v["id"]: v["currency"]
        for v in fetch_in_chunks(Account.objects.all(), "id", account_ids.values(), "id", "currency")
    }
    products = _resolve_products(rows, ctx, plan)
    existing = {
        v["external_id"]: v
        for v in fetch_in_chunks(Subscription.objects.all(), "external_id", terms, *concrete_attnames(Subscription))
    }
    stored_items: dict[int, list[ItemKey]] = defaultdict(list)
    for v in fetch_in_chunks(
        SubscriptionItem.objects.all(),
        "subscription_id",
        (s["id"] for s in existing.values()),
        "subscription_id",
        "product_id",
        "quantity",
        "unit_price",
    ):
        stored_items[v["subscription_id"]].append(
            (v["product_id"], v["quantity"].normalize(), v["unit_price"].normalize())
        )
    rates = exchange_rates_as_of(on=ctx.today)

    ctx.progress.stage("Validating subscriptions", len(rows))
    for key, lines in terms.items():
        _check_same_term_values(lines, ctx)
        head = lines[0]
        account_id = account_ids.get(head.values.get("account_external_id"))
        stored = existing.get(key)
        subscription = Subscription(**stored) if stored else Subscription()
        desired: dict[str, Any] = {"account_id": account_id}
        copy_simple_fields(Subscription, head, ctx, SIMPLE, desired)
        for attname, value in desired.items():
            setattr(subscription, attname, value)
        _default_currency_and_status(subscription, head, ctx, stored, account_currency)
        clean_model(subscription, row=head, ctx=ctx, fields=TERM_ATTRIBUTES)

        items: list[SubscriptionItem] = []
        for row in lines:
            quantity = Decimal("1") if row.values.get("quantity") is None else row.values["quantity"]
            # Both may be None for now: a product this import creates gets its id in write(), and a
            # row without a unit price is invalid and never written. The stubs type saved values.
            item = SubscriptionItem(  # type: ignore[misc]
                product_id=products.get(row.values.get("product_code")),
                quantity=quantity,
                unit_price=_line_unit_price(row, ctx, quantity=quantity, months=int(subscription.billing_period)),
            )
            # A missing unit price was already reported with its reason by _line_unit_price.
            checked = ("quantity", "unit_price") if item.unit_price is not None else ("quantity",)
            clean_model(item, row=row, ctx=ctx, fields=checked)
            if item.product_id is None and row.values.get("product_code") in plan.new_products:
                plan.product_code_of[id(item)] = row.values["product_code"]
            items.append(item)

        if all(row.valid for row in lines):
            subscription.mrr, subscription.arr = subscription_totals(subscription=subscription, items=items)
            _check_exchange_rate(subscription, head, ctx, rates)
        _reject_term_if_any_line_invalid(lines, ctx)
        if not head.valid:
            continue
        plan.items[id(subscription)] = items
        new_items = sorted(
            ((i.product_id, Decimal(i.quantity).normalize(), Decimal(i.unit_price).normalize()) for i in items),
            key=repr,
        )
        if stored is None:
            plan.creates.append(subscription)
            plan.created += 1
        elif differs(stored, {f: getattr(subscription, f) for f in WRITTEN}) or new_items != sorted(
            stored_items[stored["id"]], key=repr
        ):
            plan.updates.append(subscription)
            plan.updated += 1
            plan.touched_accounts.add(stored["account_id"])
        else:
            plan.unchanged += 1
            continue
        plan.touched_accounts.add(subscription.account_id)
    ctx.progress.advance(len(rows))

    # Only products used by a term that is written get created.
    used = {
        plan.product_code_of[id(item)]
        for subscription in plan.creates + plan.updates
        for item in plan.items[id(subscription)]
        if id(item) in plan.product_code_of
    }
    plan.new_products = {code: p for code, p in plan.new_products.items() if code in used}
    if plan.new_products:
        plan.notes.append("new products: " + ", ".join(sorted(plan.new_products)))
    return plan


def _resolve_products(rows: list[Row], ctx: Context, plan: SubscriptionPlan) -> dict[str | None, int]:
    """Product ids by code; unknown codes are errors, or new plans with --create-products."""
    codes = {r.values.get("product_code") for r in rows} - {None}
    known = {v["code"]: v["id"] for v in fetch_in_chunks(Product.objects.all(), "code", codes, "code", "id")}
    for row in rows:
        code = row.values.get("product_code")
        if code is None or code in known:
            continue
        if not ctx.create_products:
            ctx.fail(
                row,
                "product_code",
                f"unknown product code '{code}'; create the product first or use --create-products.",
            )
            continue
        product = plan.new_products.get(code) or Product(code=code, name=code[:100], kind=ProductKind.PLAN)
        try:
            product.clean_fields()
        except ValidationError as exc:
            message = "; ".join(exc.message_dict.get("code", exc.messages))
            ctx.fail(row, "product_code", f"cannot create a product with this code: {message}")
            continue
        plan.new_products[code] = product
    return known


UNIT_PRICE_STEP = Decimal("0.0001")  # SubscriptionItem.unit_price has four decimal places


def _line_unit_price(row: Row, ctx: Context, *, quantity: Decimal, months: int) -> Decimal | None:
    """The line's unit price: as given, or derived from its ``mrr`` so that MRR comes back to the cent."""
    unit_price = row.values.get("unit_price")
    mrr = row.values.get("mrr")
    if mrr is None:
        if unit_price is None and not (row.raw.get("unit_price") or row.raw.get("mrr")):
            ctx.fail(row, "unit_price", "unit_price or mrr is required.")
        return unit_price
    if unit_price is not None:
        if to_cents(monthly(unit_price * quantity, months)) != to_cents(mrr):
            ctx.fail(
                row, "mrr", f"disagrees with quantity × unit_price ({quantity} × {unit_price} per {months} months)."
            )
        return unit_price
    if quantity <= 0:
        ctx.fail(row, "mrr", "needs a quantity above 0 to derive the unit price.")
        return None
    derived = (mrr * months / quantity).quantize(UNIT_PRICE_STEP, rounding=ROUND_HALF_UP)
    if to_cents(monthly(derived * quantity, months)) != to_cents(mrr):
        ctx.fail(
            row,
            "mrr",
            f"no unit price with four decimals gives {mrr} a month for {quantity} units billed every {months} "
            "months; give unit_price instead.",
        )
        return None
    return derived


def _check_same_term_values(lines: list[Row], ctx: Context) -> None:
    head = lines[0]
    for row in lines[1:]:
        for name in TERM_FIELDS:
            if name in row.values and name in head.values and row.values[name] != head.values[name]:
                ctx.fail(
                    row,
                    name,
                    f"differs from row {head.number} of the same subscription ('{head.raw.get(name, '')}').",
                )


def _default_currency_and_status(
    subscription: Subscription,
    head: Row,
    ctx: Context,
    stored: dict[str, Any] | None,
    account_currency: dict[int, str],
) -> None:
    """An empty or new term bills in its account's currency and is ended once past its end date."""
    if "currency" in head.values and head.values["currency"] is not None:
        subscription.currency = head.values["currency"]
    elif stored is None or ctx.has("currency"):
        subscription.currency = account_currency.get(subscription.account_id, "USD")
    if "status" in head.values and head.values["status"] is not None:
        subscription.status = head.values["status"]
    elif stored is None or ctx.has("status"):
        ended = subscription.end_date is not None and subscription.end_date < ctx.today
        subscription.status = SubscriptionStatus.ENDED if ended else SubscriptionStatus.ACTIVE


def _check_exchange_rate(subscription: Subscription, head: Row, ctx: Context, rates: dict[str, Decimal]) -> None:
    """A current term needs a rate, or account revenue cannot be computed (checked up front)."""
    current = (
        subscription.status in REVENUE_STATUSES
        and subscription.start_date <= ctx.today
        and (subscription.end_date is None or subscription.end_date >= ctx.today)
    )
    if current and subscription.currency not in rates:
        ctx.fail(
            head,
            "currency",
            f"no exchange rate from {subscription.currency} to "
            f"{settings.TANDEM_REPORTING_CURRENCY} on {ctx.today}; import exchange rates first "
            "(tandem import exchange-rates).",
            value=head.raw.get("currency", subscription.currency),
        )


def _reject_term_if_any_line_invalid(lines: list[Row], ctx: Context) -> None:
    bad = [row for row in lines if not row.valid]
    if not bad:
        return
    first = bad[0].number
    for row in lines:
        if row.valid:
            ctx.fail(
                row,
                "external_id",
                f"not imported because row {first} of the same subscription is invalid.",
            )


ENTITY = Entity(
    name="subscriptions",
    columns=COLUMNS,
    plan=plan_subscriptions,
    key_description="external_id of the term (one row per line item)",
)
