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
