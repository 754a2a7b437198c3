import datetime as dt

import pytest
from django.utils import timezone

from tandem.accounts.models import Account
from tandem.support.models import TicketStatus
from tandem.support.selectors import account_tickets, tickets_open_recent
from tests.factories import AccountFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_account_tickets_lists_open_tickets_first_then_most_recent(admin_user):
    account = AccountFactory()
    now = timezone.now()
    old_open = TicketFactory(account=account, status=TicketStatus.PENDING, opened_at=now - dt.timedelta(days=30))
    new_solved = TicketFactory(account=account, status=TicketStatus.SOLVED, opened_at=now)
    new_open = TicketFactory(account=account, status=TicketStatus.NEW, opened_at=now - dt.timedelta(days=1))
    old_closed = TicketFactory(account=account, status=TicketStatus.CLOSED, opened_at=now - dt.timedelta(days=60))
    TicketFactory(status=TicketStatus.OPEN)  # another account

    assert account_tickets(user=admin_user, account_id=account.pk) == [new_open, old_open, new_solved, old_closed]
    assert account_tickets(user=admin_user, account_id=account.pk, limit=2) == [new_open, old_open]


def test_tickets_open_recent_can_be_limited_to_some_accounts():
    mine, theirs = AccountFactory(), AccountFactory()
    now = timezone.now()
    older = TicketFactory(account=mine, status=TicketStatus.OPEN, opened_at=now - dt.timedelta(hours=2))
    newer = TicketFactory(account=mine, status=TicketStatus.NEW, opened_at=now)
    TicketFactory(account=mine, status=TicketStatus.SOLVED, opened_at=now)
    elsewhere = TicketFactory(account=theirs, status=TicketStatus.OPEN, opened_at=now - dt.timedelta(hours=1))

    assert tickets_open_recent(accounts=Account.objects.filter(pk=mine.pk)) == [newer, older]
    assert tickets_open_recent() == [newer, elsewhere, older]
    assert tickets_open_recent(limit=1) == [newer]
