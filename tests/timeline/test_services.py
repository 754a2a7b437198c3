import datetime as dt

import pytest

from tandem.core.errors import DomainError
from tandem.timeline.models import Interaction
from tandem.timeline.services import interaction_create, interaction_delete, interaction_update
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
WHEN = dt.datetime(2025, 4, 2, 14, 30, tzinfo=dt.UTC)


def test_interaction_create_with_participants():
    account = AccountFactory()
    contact = ContactFactory(account=account)
    author, colleague = UserFactory(), UserFactory()

    interaction = interaction_create(
        acting_user=None,
        account=account,
        kind="qbr",
        occurred_at=WHEN,
        subject="Q1 review",
        duration_minutes=60,
        author=author,
        users=[author, colleague],
        contacts=[contact],
    )

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.kind, stored.subject, stored.duration_minutes) == ("qbr", "Q1 review", 60)
    assert stored.author_id == author.pk
    assert sorted(stored.users.values_list("pk", flat=True)) == sorted([author.pk, colleague.pk])
    assert list(stored.contacts.values_list("pk", flat=True)) == [contact.pk]


def test_contact_from_another_account_is_refused_and_nothing_is_written():
    account = AccountFactory()
    stranger = ContactFactory()

    with pytest.raises(DomainError) as excinfo:
        interaction_create(acting_user=None, account=account, kind="call", occurred_at=WHEN, contacts=[stranger])

    assert [e.field for e in excinfo.value.errors] == ["contacts"]
    assert str(stranger.pk) in excinfo.value.errors[0].message
    assert Interaction.objects.count() == 0


def test_moving_an_interaction_to_another_account_checks_its_existing_contacts():
    interaction = InteractionFactory()
    contact = ContactFactory(account=interaction.account)
    interaction.contacts.add(contact)
    other = AccountFactory()

    with pytest.raises(DomainError) as excinfo:
        interaction_update(acting_user=None, interaction=interaction, data={"account": other})
    assert [e.field for e in excinfo.value.errors] == ["contacts"]
    assert Interaction.objects.get(pk=interaction.pk).account_id == contact.account_id

    interaction_update(acting_user=None, interaction=interaction, data={"account": other}, contacts=[])
    assert Interaction.objects.get(pk=interaction.pk).account_id == other.pk
    assert interaction.contacts.count() == 0


def test_interaction_update_validates_duration_and_delete():
    interaction = InteractionFactory()

    with pytest.raises(DomainError) as excinfo:
        interaction_update(acting_user=None, interaction=interaction, data={"duration_minutes": 0, "kind": "dance"})
    assert sorted(e.field for e in excinfo.value.errors) == ["duration_minutes", "kind"]

    interaction_delete(acting_user=None, interaction=interaction)
    assert Interaction.objects.count() == 0
