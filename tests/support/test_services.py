import datetime as dt

import pytest

from tandem.core.errors import DomainError
from tandem.support.models import Ticket
from tandem.support.services import ticket_create, ticket_delete, ticket_update
from tests.factories import AccountFactory, ContactFactory, TicketFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
OPENED = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_ticket_create_stores_exact_values():
    account = AccountFactory()
    requester = ContactFactory(account=account)

    ticket = ticket_create(
        acting_user=None,
        account=account,
        contact=requester,
        subject=" Login fails ",
        opened_at=OPENED,
        priority="high",
        external_id="zd-1",
    )

    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.subject, stored.priority, stored.status) == ("Login fails", "high", "new")
    assert (stored.contact_id, stored.external_id, stored.opened_at) == (
        requester.pk,
        "zd-1",
        OPENED,
    )


def test_requester_from_another_account_is_refused():
    account = AccountFactory()
    stranger = ContactFactory()

    with pytest.raises(DomainError) as excinfo:
        ticket_create(acting_user=None, account=account, contact=stranger, subject="Help", opened_at=OPENED)

    assert [e.field for e in excinfo.value.errors] == ["contact"]
    assert Ticket.objects.count() == 0


def test_ticket_update_refuses_closing_before_opening_and_bad_csat():
    ticket = TicketFactory(opened_at=OPENED)

    with pytest.raises(DomainError) as excinfo:
        ticket_update(
            acting_user=None,
            ticket=ticket,
            data={"closed_at": OPENED - dt.timedelta(hours=1), "satisfaction": 6},
        )

    assert sorted(e.field for e in excinfo.value.errors) == ["closed_at", "satisfaction"]
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.closed_at, stored.satisfaction) == (None, None)

    ticket_update(acting_user=None, ticket=ticket, data={"status": "solved", "closed_at": OPENED, "satisfaction": 5})
    stored.refresh_from_db()
    assert (stored.status, stored.closed_at, stored.satisfaction) == ("solved", OPENED, 5)


def test_ticket_delete():
    ticket_delete(acting_user=None, ticket=TicketFactory())
    assert Ticket.objects.count() == 0
