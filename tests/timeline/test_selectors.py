import datetime as dt

import pytest
from django.utils import timezone

from tandem.timeline.selectors import account_timeline
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, as_fixture

pytestmark = pytest.mark.django_db


def test_account_timeline_is_newest_first_limited_with_people_loaded(django_assert_num_queries, admin_user):
    account = AccountFactory()
    now = timezone.now()
    items = [InteractionFactory(account=account, occurred_at=now - dt.timedelta(days=n)) for n in range(5)]
    contact = ContactFactory(account=account)
    with as_fixture():
        items[0].contacts.add(contact)
    InteractionFactory(occurred_at=now)  # another account

    with django_assert_num_queries(3):  # interactions, their colleagues, their contacts
        timeline = account_timeline(user=admin_user, account_id=account.pk, limit=3)
        people = [list(i.contacts.all()) for i in timeline]

    assert timeline == items[:3]
    assert people == [[contact], [], []]
