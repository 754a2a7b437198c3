"""Reads on accounts: the filtered list, the customer 360 and a user's portfolio."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from tandem.access.masking import HIDDEN, mask_instance, mask_rows, sees_contract_values
from tandem.access.scoping import restrict
from tandem.accounts.models import Account, AccountQuerySet, Contact, ContactRole, LifecycleStage
from tandem.subscriptions.models import Subscription
from tandem.subscriptions.selectors import (
    account_subscription_terms,
    reporting_currency,
    subscription_is_current,
)
from tandem.support.models import Ticket
from tandem.support.selectors import tickets_open_recent
from tandem.users.models import User
from tandem.users.selectors import user_sees_all_accounts

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.accounts.filters import AccountFilterSet

COUNTRY_CODES_CACHE_KEY = "accounts:country-codes"
# The country filter only needs to learn about a new country within a few minutes, and a
# DISTINCT over 100,000 accounts on every list request is the kind of scan the list must avoid.
COUNTRY_CODES_TTL_SECONDS = 600


def account_list_base() -> AccountQuerySet:
    """Accounts with what a list row shows joined in, so rendering a page is one query."""
    # health/risk: one-row-per-account tables (issue #4), LEFT JOINed: no extra query per page.
    return Account.objects.select_related("csm_owner", "am_owner", "health", "risk")


def account_filterset(*, filters: Mapping[str, Any] | None, user: User | AnonymousUser) -> AccountFilterSet:
    """The bound filter set of the accounts this person may see: ``.qs`` for the rows, ``.form`` to render."""
    from tandem.accounts.filters import AccountFilterSet  # the filter set imports this module

    # Archived accounts are hidden unless asked for (the filter set's ``archived`` only renders the choice).
    accounts = accounts_visible(user=user, archived=(filters or {}).get("archived"))
    return AccountFilterSet(data=filters or None, queryset=accounts)


def account_list(*, filters: Mapping[str, Any] | None = None, user: User | AnonymousUser) -> QuerySet[Account]:
    """Accounts this person may see matching the list filters (search ``q``, owners, tier, stage, country)."""
    return account_filterset(filters=filters, user=user).qs


def accounts_visible(*, user: User | AnonymousUser, archived: str | None = None) -> QuerySet[Account]:
    """The accounts this person may see, with what a list row shows: the page and the REST API read it.

    Live accounts only, unless ``archived`` is ``"archived"`` (archived only) or ``"all"`` (both)."""
    return restrict(account_list_base().by_archived(archived), user=user)


def account_search(queryset: QuerySet[Account], text: str) -> QuerySet[Account]:
    """Accounts whose name, domain or external id contains ``text`` (the list's and the API's ``q``)."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(name__icontains=text) | Q(domain__icontains=text) | Q(external_id__icontains=text))


def contact_list(*, user: User | AnonymousUser, account_id: int | None = None) -> QuerySet[Contact]:
    """Contacts this person may see with their roles: people still at the company first, the primary
    contact leading, then by name. The account page and the REST API read it."""
    qs = Contact.objects.prefetch_related(Prefetch("roles", queryset=ContactRole.objects.order_by("role")))
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return restrict(qs, user=user).order_by("-still_at_company", "-is_primary", "last_name", "first_name", "id")


def contact_search(*, user: User | AnonymousUser, text: str = "", include_left: bool = False) -> QuerySet[Contact]:
    """The contacts list (page and CSV export): people at the live accounts one may see, by name.

    ``text`` is looked for in the name, email and job title; people who left are left out unless
    ``include_left``."""
    contacts = restrict(Contact.objects.select_related("account").prefetch_related("roles"), user=user).filter(
        account__archived_at__isnull=True
    )
    text = text.strip()
    if text:
        contacts = contacts.filter(
            Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(email__icontains=text)
            | Q(title__icontains=text)
        )
    if not include_left:
        contacts = contacts.filter(still_at_company=True)
    return contacts.order_by("last_name", "first_name", "id")


def account_country_codes() -> list[str]:
    """Country codes in use on accounts, cached for a few minutes."""
    codes = cache.get(COUNTRY_CODES_CACHE_KEY)
    if codes is None:
        # Served from the (country, name) index, without touching the table.
        codes = list(
            Account.objects.exclude(country="").order_by("country").values_list("country", flat=True).distinct()
        )
        cache.set(COUNTRY_CODES_CACHE_KEY, codes, COUNTRY_CODES_TTL_SECONDS)
    return codes


@dataclass(frozen=True)
class SubscriptionTerm:
    """A contract term and whether it generates revenue today."""

    subscription: Subscription
    is_current: bool


