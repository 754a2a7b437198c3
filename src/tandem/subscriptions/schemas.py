"""API schemas for subscriptions (contract terms) with their nested line items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, ClassVar

from ninja import Field, FilterLookup, FilterSchema, Schema

from tandem.access.shortcuts import HIDDEN_NOTE, MaskedDecimal
from tandem.api.refs import Id, ReportsReferences
from tandem.core.money import to_cents
from tandem.subscriptions.models import BillingPeriod, ProductKind, SubscriptionItem, SubscriptionStatus


class SubscriptionItemIn(Schema):
    product: Id = Field(..., description="Id of the plan or add-on.")
    quantity: Decimal = Field(Decimal("1"), description="Units, e.g. seats.")
    unit_price: Decimal = Field(..., description="Price per unit per billing period.")


class SubscriptionIn(ReportsReferences):
    references: ClassVar[Mapping[str, str]] = {"account": "accounts.Account"}

    account: Id
    external_id: str | None = None
    currency: str | None = Field(None, description="ISO 4217 code; defaults to the account's.")
    billing_period: BillingPeriod = Field(BillingPeriod.ANNUAL, description="Months per period.")
    start_date: dt.date
    end_date: dt.date | None = Field(None, description="Empty for an evergreen contract.")
    renewal_date: dt.date | None = None
    auto_renew: bool = False
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    items: list[SubscriptionItemIn] = Field(default_factory=list)


class SubscriptionPatch(ReportsReferences):
    """Only the fields sent are changed. ``items``, when sent, replaces all line items."""

    references: ClassVar[Mapping[str, str]] = {"account": "accounts.Account"}

    account: Id | None = None
    external_id: str | None = None
    currency: str | None = None
    billing_period: BillingPeriod | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    renewal_date: dt.date | None = None
    auto_renew: bool | None = None
    status: SubscriptionStatus | None = None
    items: list[SubscriptionItemIn] | None = None


class SubscriptionItemOut(Schema):
    id: int
    product: int = Field(..., alias="product_id")
    product_code: str = Field(..., alias="product.code")
    product_name: str = Field(..., alias="product.name")
    quantity: Decimal
    unit_price: MaskedDecimal = Field(..., description="Price per unit per billing period; " + HIDDEN_NOTE)
    amount_per_period: MaskedDecimal = Field(..., description="quantity * unit price, to the cent; " + HIDDEN_NOTE)

    @staticmethod
    def resolve_amount_per_period(obj: SubscriptionItem) -> Decimal | None:
        if not isinstance(obj.unit_price, Decimal):  # HIDDEN by the reader's access rule
            return None
        return to_cents(obj.amount_per_period)


class SubscriptionOut(Schema):
    id: int
    account: int = Field(..., alias="account_id")
    external_id: str | None
    currency: str
    billing_period: BillingPeriod
    start_date: dt.date
    end_date: dt.date | None
    renewal_date: dt.date | None
    auto_renew: bool
    status: SubscriptionStatus
    mrr: MaskedDecimal = Field(
        ..., description="Monthly recurring revenue in the subscription currency; " + HIDDEN_NOTE
    )
    arr: MaskedDecimal = Field(..., description="12 * MRR; " + HIDDEN_NOTE)
    items: list[SubscriptionItemOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class SubscriptionFilter(FilterSchema):
    account: Id | None = None
    status: SubscriptionStatus | None = None
    external_id: str | None = None
    renewal_before: Annotated[dt.date | None, FilterLookup("renewal_date__lte")] = Field(
        None, description="Renewing on or before this date."
    )
    renewal_after: Annotated[dt.date | None, FilterLookup("renewal_date__gte")] = Field(
        None, description="Renewing on or after this date."
    )


class ProductOut(Schema):
    id: int
    code: str
    name: str
    kind: ProductKind
    unit_label: str
    is_active: bool


class ProductIn(Schema):
    code: str = Field(
        ..., min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$", description="Set once; imports match by it."
    )
    name: str = Field(..., min_length=1, max_length=100)
    kind: ProductKind = ProductKind.PLAN
    unit_label: str = Field("seat", min_length=1, max_length=30, description="What a quantity counts.")
    is_active: bool = Field(True, description="Offered on new and edited terms.")


class ProductPatch(Schema):
    """Only the fields sent are changed; the code cannot change."""

    name: str | None = Field(None, min_length=1, max_length=100)
    kind: ProductKind | None = None
    unit_label: str | None = Field(None, min_length=1, max_length=30)
    is_active: bool | None = None
