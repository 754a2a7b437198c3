import datetime as dt

import pytest

from tandem.accounts.models import Account, Contact, ContactRole, LifecycleStage, Tier
from tandem.accounts.services import (
    account_create,
    account_delete,
    account_update,
    contact_create,
    contact_delete,
    contact_update,
)
from tandem.core.errors import DomainError
from tests.factories import AccountFactory, ContactFactory, ContactRoleFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]


def fields_of(excinfo: pytest.ExceptionInfo[DomainError]) -> list[str]:
    return [e.field for e in excinfo.value.errors]


def test_account_create_normalises_codes_and_empty_identifiers():
    csm = UserFactory()

    account = account_create(
        acting_user=None,
        name="  Acme Corp ",
        domain="acme.example",
        external_id="",
        crm_id=" crm-1 ",
        country="de",
        currency="eur",
        tier=Tier.ENTERPRISE,
        csm_owner=csm,
        start_date=dt.date(2024, 3, 1),
    )

    stored = Account.objects.get(pk=account.pk)
    assert (stored.name, stored.external_id, stored.crm_id) == ("Acme Corp", None, "crm-1")
    assert (stored.country.code, stored.currency, stored.tier) == ("DE", "EUR", "enterprise")
    assert stored.lifecycle_stage == LifecycleStage.ONBOARDING
    assert stored.csm_owner_id == csm.pk
    assert stored.start_date == dt.date(2024, 3, 1)


def test_duplicate_external_id_is_a_409_field_error_and_writes_nothing():
    AccountFactory(external_id="ext-1")

    with pytest.raises(DomainError) as excinfo:
        account_create(acting_user=None, name="Copy", external_id="ext-1")

    assert excinfo.value.status == 409
    assert fields_of(excinfo) == ["external_id"]
    assert Account.objects.count() == 1


def test_bad_currency_bad_country_and_blank_name_are_all_named():
    with pytest.raises(DomainError) as excinfo:
        account_create(acting_user=None, name=" ", currency="EU1", country="XX")

    assert excinfo.value.status == 400
    assert sorted(fields_of(excinfo)) == ["country", "currency", "name"]
    assert Account.objects.count() == 0


def test_account_update_refuses_a_parent_cycle_and_keeps_the_stored_parent():
    grandparent = AccountFactory()
    parent = AccountFactory(parent=grandparent)

    with pytest.raises(DomainError) as excinfo:
        account_update(acting_user=None, account=grandparent, data={"parent": parent})

    assert fields_of(excinfo) == ["parent"]
    grandparent.refresh_from_db()
    assert grandparent.parent_id is None


def test_account_update_null_empties_text_but_is_an_error_for_required_fields():
    account = AccountFactory(domain="acme.example", tier=Tier.SMB)

    account_update(acting_user=None, account=account, data={"domain": None, "tier": Tier.MID_MARKET})
    account.refresh_from_db()
    assert (account.domain, account.tier) == ("", "mid_market")

    with pytest.raises(DomainError) as excinfo:
        account_update(acting_user=None, account=account, data={"name": None, "tier": None})
    assert fields_of(excinfo) == ["name", "tier"]


def test_account_update_rejects_fields_that_are_not_writable():
    account = AccountFactory()
    with pytest.raises(TypeError):
        account_update(acting_user=None, account=account, data={"mrr": 5})


def test_account_delete_removes_its_contacts_and_detaches_children():
    account = AccountFactory()
    child = AccountFactory(parent=account)
    ContactFactory(account=account)

    account_delete(acting_user=None, account=account)

    assert not Account.objects.filter(pk=account.pk).exists()
    assert Contact.objects.count() == 0
    child.refresh_from_db()
    assert child.parent_id is None


def test_contact_create_with_roles_and_primary_takes_over_primary():
    account = AccountFactory()
    old = ContactFactory(account=account, is_primary=True)

    new = contact_create(
        acting_user=None,
        account=account,
        first_name="Ada",
        last_name="Lovelace",
        email=" ada@customer.example ",
        is_primary=True,
        roles=["champion", "admin", "champion"],
    )

    old.refresh_from_db()
    assert old.is_primary is False
    assert Contact.objects.get(pk=new.pk).is_primary is True
    assert new.email == "ada@customer.example"
    assert sorted(new.roles.values_list("role", flat=True)) == ["admin", "champion"]


def test_refused_primary_contact_leaves_the_previous_primary_in_place():
    account = AccountFactory()
    old = ContactFactory(account=account, is_primary=True)

    with pytest.raises(DomainError) as excinfo:
        contact_create(acting_user=None, account=account, email="not-an-email", is_primary=True)

    assert fields_of(excinfo) == ["email"]
    old.refresh_from_db()
    assert old.is_primary is True
    assert Contact.objects.count() == 1


def test_contact_email_is_unique_per_account_case_insensitively():
    account = AccountFactory()
    ContactFactory(account=account, email="ada@customer.example")

    with pytest.raises(DomainError) as excinfo:
        contact_create(acting_user=None, account=account, email="ADA@customer.example")

    assert fields_of(excinfo) == ["email"]
    other = contact_create(acting_user=None, account=AccountFactory(), email="ada@customer.example")
    assert other.pk is not None


def test_contact_needs_a_name_or_email_and_unknown_roles_are_named():
    account = AccountFactory()

    with pytest.raises(DomainError) as excinfo:
        contact_create(acting_user=None, account=account)
    assert fields_of(excinfo) == ["non_field"]

    with pytest.raises(DomainError) as excinfo:
        contact_create(acting_user=None, account=account, first_name="Ada", roles=["champion", "wizard"])
    assert fields_of(excinfo) == ["roles.1"]
    assert Contact.objects.count() == 0


def test_contact_update_replaces_roles_only_when_given():
    contact = ContactFactory()
    ContactRoleFactory(contact=contact, role="champion")

    contact_update(acting_user=None, contact=contact, data={"title": "CTO"})
    assert list(ContactRole.objects.values_list("role", flat=True)) == ["champion"]

    contact_update(acting_user=None, contact=contact, data={}, roles=["billing", "executive_sponsor"])
    assert sorted(ContactRole.objects.values_list("role", flat=True)) == [
        "billing",
        "executive_sponsor",
    ]
    contact.refresh_from_db()
    assert contact.title == "CTO"


def test_contact_left_on_requires_not_still_at_company():
    contact = ContactFactory()

    with pytest.raises(DomainError) as excinfo:
        contact_update(acting_user=None, contact=contact, data={"left_on": dt.date(2025, 1, 31)})
    assert fields_of(excinfo) == ["left_on"]

    contact_update(acting_user=None, contact=contact, data={"left_on": dt.date(2025, 1, 31), "still_at_company": False})
    contact.refresh_from_db()
    assert (contact.left_on, contact.still_at_company) == (dt.date(2025, 1, 31), False)


def test_contact_delete():
    contact = ContactFactory()
    contact_delete(acting_user=None, contact=contact)
    assert Contact.objects.count() == 0
