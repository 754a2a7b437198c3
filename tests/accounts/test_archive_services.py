"""Archiving an account and marking a contact as having left (services)."""

import datetime as dt

import pytest

from tandem.accounts.services import account_archive, contact_mark_left
from tests.factories import AccountFactory, ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


def test_archive_and_restore_are_idempotent():
    account = AccountFactory()
    account_archive(acting_user=None, account=account)
    stamp = account.archived_at
    assert stamp is not None and account.is_archived
    account_archive(acting_user=None, account=account)
    assert account.archived_at == stamp
    account_archive(acting_user=None, account=account, archived=False)
    account.refresh_from_db()
    assert account.archived_at is None


def test_a_contact_who_leaves_stops_being_primary():
    contact = ContactFactory(is_primary=True)
    contact_mark_left(acting_user=None, contact=contact, left_on=dt.date(2026, 11, 1))
    contact.refresh_from_db()
    assert (contact.still_at_company, contact.left_on, contact.is_primary) == (False, dt.date(2026, 11, 1), False)
