import pytest

from tandem.support.models import Ticket
from tests.api.helpers import ApiClient, api_fixture, assert_problem  # noqa: F401
from tests.factories import AccountFactory, ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_ticket_crud_round_trip(api: ApiClient):
    account = AccountFactory()
    requester = ContactFactory(account=account)

    created = api.post(
        "/tickets/",
        {
            "account": account.pk,
            "contact": requester.pk,
            "subject": "SSO login fails",
            "priority": "urgent",
            "opened_at": "2025-03-01T09:00:00Z",
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    ticket_id = body.pop("id")
    assert body.pop("created_at") and body.pop("updated_at")
    assert body == {
        "account": account.pk,
        "contact": requester.pk,
        "external_id": None,
        "subject": "SSO login fails",
        "priority": "urgent",
        "status": "new",
        "opened_at": "2025-03-01T09:00:00Z",
        "closed_at": None,
        "satisfaction": None,
    }

    patched = api.patch(
        f"/tickets/{ticket_id}",
        {"status": "solved", "closed_at": "2025-03-02T10:00:00Z", "satisfaction": 4},
    )
    assert (patched.json()["status"], patched.json()["satisfaction"]) == ("solved", 4)
    assert Ticket.objects.get(pk=ticket_id).satisfaction == 4

    assert api.delete(f"/tickets/{ticket_id}").status_code == 204
    assert Ticket.objects.count() == 0


def test_requester_from_another_account_is_refused(api: ApiClient):
    account = AccountFactory()

    response = api.post(
        "/tickets/",
        {
            "account": account.pk,
            "contact": ContactFactory().pk,
            "subject": "Help",
            "opened_at": "2025-03-01T09:00:00Z",
        },
    )

    assert_problem(response, 400, ["contact"])
    assert Ticket.objects.count() == 0


def test_closing_before_opening_is_refused_and_changes_nothing(api: ApiClient):
    ticket = TicketFactory(status="open")

    response = api.patch(f"/tickets/{ticket.pk}", {"status": "closed", "closed_at": "2000-01-01T00:00:00Z"})

    assert_problem(response, 400, ["closed_at"])
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_at) == ("open", None)


def test_ticket_list_filters_and_ordering(api: ApiClient):
    account = AccountFactory()
    old = TicketFactory(account=account, opened_at="2025-01-05T00:00:00Z", priority="high")
    new = TicketFactory(account=account, opened_at="2025-02-05T00:00:00Z", status="open")
    TicketFactory(opened_at="2025-02-05T00:00:00Z")  # another account

    def ids(params: dict) -> list[int]:
        return [i["id"] for i in api.get("/tickets/", params).json()["items"]]

    assert ids({"account": account.pk}) == [new.pk, old.pk]
    assert ids({"account": account.pk, "ordering": "opened_at"}) == [old.pk, new.pk]
    assert ids({"account": account.pk, "opened_after": "2025-02-01T00:00:00Z"}) == [new.pk]
    assert ids({"account": account.pk, "opened_before": "2025-02-01T00:00:00Z"}) == [old.pk]
    assert ids({"priority": "high"}) == [old.pk]
    assert ids({"status": "open"}) == [new.pk]
    assert_problem(api.get("/tickets/", {"priority": "meh"}), 422, ["priority"])


@pytest.mark.parametrize("size", [2, 10])
def test_ticket_list_query_count_does_not_grow_with_the_page(api: ApiClient, django_assert_num_queries, size: int):
    TicketFactory.create_batch(size)
    api.get("/tickets/")
    with django_assert_num_queries(7):  # token, permissions (2), access rule (2), count, page
        response = api.get("/tickets/")
    assert response.json()["count"] == size
