import pytest

from tandem.timeline.models import Interaction
from tests.api.helpers import ApiClient, api_fixture, assert_problem  # noqa: F401
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, UserFactory, as_fixture

pytestmark = pytest.mark.django_db


def test_interaction_crud_round_trip(api: ApiClient):
    account = AccountFactory()
    contact = ContactFactory(account=account)
    colleague = UserFactory()

    created = api.post(
        "/interactions/",
        {
            "account": account.pk,
            "kind": "meeting",
            "occurred_at": "2025-04-02T14:30:00Z",
            "subject": "Kick-off",
            "duration_minutes": 45,
            "users": [colleague.pk],
            "contacts": [contact.pk],
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    interaction_id = body.pop("id")
    assert body.pop("created_at") and body.pop("updated_at")
    assert body == {
        "account": account.pk,
        "kind": "meeting",
        "occurred_at": "2025-04-02T14:30:00Z",
        "subject": "Kick-off",
        "summary": "",
        "duration_minutes": 45,
        "external_id": None,
        "author": api.user.pk,
        "cta": None,
        "pinned": False,
        "edited_at": None,
        "users": [colleague.pk],
        "contacts": [contact.pk],
    }

    patched = api.patch(f"/interactions/{interaction_id}", {"summary": "Went well", "users": [], "kind": "qbr"})
    assert (patched.json()["summary"], patched.json()["users"], patched.json()["kind"]) == (
        "Went well",
        [],
        "qbr",
    )
    assert patched.json()["contacts"] == [contact.pk]

    assert api.delete(f"/interactions/{interaction_id}").status_code == 204
    assert Interaction.objects.count() == 0


def test_contact_from_another_account_is_refused_and_nothing_is_written(api: ApiClient):
    account = AccountFactory()
    stranger = ContactFactory()

    response = api.post(
        "/interactions/",
        {
            "account": account.pk,
            "kind": "call",
            "occurred_at": "2025-04-02T14:30:00Z",
            "contacts": [stranger.pk],
        },
    )

    assert_problem(response, 400, ["contacts"])
    assert Interaction.objects.count() == 0


def test_patch_adding_a_foreign_contact_keeps_the_stored_contacts(api: ApiClient):
    interaction = InteractionFactory()
    own = ContactFactory(account=interaction.account)
    with as_fixture():
        interaction.contacts.add(own)

    response = api.patch(f"/interactions/{interaction.pk}", {"contacts": [own.pk, ContactFactory().pk]})

    assert_problem(response, 400, ["contacts"])
    assert list(interaction.contacts.values_list("pk", flat=True)) == [own.pk]


def test_unknown_users_are_named(api: ApiClient):
    response = api.post(
        "/interactions/",
        {
            "account": AccountFactory().pk,
            "kind": "note",
            "occurred_at": "2025-04-02T14:30:00Z",
            "users": [987654],
        },
    )

    body = assert_problem(response, 400, ["users"])
    assert "987654" in body["errors"][0]["message"]
    assert Interaction.objects.count() == 0


def test_interaction_list_filters(api: ApiClient):
    account = AccountFactory()
    call = InteractionFactory(account=account, kind="call", occurred_at="2025-01-10T10:00:00Z")
    qbr = InteractionFactory(account=account, kind="qbr", occurred_at="2025-03-10T10:00:00Z")
    InteractionFactory(kind="qbr")  # another account

    def ids(params: dict) -> list[int]:
        return [i["id"] for i in api.get("/interactions/", params).json()["items"]]

    assert ids({"account": account.pk}) == [qbr.pk, call.pk]
    assert ids({"account": account.pk, "kind": "qbr"}) == [qbr.pk]
    assert ids({"account": account.pk, "occurred_after": "2025-02-01T00:00:00Z"}) == [qbr.pk]
    assert ids({"account": account.pk, "occurred_before": "2025-02-01T00:00:00Z"}) == [call.pk]


@pytest.mark.parametrize("size", [2, 7])
def test_interaction_list_query_count_does_not_grow_with_the_page(api: ApiClient, django_assert_num_queries, size: int):
    for interaction in InteractionFactory.create_batch(size):
        interaction.users.add(UserFactory())
        with as_fixture():
            interaction.contacts.add(ContactFactory(account=interaction.account))
    api.get("/interactions/")
    # token, permissions (2), access rule (2), count, page, users prefetch, contacts prefetch
    with django_assert_num_queries(9):
        response = api.get("/interactions/")
    assert [(len(i["users"]), len(i["contacts"])) for i in response.json()["items"]] == [(1, 1)] * size


# --- the unified timeline and attachments --------------------------------------------------------


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_account_timeline_pages_filters_and_refuses_a_bad_cursor(api: ApiClient):
    import datetime as dt

    from django.utils import timezone

    from tandem.timeline.events import record
    from tandem.timeline.models import EventKind

    account = AccountFactory()
    now = timezone.now()
    for n in range(3):
        InteractionFactory(account=account, kind="note", subject=f"Note {n}", occurred_at=now - dt.timedelta(hours=n))
    with as_fixture():
        record(
            account_id=account.pk,
            kind=EventKind.OPPORTUNITY_WON,
            occurred_at=now - dt.timedelta(minutes=30),
            data={"name": "Add-on", "amount": "5000", "currency": "USD"},
        )

    first = api.get(f"/accounts/{account.pk}/timeline", {"limit": 2})
    assert first.status_code == 200, first.content
    body = first.json()
    assert [i["title"] for i in body["items"]] == ["Note 0", "Opportunity won: Add-on"]
    assert body["items"][1]["data"]["amount"] == "5000" and body["items"][1]["type"] == "opportunity"
    rest = api.get(f"/accounts/{account.pk}/timeline", {"limit": 2, "cursor": body["next_cursor"]}).json()
    assert [i["title"] for i in rest["items"]] == ["Note 1", "Note 2"] and rest["next_cursor"] is None

    only = api.client.get(f"/api/v1/accounts/{account.pk}/timeline?type=opportunity&type=health").json()
    assert [i["kind"] for i in only["items"]] == ["opportunity_won"]

    assert_problem(api.get(f"/accounts/{account.pk}/timeline", {"cursor": "nonsense"}), 400, ["cursor"])
    assert_problem(api.get(f"/accounts/{account.pk}/timeline", {"type": "gossip"}), 400, ["type"])
    assert_problem(api.get(f"/accounts/{account.pk}/timeline", {"limit": 0}), 422, ["limit"])
    assert api.get("/accounts/99999999/timeline").status_code == 404


def test_a_contact_timeline_and_values_masked_for_a_csm():
    from django.utils import timezone

    from tandem.timeline.events import record
    from tandem.timeline.models import EventKind
    from tandem.users.roles import Role
    from tests.api.helpers import api_client_for

    csm = api_client_for(Role.CSM, "casey")
    account = AccountFactory()
    contact = ContactFactory(account=account)
    with as_fixture():
        record(
            account_id=account.pk,
            contact_id=contact.pk,
            kind=EventKind.CONTRACT_CHANGED,
            occurred_at=timezone.now(),
            data={"change": "renewed", "name": "Growth", "arr": "12000", "arr_before": "10000", "currency": "EUR"},
        )
    body = csm.get(f"/contacts/{contact.pk}/timeline").json()
    [entry] = body["items"]
    assert entry["title"] == "Contract renewed: Growth" and entry["detail"] == "ARR •••"
    assert entry["data"]["arr"] is None and entry["data"]["arr_before"] is None and entry["data"]["currency"] == "EUR"


def test_attachments_upload_list_download_delete(api: ApiClient, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    interaction = InteractionFactory(kind="note")
    url = f"/api/v1/interactions/{interaction.pk}/attachments"
    created = api.client.post(url, {"file": SimpleUploadedFile("chart.png", _png())})
    assert created.status_code == 201, created.content
    attachment = created.json()
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == ("chart.png", "image/png", 40)
    assert [a["id"] for a in api.get(f"/interactions/{interaction.pk}/attachments").json()] == [attachment["id"]]
    download = api.client.get(f"{url}/{attachment['id']}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == _png()

    settings.TANDEM_ATTACHMENT_MAX_BYTES = 1024
    too_big = api.client.post(url, {"file": SimpleUploadedFile("big.png", _png() + b"\x00" * 2000)})
    assert_problem(too_big, 400, ["file"])
    wrong = api.client.post(url, {"file": SimpleUploadedFile("run.sh", b"#!/bin/sh\nrm -rf /\n")})
    assert_problem(wrong, 400, ["file"])

    assert api.delete(f"/interactions/{interaction.pk}/attachments/{attachment['id']}").status_code == 204
    assert api.get(f"/interactions/{interaction.pk}/attachments").json() == []
    assert api.client.get(f"{url}/{attachment['id']}").status_code == 404


def test_pinning_through_the_api(api: ApiClient):
    interaction = InteractionFactory(kind="note")
    body = api.patch(f"/interactions/{interaction.pk}", {"pinned": True}).json()
    assert body["pinned"] is True
    timeline = api.get(f"/accounts/{interaction.account_id}/timeline").json()
    assert [i["id"] for i in timeline["pinned"]] == [f"interaction-{interaction.pk}"]


def test_an_upload_without_a_file_names_the_field(api: ApiClient):
    interaction = InteractionFactory(kind="note")
    assert_problem(api.client.post(f"/api/v1/interactions/{interaction.pk}/attachments", {}), 400, ["file"])
