"""factory_boy factories for the shared data model.

Every factory derives from :class:`Factory`, which creates its rows inside
``audit_context(via="fixture")``: a test's set-up is not a write through any of the product's
paths, and the suite fails a test whose writes have no path (see tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from tandem.accounts.models import Account, Contact, ContactRole, StakeholderRole, Tier
from tandem.audit.context import audit_context
from tandem.audit.models import AuditVia
from tandem.subscriptions.models import (
    ExchangeRate,
    Product,
    ProductKind,
    Subscription,
    SubscriptionItem,
)
from tandem.support.models import Ticket
from tandem.timeline.models import Interaction, InteractionKind
from tandem.users.models import User


def as_fixture() -> contextlib.AbstractContextManager[Any]:
    """A test's set-up that writes through services or the ORM: recorded as via "fixture", no actor."""
    return audit_context(via=AuditVia.FIXTURE, actor=None)


class Factory(factory.django.DjangoModelFactory):
    """A factory whose rows are recorded in the audit history as test set-up (via "fixture")."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        with as_fixture():
            return super()._create(model_class, *args, **kwargs)

    @classmethod
    def _after_postgeneration(cls, instance: Any, create: bool, results: Any = None) -> None:
        with as_fixture():
            super()._after_postgeneration(instance, create, results)


class UserFactory(Factory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")


class AccountFactory(Factory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:05d}")
    domain = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "") + ".example")
    external_id = factory.Sequence(lambda n: f"acc-{n}")
    country = "US"
    currency = "USD"
    tier = Tier.SMB
    start_date = dt.date(2024, 1, 1)


class ContactFactory(Factory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    title = "Head of Operations"


class ContactRoleFactory(Factory):
    class Meta:
        model = ContactRole

    contact = factory.SubFactory(ContactFactory)
    role = StakeholderRole.CHAMPION


class ProductFactory(Factory):
    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    kind = ProductKind.PLAN


class SubscriptionFactory(Factory):
    class Meta:
        model = Subscription

    account = factory.SubFactory(AccountFactory)
    currency = "USD"
    start_date = dt.date(2025, 1, 1)
    end_date = dt.date(2025, 12, 31)
    renewal_date = dt.date(2026, 1, 1)


class SubscriptionItemFactory(Factory):
    class Meta:
        model = SubscriptionItem

    subscription = factory.SubFactory(SubscriptionFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal("10")
    unit_price = Decimal("120.00")


class ExchangeRateFactory(Factory):
    class Meta:
        model = ExchangeRate

    currency = "EUR"
    valid_from = dt.date(2020, 1, 1)
    rate = Decimal("1.10")


class TicketFactory(Factory):
    class Meta:
        model = Ticket

    account = factory.SubFactory(AccountFactory)
    subject = factory.Sequence(lambda n: f"Ticket {n}")
    opened_at = factory.LazyFunction(timezone.now)


class InteractionFactory(Factory):
    class Meta:
        model = Interaction

    account = factory.SubFactory(AccountFactory)
    kind = InteractionKind.CALL
    occurred_at = factory.LazyFunction(timezone.now)
    subject = "Weekly check-in"
