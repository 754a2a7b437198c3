"""factory_boy factories for the shared data model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from tandem.accounts.models import Account, Contact, ContactRole, StakeholderRole, Tier
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


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:05d}")
    domain = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "") + ".example")
    external_id = factory.Sequence(lambda n: f"acc-{n}")
    country = "US"
    currency = "USD"
    tier = Tier.SMB
    start_date = dt.date(2024, 1, 1)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    title = "Head of Operations"


class ContactRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactRole

    contact = factory.SubFactory(ContactFactory)
    role = StakeholderRole.CHAMPION


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    kind = ProductKind.PLAN


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    account = factory.SubFactory(AccountFactory)
    currency = "USD"
    start_date = dt.date(2025, 1, 1)
    end_date = dt.date(2025, 12, 31)
    renewal_date = dt.date(2026, 1, 1)


class SubscriptionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriptionItem

    subscription = factory.SubFactory(SubscriptionFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal("10")
    unit_price = Decimal("120.00")


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = "EUR"
    valid_from = dt.date(2020, 1, 1)
    rate = Decimal("1.10")


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    account = factory.SubFactory(AccountFactory)
    subject = factory.Sequence(lambda n: f"Ticket {n}")
    opened_at = factory.LazyFunction(timezone.now)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    account = factory.SubFactory(AccountFactory)
    kind = InteractionKind.CALL
    occurred_at = factory.LazyFunction(timezone.now)
    subject = "Weekly check-in"
