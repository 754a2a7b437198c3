"""The account and contact write pages: create, edit, archive, contacts, mark as left, the account picker."""

import re

import pytest
from django.core.cache import cache

from tandem.accounts.models import Account, Contact
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, TicketFactory, as_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()


def _user(username: str, role: str):
    with as_fixture():
        return user_create(acting_user=None, username=username, password=None, roles=[role])


@pytest.fixture
def csm():
    return _user("casey", "csm")


@pytest.fixture
def csm_client(client, csm):
    client.force_login(csm)
    return client


@pytest.fixture
def reader_client(client):
    client.force_login(_user("riley", "read_only"))
    return client


def _field_errors(html: str, field: str) -> str:
    """The error list rendered under one field (empty when there is none)."""
    match = re.search(rf'<ul class="errorlist field-errors" id="id_{field}-errors">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


# --- accounts -----------------------------------------------------------------------------------


def test_a_csm_creates_an_account_they_own(csm_client, csm):
    page = csm_client.get("/accounts/new/")
    assert page.status_code == 200
    assert f'<option value="{csm.pk}" selected>' in page.content.decode()  # the creator owns it by default

    response = csm_client.post(
        "/accounts/new/",
        {
            "name": "Globex",
            "tier": "enterprise",
            "lifecycle_stage": "onboarding",
            "currency": "EUR",
            "csm_owner": csm.pk,
        },
    )

    account = Account.objects.get(name="Globex")
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.pk}/"
    assert (account.csm_owner, account.tier, account.currency) == (csm, "enterprise", "EUR")


