"""Exchange rates to the reporting currency: upsert on (currency, valid_from)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tandem.imports.entities.base import (
    Column,
    Context,
    Entity,
    Plan,
    Row,
    clean_model,
    copy_simple_fields,
    differs,
    mark_duplicates,
)
from tandem.imports.values import parse_currency, parse_date, parse_decimal
from tandem.subscriptions.models import ExchangeRate
from tandem.subscriptions.services import exchange_rate_bulk_upsert

COLUMNS = (
    Column("currency", parse_currency, required=True, description="ISO 4217 code."),
    Column("valid_from", parse_date, required=True, description="First day the rate applies."),
    Column(
        "rate",
        parse_decimal,
        required=True,
        description="Units of the reporting currency one unit of the currency buys; > 0.",
    ),
)


class ExchangeRatePlan(Plan):
    def __init__(self) -> None:
        super().__init__()
        self.creates: list[ExchangeRate] = []
        self.updates: list[ExchangeRate] = []

    def write(self, ctx: Context) -> None:
        exchange_rate_bulk_upsert(
            acting_user=ctx.acting_user, creates=self.creates, updates=self.updates, now=ctx.now, progress=ctx.progress
        )


def _key(row: Row) -> tuple[str, Any] | None:
    currency, valid_from = row.values.get("currency"), row.values.get("valid_from")
    return (currency, valid_from) if currency and valid_from else None


def plan_exchange_rates(rows: list[Row], ctx: Context) -> ExchangeRatePlan:
    plan = ExchangeRatePlan()
    mark_duplicates(rows, ctx, key=_key, field_name="valid_from", what="currency and valid_from")
    # The table holds a few rows per currency per year: load the currencies in the file whole.
    currencies = {r.values.get("currency") for r in rows} - {None}
    existing = {
        (v["currency"], v["valid_from"]): v
        for v in ExchangeRate.objects.filter(currency__in=currencies).values("id", "currency", "valid_from", "rate")
    }
    ctx.progress.stage("Validating exchange rates", len(rows))
    for row in rows:
        key = _key(row)
        if key is None:
            continue
        desired: dict[str, Any] = {}
        copy_simple_fields(ExchangeRate, row, ctx, ("currency", "valid_from", "rate"), desired)
        rate = desired.get("rate")
        if rate is not None and rate <= Decimal("0"):
            # The database's exchange_rate_positive constraint; the field validator allows 0.
            ctx.fail(row, "rate", "the rate must be greater than 0.")
        stored = existing.get(key)
        instance = ExchangeRate(**stored) if stored else ExchangeRate()
        for attname, value in desired.items():
            setattr(instance, attname, value)
        clean_model(instance, row=row, ctx=ctx, fields=list(desired))
        if not row.valid:
            continue
        if stored is None:
            plan.creates.append(instance)
            plan.created += 1
        elif differs(stored, desired):
            plan.updates.append(instance)
            plan.updated += 1
        else:
            plan.unchanged += 1
    ctx.progress.advance(len(rows))
    return plan


ENTITY = Entity(
    name="exchange-rates",
    columns=COLUMNS,
    plan=plan_exchange_rates,
    key_description="currency and valid_from",
)
