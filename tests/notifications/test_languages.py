"""CTA reasons and notifications render in each reader's language, not in the worker's at creation."""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header

import pytest
from django.utils import translation

from tandem.notifications.messages import Message, Msgid
from tandem.notifications.models import Notification, NotificationPreference
from tandem.notifications.services import digest_send, notification_deliver
from tandem.playbooks.models import CallToAction
from tandem.playbooks.providers import Providers
from tandem.playbooks.services import rules_evaluate
from tandem.users.services import user_create
from tests.factories import AccountFactory
from tests.playbooks.conftest import smtp  # noqa: F401 - shared fixture
from tests.playbooks.helpers import rule_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 6, 30)
RENEWAL = TODAY + dt.timedelta(days=20)


@pytest.fixture
def opened():
    """A renewal CTA opened by an evaluation that ran with Vietnamese active (say, a worker's locale)."""
    csm = user_create(acting_user=None, username="mai", password="pw-12345678", roles=["csm"], email="mai@tandem.test")
    csm.preferred_language = "ja"
    csm.save(update_fields=["preferred_language"])
    AccountFactory(name="Acme", renewal_date=RENEWAL, csm_owner=csm)
    rule_for("renewal_within", {"days": 30}, name="Renewal")
    with translation.override("vi"):
        rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    return csm, CallToAction.objects.get()


def test_stored_text_is_the_default_language_and_display_follows_the_reader(opened) -> None:
    _csm, cta = opened
    note = Notification.objects.get(key=f"cta:{cta.pk}")
    assert cta.reason == f"Renews on {RENEWAL} (in 20 days)."
    assert cta.reason_message == {
        "msgid": "Renews on %(date)s (in %(days)s days).",
        "params": {"date": str(RENEWAL), "days": 20},
    }
    assert note.title == "New call to action: Renewal: Acme"
    with translation.override("ja"):
        assert cta.reason_display == f"{RENEWAL} に更新（20 日後）。"
        assert note.display_title == "新しい対応アクション：Renewal: Acme"
        assert note.display_body == f"{RENEWAL} に更新（20 日後）。"
    with translation.override("fa"):
        assert note.display_title == "اقدام لازم جدید: Renewal: Acme"
    with translation.override("en"):
        assert cta.reason_display == cta.reason


def test_pages_show_the_viewers_language(client, opened) -> None:
    csm, cta = opened
    client.force_login(csm)  # preferred_language ja: the middleware activates it
    assert "新しい対応アクション：Renewal: Acme" in client.get("/notifications/").content.decode()
    assert f"{RENEWAL} に更新（20 日後）。" in client.get(f"/playbooks/ctas/{cta.pk}/").content.decode()


def test_email_and_digest_use_the_recipients_preferred_language(smtp, opened) -> None:  # noqa: F811
    csm, cta = opened
    NotificationPreference.objects.create(user=csm, email=True)
    assert notification_deliver(user_id=csm.pk, key=f"cta:{cta.pk}") == {"email": True, "slack": False}
    assert digest_send(user_id=csm.pk, day=TODAY) is True
    subjects = [str(make_header(decode_header(m["Subject"]))).strip() for m in smtp.messages]
    assert subjects == ["新しい対応アクション：Renewal: Acme", f"Tandem の今日の予定：{TODAY}"]
    assert f"{RENEWAL} に更新（20 日後）。" in smtp.messages[0].get_payload(decode=True).decode()


def test_messages_round_trip_with_nested_and_lazy_parameters() -> None:
    from tandem.accounts.models import ContactRole

    role = dict(ContactRole._meta.get_field("role").choices)["champion"]  # a gettext_lazy label
    message = Msgid("%(role)s %(name)s left on %(date)s.") % {"role": role, "name": "Ana", "date": TODAY}
    stored = message.to_json()
    assert stored == {
        "msgid": "%(role)s %(name)s left on %(date)s.",
        "params": {"role": {"msgid": "Champion", "params": {}}, "name": "Ana", "date": "2025-06-30"},
    }
    again = Message.from_json(stored)
    with translation.override("en"):
        assert str(again) == str(message) == "Champion Ana left on 2025-06-30."
    assert Message.from_json({}) is None and Message.from_json({"msgid": 3}) is None