def test_account_form_errors_show_on_their_fields_and_nothing_is_saved(csm_client, csm):
    AccountFactory(name="Taken", external_id="ext-1", csm_owner=csm)

    response = csm_client.post(
        "/accounts/new/",
        {"name": "", "tier": "smb", "lifecycle_stage": "onboarding", "currency": "USD", "csm_owner": csm.pk},
    )
    assert response.status_code == 400
    assert "required" in _field_errors(response.content.decode(), "name")

    response = csm_client.post(
        "/accounts/new/",
        {"name": "Dup", "tier": "smb", "lifecycle_stage": "onboarding", "currency": "USD", "csm_owner": csm.pk,
         "external_id": "ext-1"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "already exists" in _field_errors(response.content.decode(), "external_id")
    assert not Account.objects.filter(name__in=["", "Dup"]).exists()


def test_a_csm_may_not_create_an_account_outside_their_book(csm_client):
    # Owned by nobody: outside the CSM's book (they change only their own), so refused and rolled back.
    response = csm_client.post(
        "/accounts/new/", {"name": "Orphan", "tier": "smb", "lifecycle_stage": "onboarding", "currency": "USD"}
    )
    assert response.status_code == 403
    assert not Account.objects.filter(name="Orphan").exists()


def test_read_only_sees_no_write_action_and_is_refused(reader_client):
    account = AccountFactory(name="Acme")
    contact = ContactFactory(account=account)
    assert b'data-testid="new-account"' not in reader_client.get("/accounts/").content
    page = reader_client.get(f"/accounts/{account.pk}/").content.decode()
    assert (
        'data-testid="account-actions"' not in page
        and "Add contact" not in page
        and 'method="post"' not in page.split('<main id="main"')[1].split("history-section")[0]
    )
    contact_page = reader_client.get(f"/accounts/contacts/{contact.pk}/").content.decode()
    assert "left-form" not in contact_page and "/edit/" not in contact_page
    for url in ("/accounts/new/", f"/accounts/{account.pk}/edit/", f"/accounts/contacts/{contact.pk}/edit/"):
        assert reader_client.get(url).status_code == 403
    assert reader_client.post(f"/accounts/{account.pk}/archive/").status_code == 403


def test_a_csm_edits_owners_tier_stage_parent_and_ids(csm_client, csm):
    parent = AccountFactory(name="Umbrella Holdings")
    account = AccountFactory(name="Umbrella EU", csm_owner=csm)
    form = csm_client.get(f"/accounts/{account.pk}/edit/").content.decode()
    assert 'value="Umbrella EU"' in form and 'list="id_parent-options"' in form

    response = csm_client.post(
        f"/accounts/{account.pk}/edit/",
        {"name": "Umbrella Europe", "tier": "mid_market", "lifecycle_stage": "adoption", "currency": "USD",
         "csm_owner": csm.pk, "parent": f"Umbrella Holdings (#{parent.pk})", "crm_id": "crm-7", "billing_id": "b-7",
         "external_id": "e-7"},
    )  # fmt: skip

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.tier, account.lifecycle_stage, account.parent) == (
        "Umbrella Europe", "mid_market", "adoption", parent,
    )  # fmt: skip
    assert (account.crm_id, account.billing_id, account.external_id) == ("crm-7", "b-7", "e-7")


def test_an_account_cannot_become_its_own_parent(csm_client, csm):
    account = AccountFactory(name="Loop", csm_owner=csm)
    child = AccountFactory(name="Loop child", csm_owner=csm, parent=account)
    response = csm_client.post(
        f"/accounts/{account.pk}/edit/",
        {"name": "Loop", "tier": "smb", "lifecycle_stage": "onboarding", "currency": "USD", "csm_owner": csm.pk,
         "parent": f"Loop child (#{child.pk})"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "ancestor" in _field_errors(response.content.decode(), "parent")
    account.refresh_from_db()
    assert account.parent is None


def test_another_csms_account_is_refused(csm_client):
    theirs = AccountFactory(csm_owner=_user("other", "csm"))
    assert csm_client.get(f"/accounts/{theirs.pk}/edit/").status_code == 403  # seen (whole book) but not theirs
    assert csm_client.get(f"/accounts/{theirs.pk}/contacts/new/").status_code == 403


def test_archived_accounts_leave_the_list_until_asked_for(csm_client, csm):
    account = AccountFactory(name="Initech", csm_owner=csm)
    AccountFactory(name="Hooli", csm_owner=csm)

    assert csm_client.post(f"/accounts/{account.pk}/archive/").status_code == 302
    account.refresh_from_db()
    assert account.is_archived

    listed = csm_client.get("/accounts/").content.decode()
    assert "Initech" not in listed and "Hooli" in listed and 'list-total">1 account ·' in listed
    assert "Initech" in csm_client.get("/accounts/", {"archived": "archived"}).content.decode()
    both = csm_client.get("/accounts/", {"archived": "all"}).content.decode()
    assert "Initech" in both and "2 accounts" in both
    assert 'data-testid="archived"' in csm_client.get(f"/accounts/{account.pk}/").content.decode()

    csm_client.post(f"/accounts/{account.pk}/archive/", {"archived": "0"})
    account.refresh_from_db()
    assert not account.is_archived


def test_the_account_picker_suggests_live_visible_accounts(csm_client):
    AccountFactory(name="Acme Corp", domain="acme.example")
    AccountFactory(name="Acme Old", archived_at="2026-01-01T00:00:00Z")
    AccountFactory(name="Globex")

    html = csm_client.get("/accounts/search/", {"field": "parent", "parent": "acme"}).content.decode()

    assert re.findall(r'<option value="([^"]+)">', html) == [f"Acme Corp (#{Account.objects.get(name='Acme Corp').pk})"]


# --- contacts -----------------------------------------------------------------------------------


def test_a_csm_adds_a_contact_with_roles_from_the_account_page(csm_client, csm):
    account = AccountFactory(name="Acme", csm_owner=csm)
    assert f'href="/accounts/{account.pk}/contacts/new/"' in csm_client.get(f"/accounts/{account.pk}/").content.decode()

    response = csm_client.post(
        f"/accounts/{account.pk}/contacts/new/",
        {"first_name": "Dana", "last_name": "Scully", "email": "dana@acme.example", "is_primary": "on",
         "roles": ["champion", "decision_maker"]},
    )  # fmt: skip

    contact = Contact.objects.get(email="dana@acme.example")
    assert response["Location"] == f"/accounts/contacts/{contact.pk}/"
    assert contact.is_primary and sorted(contact.roles.values_list("role", flat=True)) == ["champion", "decision_maker"]
    page = csm_client.get(f"/accounts/{account.pk}/").content.decode()
    assert f'href="/accounts/contacts/{contact.pk}/"' in page  # contacts are links to their own page


def test_contact_errors_show_on_the_field(csm_client, csm):
    account = AccountFactory(csm_owner=csm)
    ContactFactory(account=account, email="taken@acme.example")
    response = csm_client.post(
        f"/accounts/{account.pk}/contacts/new/", {"first_name": "Two", "email": "TAKEN@acme.example"}
    )
    assert response.status_code == 400
    assert "Another contact" in _field_errors(response.content.decode(), "email")
    response = csm_client.post(f"/accounts/{account.pk}/contacts/new/", {"email": "not-an-email"})
    assert "valid email" in _field_errors(response.content.decode(), "email")
    assert Contact.objects.filter(account=account).count() == 1


def test_a_csm_edits_roles_and_marks_a_contact_as_left(csm_client, csm):
    account = AccountFactory(csm_owner=csm)
    contact = ContactFactory(account=account, first_name="Fox", is_primary=True)
    ticket = TicketFactory(account=account, contact=contact, subject="Export broken")

    response = csm_client.post(
        f"/accounts/contacts/{contact.pk}/edit/", {"first_name": "Fox", "last_name": "Mulder", "roles": ["end_user"]}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.last_name == "Mulder" and list(contact.roles.values_list("role", flat=True)) == ["end_user"]
    assert not contact.is_primary  # the box was not ticked

    page = csm_client.get(f"/accounts/contacts/{contact.pk}/").content.decode()
    assert "Export broken" in page and f"/support/tickets/{ticket.pk}/" in page and 'id="left-form"' in page

    csm_client.post(f"/accounts/contacts/{contact.pk}/left/", {"left_on": "2026-11-30"})
    contact.refresh_from_db()
    assert not contact.still_at_company and str(contact.left_on) == "2026-11-30"
    assert 'data-testid="contact-left"' in csm_client.get(f"/accounts/contacts/{contact.pk}/").content.decode()


def test_the_ticket_page(csm_client):
    ticket = TicketFactory(subject="Cannot log in")
    page = csm_client.get(f"/support/tickets/{ticket.pk}/")
    assert page.status_code == 200 and b"Cannot log in" in page.content
    assert csm_client.get("/support/tickets/999999/").status_code == 404


@pytest.mark.parametrize("sort", ["health", "-health"])
def test_sorting_by_health_puts_unscored_accounts_last(csm_client, sort):
    import datetime as dt

    from tandem.health.models import AccountHealth, Band

    AccountFactory(name="Unscored")
    for name, score in (("Weak", 20.0), ("Strong", 90.0)):
        with as_fixture():
            AccountHealth.objects.create(
                account=AccountFactory(name=name), score=score, band=Band.GOOD, as_of=dt.date(2026, 1, 1)
            )
    html = csm_client.get("/accounts/", {"sort": sort}).content.decode()
    body = html[html.index("<tbody") :]
    names = re.findall(r'<a [^>]*href="/accounts/\d+/"[^>]*>([^<]+)</a>', body)
    assert names == (["Weak", "Strong", "Unscored"] if sort == "health" else ["Strong", "Weak", "Unscored"])


def test_the_contacts_list_counts_searches_and_adds_with_the_picker(csm_client, csm):
    mine = AccountFactory(name="Acme", csm_owner=csm)
    ContactFactory(account=mine, first_name="Dana", last_name="Scully", title="CTO")
    ContactFactory(account=mine, first_name="Gone", still_at_company=False)
    ContactFactory(account=AccountFactory(name="Old", archived_at="2026-01-01T00:00:00Z"), first_name="Archived")

    html = csm_client.get("/accounts/contacts/").content.decode()
    assert 'data-testid="list-total">1<' in html and "Dana" in html and "Archived" not in html
    assert 'data-testid="list-total">2<' in csm_client.get("/accounts/contacts/", {"left": "on"}).content.decode()
    assert "Dana" not in csm_client.get("/accounts/contacts/", {"q": "nobody"}).content.decode()

    response = csm_client.post("/accounts/contacts/new/", {"account": f"Acme (#{mine.pk})", "first_name": "Kim"})
    assert response.status_code == 302 and Contact.objects.filter(account=mine, first_name="Kim").exists()
    theirs = AccountFactory(name="Theirs", csm_owner=_user("other", "csm"))
    assert csm_client.post("/accounts/contacts/new/", {"account": "Theirs", "first_name": "X"}).status_code == 403
    assert not Contact.objects.filter(account=theirs).exists()
