"""The meetings API: schedule, move (SEQUENCE raised), cancel, list mine; errors as problems."""

import pytest

from tandem.jobs.models import Job
from tests.api.helpers import ApiClient, api_fixture, assert_problem  # noqa: F401
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_schedule_move_cancel_round_trip(api: ApiClient) -> None:
    account = AccountFactory()
    contact = ContactFactory(account=account, email="kim@acme.example")
    created = api.post(
        "/meetings/",
        {
            "account": account.pk,
            "kind": "qbr",
            "title": "QBR",
            "starts_at": "2030-04-02T14:00:00Z",
            "ends_at": "2030-04-02T15:00:00Z",
            "contacts": [contact.pk],
            "colleagues": [api.user.pk],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["sequence"], body["status"], body["contacts"], body["organizer"]) == (
        0,
        "scheduled",
        [contact.pk],
        api.user.pk,
    )
    moved = api.patch(
        f"/meetings/{body['id']}", {"starts_at": "2030-04-03T14:00:00Z", "ends_at": "2030-04-03T15:00:00Z"}
    )
    assert moved.status_code == 200, moved.content
    assert (moved.json()["sequence"], moved.json()["uid"]) == (1, body["uid"])
    listed = api.get("/meetings/").json()
    assert [m["id"] for m in listed["items"]] == [body["id"]]
    cancelled = api.post(f"/meetings/{body['id']}/cancel", {})
    assert (cancelled.json()["status"], cancelled.json()["sequence"]) == ("cancelled", 2)
    assert Job.objects.filter(name="meetings.invite").count() == 3


def test_an_invalid_meeting_is_a_problem_and_writes_nothing(api: ApiClient) -> None:
    account = AccountFactory()
    other = ContactFactory(account=AccountFactory())
    response = api.post(
        "/meetings/",
        {
            "account": account.pk,
            "kind": "qbr",
            "title": "QBR",
            "starts_at": "2030-04-02T14:00:00Z",
            "ends_at": "2030-04-02T13:00:00Z",
            "contacts": [other.pk],
        },
    )
    assert_problem(response, 400)
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"ends_at", "contacts"}
    assert not Job.objects.exists()
