"""Reads of logged email, always through the access helper."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet
from django.db.models.functions import Lower

from tandem.access.scoping import restrict
from tandem.accounts.models import Account, Contact
from tandem.maillog.models import LoggedEmail, MailAddress
from tandem.users.models import User


def address_of(user: User) -> MailAddress | None:
    return MailAddress.objects.filter(user=user).first()


def email_list(
    *, user: User | AnonymousUser, unassigned: bool | None = None, account_id: int | None = None
) -> QuerySet[LoggedEmail]:
    qs = LoggedEmail.objects.select_related("user", "account").annotate(attachment_count=Count("attachments"))
    if unassigned is True:
        qs = qs.filter(account__isnull=True)
    elif unassigned is False:
        qs = qs.filter(account__isnull=False)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return restrict(qs, user=user).order_by("-sent_at", "-id")


def email_detail_queryset() -> QuerySet[LoggedEmail]:
    return LoggedEmail.objects.select_related("user", "account", "interaction").prefetch_related(
        "attachments", "contacts"
    )


def _token_re() -> re.Pattern[str]:
    local = re.escape(settings.TANDEM_MAIL_LOCAL_PART)
    domain = re.escape(settings.TANDEM_MAIL_DOMAIN)
    return re.compile(rf"^{local}\+([a-z0-9]+)@{domain}$", re.IGNORECASE)


def token_of(address: str) -> str | None:
    """The token of a BCC address (log+TOKEN@domain), None for any other address."""
    match = _token_re().match(address.strip().strip("<>"))
    return match.group(1).lower() if match else None


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower() if "@" in address else ""


def match_account(*, user: User, addresses: Sequence[str]) -> tuple[Account | None, list[Contact]]:
    """Contacts by address, their account if they share one; else the one account whose domain matches."""
    own_domains = {_domain(user.email), settings.TANDEM_MAIL_DOMAIN} - {""}
    external = [a for a in dict.fromkeys(addresses) if a and a != user.email.lower() and token_of(a) is None]
    contacts = list(
        Contact.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=external)
        .select_related("account")
        .order_by("id")
    )
    if contacts:
        counts = Counter(c.account_id for c in contacts).most_common()
        if len(counts) == 1 or counts[0][1] > counts[1][1]:
            account = next(c.account for c in contacts if c.account_id == counts[0][0])
            return account, [c for c in contacts if c.account_id == account.pk]
    domains = {_domain(a) for a in external} - own_domains - {""}
    if domains:
        accounts = list(Account.objects.annotate(d=Lower("domain")).filter(d__in=domains).order_by("id")[:2])
        if len(accounts) == 1:
            return accounts[0], []
    return None, []
