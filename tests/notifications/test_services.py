"""In-app notifications in bulk: duplicates skipped, delivery queued only for new rows and opted-in users."""

from __future__ import annotations

import pytest

from tandem.jobs.models import Job
from tandem.notifications.models import Notification, NotificationPreference
from tandem.notifications.services import NotificationDraft, notifications_send
from tandem.users.services import user_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]


def test_notifications_send_skips_keys_a_user_has_and_queues_delivery_for_new_ones() -> None:
    quiet = user_create(acting_user=None, username="quiet", password=None, roles=["csm"])
    loud = user_create(acting_user=None, username="loud", password=None, roles=["csm"], email="loud@tandem.test")
    NotificationPreference.objects.create(user=loud, email=True)
    drafts = [
        NotificationDraft(user_id=quiet.pk, key="cta:1", title="New: A", body="why", url="/playbooks/ctas/1/"),
        NotificationDraft(user_id=loud.pk, key="cta:2", title="New: B"),
    ]
    assert notifications_send(drafts=drafts) == 2
    more = [*drafts, NotificationDraft(user_id=loud.pk, key="cta:3", title="New: C")]
    assert notifications_send(drafts=more) == 1

    assert sorted(Notification.objects.values_list("user__username", "key", "title")) == [
        ("loud", "cta:2", "New: B"),
        ("loud", "cta:3", "New: C"),
        ("quiet", "cta:1", "New: A"),
    ]
    first = Notification.objects.get(key="cta:1")
    assert (first.body, first.url, first.read_at, first.created_at is not None) == (
        "why",
        "/playbooks/ctas/1/",
        None,
        True,
    )
    assert sorted(Job.objects.values_list("name", "key")) == [
        ("notifications.deliver", f"notify:{loud.pk}:cta:2"),
        ("notifications.deliver", f"notify:{loud.pk}:cta:3"),
    ]
