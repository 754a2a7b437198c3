import datetime as dt

import pytest

from tandem.accounts.models import Account, Contact, ContactRole
from tests.api.helpers import ApiClient, api_fixture, assert_problem, readonly_api_fixture  # noqa: F401
from tests.factories import AccountFactory, ContactFactory, ContactRoleFactory, UserFactory, as_fixture

pytestmark = pytest.mark.django_db


def test_account_crud_round_trip(api: ApiClient):
    csm = UserFactory()
    parent = AccountFactory(name="Acme Group")

    created = api.post(
        "/accounts/",
        {
            "name": "Acme GmbH",
            "domain": "acme.example",
            "external_id": "acme-de",
            "country": "de",
            "currency": "eur",
            "tier": "enterprise",
            "lifecycle_stage": "adoption",
            "parent": parent.pk,
            "csm_owner": csm.pk,
            "start_date": "2024-02-01",
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    account_id = body.pop("id")
    assert body.pop("created_at") and body.pop("updated_at")
    assert body == {
        "name": "Acme GmbH",
        "domain": "acme.example",
        "external_id": "acme-de",
        "crm_id": None,
        "billing_id": None,
        "industry": "",
        "country": "DE",
        "currency": "EUR",
        "tier": "enterprise",
        "lifecycle_stage": "adoption",
        "parent": parent.pk,
        "csm_owner": csm.pk,
        "am_owner": None,
        "start_date": "2024-02-01",
        "traits": {},
        "mrr": "0.00",
        "arr": "0.00",
        "renewal_date": None,
        "archived_at": None,
    }
    assert api.get(f"/accounts/{account_id}").json()["name"] == "Acme GmbH"

    patched = api.patch(f"/accounts/{account_id}", {"tier": "mid_market", "parent": None})
    assert patched.status_code == 200
    assert (patched.json()["tier"], patched.json()["parent"]) == ("mid_market", None)
    stored = Account.objects.get(pk=account_id)
    assert (stored.tier, stored.parent_id, stored.name) == ("mid_market", None, "Acme GmbH")

    deleted = api.delete(f"/accounts/{account_id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert not Account.objects.filter(pk=account_id).exists()
    assert_problem(api.get(f"/accounts/{account_id}"), 404)


def test_duplicate_external_id_is_a_409_and_changes_nothing(api: ApiClient):
    AccountFactory(name="Original", external_id="ext-1")

    response = api.post("/accounts/", {"name": "Copy", "external_id": "ext-1"})

    body = assert_problem(response, 409, ["external_id"])
    assert body["type"] == "urn:tandem:problem:conflict"
    assert list(Account.objects.values_list("name", flat=True)) == ["Original"]


def test_patch_with_bad_values_names_each_field_and_leaves_the_account(api: ApiClient):
    account = AccountFactory(name="Acme", currency="USD", tier="smb")

    response = api.patch(f"/accounts/{account.pk}", {"name": "", "currency": "dollars"})

    body = assert_problem(response, 400)
    assert sorted({e["field"] for e in body["errors"]}) == ["currency", "name"]
    account.refresh_from_db()
    assert (account.name, account.currency) == ("Acme", "USD")


def test_unknown_reference_is_named(api: ApiClient):
    response = api.post("/accounts/", {"name": "Acme", "csm_owner": 987654})

    assert_problem(response, 400, ["csm_owner"])
    assert Account.objects.count() == 0


def test_account_list_filters_paginates_and_orders(api: ApiClient):
    csm = UserFactory()
    a = AccountFactory(name="Alpha", tier="enterprise", csm_owner=csm, country="DE")
    b = AccountFactory(name="Bravo", tier="enterprise", csm_owner=csm, domain="bravo.example")
    AccountFactory(name="Charlie", tier="smb", csm_owner=csm)
    AccountFactory(name="Delta", tier="enterprise")

    page = api.get("/accounts/", {"tier": "enterprise", "csm_owner": csm.pk, "limit": 1})
    assert page.json()["count"] == 2
    assert [i["name"] for i in page.json()["items"]] == ["Alpha"]
    page2 = api.get("/accounts/", {"tier": "enterprise", "csm_owner": csm.pk, "limit": 1, "offset": 1})
    assert [i["id"] for i in page2.json()["items"]] == [b.pk]

    by_q = api.get("/accounts/", {"q": "BRAVO.ex"}).json()
    assert [i["id"] for i in by_q["items"]] == [b.pk]
    by_ext = api.get("/accounts/", {"external_id": a.external_id}).json()
    assert [i["id"] for i in by_ext["items"]] == [a.pk]
    by_country = api.get("/accounts/", {"country": "de"}).json()
    assert [i["id"] for i in by_country["items"]] == [a.pk]
    newest_name_first = api.get("/accounts/", {"ordering": "-name"}).json()
    assert [i["name"] for i in newest_name_first["items"]] == ["Delta", "Charlie", "Bravo", "Alpha"]


def test_account_list_updated_since_and_parent(api: ApiClient):
    parent = AccountFactory(name="Parent")
    child = AccountFactory(name="Child", parent=parent)
    with as_fixture():
        Account.objects.filter(pk=parent.pk).update(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))

    recent = api.get("/accounts/", {"updated_since": "2024-01-01T00:00:00Z"}).json()
    assert [i["id"] for i in recent["items"]] == [child.pk]
    children = api.get("/accounts/", {"parent": parent.pk}).json()
    assert (children["count"], children["items"][0]["id"]) == (1, child.pk)


def test_limit_above_500_is_refused(api: ApiClient):
    assert_problem(api.get("/accounts/", {"limit": 501}), 422, ["limit"])
    assert api.get("/accounts/", {"limit": 500}).status_code == 200


@pytest.mark.parametrize("size", [3, 12])
def test_account_list_query_count_does_not_grow_with_the_page(api: ApiClient, django_assert_num_queries, size: int):
    AccountFactory.create_batch(size)
    api.get("/accounts/")  # warm the token's last-used stamp
    # token lookup, permission lookups (user, group), access rule (roles, rule), count, page
    with django_assert_num_queries(7):
        response = api.get("/accounts/")
    assert response.json()["count"] == size


def test_read_only_user_reads_but_cannot_write(readonly_api: ApiClient):
    account = AccountFactory(name="Acme")

    assert readonly_api.get(f"/accounts/{account.pk}").status_code == 200
    assert_problem(readonly_api.post("/accounts/", {"name": "New"}), 403)
    assert_problem(readonly_api.patch(f"/accounts/{account.pk}", {"name": "Renamed"}), 403)
    assert_problem(readonly_api.delete(f"/accounts/{account.pk}"), 403)
    assert list(Account.objects.values_list("name", flat=True)) == ["Acme"]


# --- Contacts ----------------------------------------------------------------------------------


def test_contact_crud_round_trip_with_roles_and_primary(api: ApiClient):
    account = AccountFactory()
    previous = ContactFactory(account=account, is_primary=True)

    created = api.post(
        "/contacts/",
        {
            "account": account.pk,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@customer.example",
            "is_primary": True,
            "roles": ["executive_sponsor", "champion"],
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    contact_id = body["id"]
    assert {k: body[k] for k in ("account", "full_name", "is_primary", "roles")} == {
        "account": account.pk,
        "full_name": "Ada Lovelace",
        "is_primary": True,
        "roles": ["champion", "executive_sponsor"],
    }
    previous.refresh_from_db()
    assert previous.is_primary is False

    patched = api.patch(f"/contacts/{contact_id}", {"title": "CFO", "roles": ["billing"]})
    assert (patched.json()["title"], patched.json()["roles"]) == ("CFO", ["billing"])
    assert list(ContactRole.objects.filter(contact_id=contact_id).values_list("role", flat=True)) == ["billing"]

    assert api.delete(f"/contacts/{contact_id}").status_code == 204
    assert list(Contact.objects.values_list("pk", flat=True)) == [previous.pk]


def test_contact_bad_role_and_bad_email(api: ApiClient):
    account = AccountFactory()

    bad_role = api.post("/contacts/", {"account": account.pk, "email": "a@b.example", "roles": ["boss"]})
    assert_problem(bad_role, 422, ["roles.0"])
    bad_email = api.post("/contacts/", {"account": account.pk, "email": "nope", "is_primary": True})
    assert_problem(bad_email, 400, ["email"])
    assert Contact.objects.count() == 0


def test_contact_list_filters(api: ApiClient):
    account = AccountFactory()
    champion = ContactFactory(account=account, email="Champ@Customer.example")
    ContactRoleFactory(contact=champion, role="champion")
    ContactRoleFactory(contact=champion, role="admin")
    gone = ContactFactory(account=account, still_at_company=False)
    ContactFactory()  # another account

    by_role = api.get("/contacts/", {"role": "champion"}).json()
    assert [i["id"] for i in by_role["items"]] == [champion.pk]
    by_email = api.get("/contacts/", {"email": "champ@customer.example"}).json()
    assert [i["id"] for i in by_email["items"]] == [champion.pk]
    left = api.get("/contacts/", {"account": account.pk, "still_at_company": False}).json()
    assert [i["id"] for i in left["items"]] == [gone.pk]
    assert api.get("/contacts/", {"account": account.pk}).json()["count"] == 2


@pytest.mark.parametrize("size", [2, 9])
def test_contact_list_query_count_does_not_grow_with_the_page(api: ApiClient, django_assert_num_queries, size: int):
    for contact in ContactFactory.create_batch(size):
        ContactRoleFactory(contact=contact)
    api.get("/contacts/")
    # token, permissions (2), access rule (2), count, page, roles prefetch
    with django_assert_num_queries(8):
        response = api.get("/contacts/")
    assert [len(i["roles"]) for i in response.json()["items"]] == [1] * size