@dataclass(frozen=True)
class Account360:
    """Everything the account page shows except the timeline, tickets and usage."""

    account: Account
    children: list[Account]
    contacts: list[Contact]
    terms: list[SubscriptionTerm]
    # ARR of current terms in their own currencies; shown when it differs from the reporting one.
    native_arr: dict[str, Decimal]
    reporting_currency: str
    days_to_renewal: int | None

    @property
    def days_overdue(self) -> int:
        """Days since a renewal date that has passed (0 when it has not)."""
        return max(0, -(self.days_to_renewal or 0))

    @property
    def native_arr_other_currencies(self) -> dict[str, Decimal]:
        return {c: v for c, v in self.native_arr.items() if c != self.reporting_currency}


def account_360(*, account_id: int, today: dt.date, user: User | AnonymousUser) -> Account360:
    """The customer 360 of one account as this person may see it. Raises Account.DoesNotExist."""
    account = restrict(Account.objects.select_related("csm_owner", "am_owner", "parent"), user=user).get(pk=account_id)
    children = mask_rows(restrict(account.children.order_by("name", "id"), user=user), user=user)
    contacts = list(contact_list(user=user, account_id=account_id))
    terms = [
        SubscriptionTerm(subscription=s, is_current=subscription_is_current(subscription=s, on=today))
        for s in account_subscription_terms(user=user, account_id=account_id)
    ]
    native: dict[str, Decimal] = defaultdict(Decimal)
    for term in terms:
        if term.is_current:
            native[term.subscription.currency] += term.subscription.arr
    if not sees_contract_values(user):
        mask_instance(account, user=user)
        mask_rows([term.subscription for term in terms], user=user)
        native.clear()
    return Account360(
        account=account,
        children=children,
        contacts=contacts,
        terms=terms,
        native_arr=dict(native),
        reporting_currency=reporting_currency(),
        days_to_renewal=(account.renewal_date - today).days if account.renewal_date else None,
    )


def account_portfolio(*, user: User, sees_all: bool | None = None) -> QuerySet[Account]:
    """The live accounts a user looks after: all for admins and CS managers, else those they own.

    Archived accounts are not part of anyone's book (they are no longer worked)."""
    if sees_all is None:
        sees_all = user_sees_all_accounts(user=user)
    if sees_all:
        return Account.objects.live()
    return Account.objects.live().filter(Q(csm_owner=user) | Q(am_owner=user))


@dataclass(frozen=True)
class PortfolioOverview:
    """Headline numbers and short lists for the home page."""

    sees_all: bool
    account_count: int
    arr: Decimal
    onboarding_count: int
    renewals: list[Account]
    renewals_count: int
    renewals_arr: Decimal
    onboarding: list[Account]
    open_tickets: list[Ticket]
    reporting_currency: str


def portfolio_overview(
    *, user: User, today: dt.date, renewal_window_days: int = 90, limit: int = 10
) -> PortfolioOverview:
    """A user's book of business: size, ARR, renewals due, onboarding accounts, open tickets."""
    sees_all = user_sees_all_accounts(user=user)
    accounts = account_portfolio(user=user, sees_all=sees_all)
    totals = accounts.aggregate(
        n=Count("id"),
        arr=Sum("arr"),
        onboarding=Count("id", filter=Q(lifecycle_stage=LifecycleStage.ONBOARDING)),
    )
    # Renewals are the open renewal opportunities closing within the window (overdue ones too):
    # the same rows the renewal center shows with that horizon, so the two pages agree. Evergreen
    # monthly terms never come up for renewal and get no renewal opportunity.
    from tandem.opportunities.selectors import renewals_open

    horizon = today + dt.timedelta(days=renewal_window_days)
    due = renewals_open().filter(close_date__lte=horizon)
    if not sees_all:
        due = due.filter(account__in=accounts)
    renewal_totals = due.aggregate(n=Count("id"), arr=Sum("current_arr"))
    # The first renewals by close date, one row per account (read from the few open renewals, not
    # by annotating every account: the home page stays fast with 100,000 accounts).
    renewals: list[Account] = []
    for opportunity in due.select_related("account__csm_owner").order_by("close_date", "id")[: limit * 4]:
        account = opportunity.account
        if all(a.pk != account.pk for a in renewals):
            account.renewal_due = opportunity.close_date  # type: ignore[attr-defined]
            renewals.append(account)
        if len(renewals) == limit:
            break
    overview = PortfolioOverview(
        sees_all=sees_all,
        account_count=totals["n"],
        arr=totals["arr"] or Decimal("0"),
        onboarding_count=totals["onboarding"],
        renewals=renewals,
        renewals_count=renewal_totals["n"],
        renewals_arr=renewal_totals["arr"] or Decimal("0"),
        onboarding=list(
            accounts.filter(lifecycle_stage=LifecycleStage.ONBOARDING)
            .select_related("csm_owner")
            .order_by("-start_date", "name", "id")[:limit]
        ),
        open_tickets=tickets_open_recent(accounts=None if sees_all else accounts, limit=limit),
        reporting_currency=reporting_currency(),
    )
    if sees_contract_values(user):
        return overview
    mask_rows(overview.renewals, user=user)
    return replace(overview, arr=HIDDEN, renewals_arr=HIDDEN)  # type: ignore[arg-type]
