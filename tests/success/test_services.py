"""Success milestones: planned, reached once, written in bulk; their timeline entries are in
tests/timeline/test_events_data.py."""

import datetime as dt

import pytest
from django.utils import timezone

from tandem.core.errors import DomainError
from tandem.success.models import SuccessMilestone
from tandem.success.services import milestone_bulk_create, milestone_complete, milestone_create
from tandem.timeline.models import EventKind, TimelineEvent
from tests.factories import AccountFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
DONE = dt.datetime(2025, 3, 1, 15, 0, tzinfo=dt.UTC)


def test_completing_a_milestone_twice_keeps_the_first_date():
    milestone = milestone_create(
        acting_user=None, account=AccountFactory(), title="Admins trained", due_date=dt.date(2025, 3, 5)
    )
    assert milestone.completed_at is None
    milestone_complete(acting_user=None, milestone=milestone, when=DONE)
    again = milestone_complete(acting_user=None, milestone=milestone, when=DONE + dt.timedelta(days=2))
    assert again.completed_at == DONE == SuccessMilestone.objects.get(pk=milestone.pk).completed_at
    assert TimelineEvent.objects.filter(kind=EventKind.MILESTONE_REACHED).count() == 1


def test_a_milestone_without_a_title_is_refused():
    with pytest.raises(DomainError):
        milestone_create(acting_user=None, account=AccountFactory(), title="", due_date=dt.date(2025, 3, 5))
    assert not SuccessMilestone.objects.exists()


def test_milestones_written_in_bulk_keep_their_dates_and_only_reached_ones_are_on_the_timeline():
    account = AccountFactory()
    milestone_bulk_create(
        acting_user=None,
        milestones=[
            SuccessMilestone(account=account, title="Kick-off", due_date=dt.date(2025, 2, 1), completed_at=DONE),
            SuccessMilestone(account=account, title="Go-live", due_date=dt.date(2025, 5, 1)),
        ],
        now=timezone.now(),
    )
    assert sorted(SuccessMilestone.objects.values_list("title", "completed_at")) == [
        ("Go-live", None),
        ("Kick-off", DONE),
    ]
    [event] = TimelineEvent.objects.filter(kind=EventKind.MILESTONE_REACHED)
    assert (event.data["title"], event.occurred_at) == ("Kick-off", DONE)
