"""Owners named by username or email, the users directory, and every error of a request at once."""

import pytest

from tandem.accounts.models import Account
from tests.api.helpers import ApiClient, api_fixture, assert_problem, readonly_api_fixture  # noqa: F401
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_owners_by_username_or_email(api: ApiClient):
    csm = UserFactory(username="casey", email="Casey@Example.com")
    am = UserFactory(username="avery", email="avery@example.com")

    created = api.post("/accounts/", {"name": "Acme", "csm_owner": "casey", "am_owner": "AVERY@example.com"})

    assert created.status_code == 201, created.content
    assert (created.json()["csm_owner"], created.json()["am_owner"]) == (csm.pk, am.pk)
    patched = api.patch(f"/accounts/{created.json()['id']}", {"csm_owner": "avery@example.com"})
    assert patched.json()["csm_owner"] == am.pk
    assert api.patch(f"/accounts/{created.json()['id']}", {"csm_owner": csm.pk}).json()["csm_owner"] == csm.pk


def test_an_unknown_owner_is_reported_with_every_other_error_and_nothing_is_written(api: ApiClient):
    AccountFactory(name="Taken", external_id="ext-1")

    response = api.post(
        "/accounts/",
        {"name": "", "csm_owner": "nobody", "am_owner": 999999, "external_id": "ext-1", "currency": "EURO"},
    )

    body = assert_problem(response, 400)
    assert {e["field"] for e in body["errors"]} >= {"csm_owner", "am_owner", "name", "external_id", "currency"}
    assert Account.objects.count() == 1


def test_a_patch_reports_every_error_and_changes_nothing(api: ApiClient):
    account = AccountFactory(name="Acme")
    response = api.patch(f"/accounts/{account.pk}", {"name": "", "am_owner": "ghost@example.com"})
    body = assert_problem(response, 400)
    assert {e["field"] for e in body["errors"]} == {"am_owner", "name"}
    account.refresh_from_db()
    assert account.name == "Acme"


def test_the_users_directory(readonly_api: ApiClient):
    UserFactory(username="zed", first_name="Zed", last_name="Zulu")
    UserFactory(username="gone", is_active=False)

    response = readonly_api.get("/users/")

    assert response.status_code == 200
    rows = {u["username"]: u for u in response.json()["items"]}
    assert "gone" not in rows
    assert rows["zed"] == {
        "id": rows["zed"]["id"],
        "username": "zed",
        "name": "Zed Zulu",
        "roles": [],
        "is_active": True,
    }
    assert rows["viewer"]["roles"] == ["read_only"]
    assert "email" not in rows["zed"]
    assert [u["username"] for u in readonly_api.get("/users/", {"q": "zul"}).json()["items"]] == ["zed"]
    assert [u["username"] for u in readonly_api.get("/users/", {"role": "read_only"}).json()["items"]] == ["viewer"]


def test_a_contact_with_an_unknown_account_and_a_bad_email_gets_both_errors(api: ApiClient):
    from tandem.accounts.models import Contact

    response = api.post("/contacts/", {"account": 999999, "email": "not-an-email"})

    body = assert_problem(response, 400)
    assert [e["field"] for e in body["errors"]] == ["account", "email"]
    assert "999999" in body["errors"][0]["message"]
    assert not Contact.objects.exists()


def test_archive_through_the_api(api: ApiClient):
    account = AccountFactory()
    assert api.patch(f"/accounts/{account.pk}", {"archived": True}).json()["archived_at"] is not None
    assert api.patch(f"/accounts/{account.pk}", {"archived": False}).json()["archived_at"] is None


def test_open_a_cta_and_write_a_note_on_it_through_the_api(api: ApiClient):
    import datetime as dt

    from django.utils import timezone

    account = AccountFactory()
    due = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    created = api.post("/playbooks/ctas", {"account": account.pk, "title": "Plan the QBR", "due_date": due})
    assert created.status_code == 201, created.content
    cta = created.json()
    assert (cta["owner"], cta["type"], cta["status"], cta["rule"]) == (api.user.pk, "lifecycle", "open", None)
    assert_problem(api.post("/playbooks/ctas", {"account": account.pk, "title": "", "due_date": "2020-01-01"}), 400)

    note = api.post(
        "/interactions/",
        {
            "account": account.pk,
            "kind": "note",
            "occurred_at": timezone.now().isoformat(),
            "summary": "x",
            "cta": cta["id"],
        },
    )
    assert note.status_code == 201 and note.json()["cta"] == cta["id"]
    other = AccountFactory()
    wrong = api.post(
        "/interactions/",
        {
            "account": other.pk,
            "kind": "note",
            "occurred_at": timezone.now().isoformat(),
            "summary": "x",
            "cta": cta["id"],
        },
    )
    assert_problem(wrong, 400, ["cta"])
