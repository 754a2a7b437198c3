"""Recording NPS answers, one by one and in bulk; their timeline entries are in
tests/timeline/test_events_data.py."""

import datetime as dt

import pytest
from django.utils import timezone

from tandem.core.errors import DomainError
from tandem.surveys.models import NpsResponse
from tandem.surveys.services import nps_response_bulk_create, nps_response_create
from tandem.timeline.models import EventKind, TimelineEvent
from tests.factories import AccountFactory, ContactFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
ANSWERED = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_an_answer_is_stored_as_given_and_a_contact_of_another_account_is_refused():
    account = AccountFactory()
    contact = ContactFactory(account=account)
    response = nps_response_create(
        acting_user=None, account=account, contact=contact, score=7, comment="OK", responded_at=ANSWERED,
        external_id=" ",
    )  # fmt: skip
    stored = NpsResponse.objects.get(pk=response.pk)
    assert (stored.score, stored.comment, stored.contact_id, stored.external_id, stored.category) == (
        7, "OK", contact.pk, None, "passive",
    )  # fmt: skip
    with pytest.raises(DomainError) as excinfo:
        nps_response_create(acting_user=None, account=account, contact=ContactFactory(), score=9, responded_at=ANSWERED)
    assert [e.field for e in excinfo.value.errors] == ["contact"]
    with pytest.raises(DomainError):
        nps_response_create(acting_user=None, account=account, score=11, responded_at=ANSWERED)
    assert NpsResponse.objects.count() == 1 and TimelineEvent.objects.count() == 1


def test_the_bulk_path_skips_answers_already_stored_or_repeated_in_the_batch():
    account = AccountFactory()
    first = [NpsResponse(account=account, external_id="a", score=9, responded_at=ANSWERED)]
    assert nps_response_bulk_create(acting_user=None, responses=first, now=timezone.now()) == 1
    batch = [
        NpsResponse(account=account, external_id="a", score=2, responded_at=ANSWERED),  # stored: left alone
        NpsResponse(account=account, external_id="b", score=8, responded_at=ANSWERED),
        NpsResponse(account=account, external_id="b", score=8, responded_at=ANSWERED),
        NpsResponse(account=account, score=5, responded_at=ANSWERED),  # no key: always new
    ]
    assert nps_response_bulk_create(acting_user=None, responses=batch, now=timezone.now()) == 2
    assert sorted(NpsResponse.objects.values_list("score", "external_id")) == [(5, None), (8, "b"), (9, "a")]
    assert TimelineEvent.objects.filter(kind=EventKind.SURVEY_ANSWERED).count() == 3
