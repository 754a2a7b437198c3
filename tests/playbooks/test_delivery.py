"""Customer emails over a real SMTP server, notifications by email and webhook, digests, via the worker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tandem.jobs.models import Job, JobStatus
from tandem.jobs.worker import run_worker
from tandem.notifications.models import DigestLog, NotificationPreference
from tandem.notifications.services import digests_enqueue
from tandem.playbooks.models import CallToAction, CtaTask, EmailStatus, OutboundEmail, StepKind, TaskStatus
from tandem.playbooks.providers import Providers
from tandem.playbooks.services import cta_email_send, rules_evaluate
from tandem.timeline.models import Interaction, InteractionKind
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory
from tests.playbooks.helpers import playbook_with, rule_for, template

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]


@pytest.fixture
def setup():
    csm = user_create(
        acting_user=None,
        username="nina",
        password=None,
        roles=["csm"],
        email="nina@tandem.test",
        first_name="Nina",
        last_name="Berg",
    )
    account = AccountFactory(name="Acme", start_date=timezone.localdate(), csm_owner=csm)
    ContactFactory(account=account, first_name="Lee", email="lee@acme.example", is_primary=True)
    tpl = template()
    playbook = playbook_with(
        "welcome",
        [
            {"kind": StepKind.EMAIL, "title": "Welcome", "email_template": tpl, "auto_send": True},
            {"kind": StepKind.EMAIL, "title": "Follow-up", "email_template": tpl},
            {"kind": StepKind.TASK, "title": "Kick-off call"},
        ],
    )
    rule = rule_for("new_account", {"days": 5}, playbook=playbook)
    return {"csm": csm, "account": account, "rule": rule}


def test_auto_email_is_sent_once_over_smtp_and_logged_on_the_timeline(smtp, setup) -> None:
    rules_evaluate(acting_user=None, today=timezone.localdate(), providers=Providers())
    assert len(smtp.messages) == 0  # queued, sent by a worker
    stats = run_worker(burst=True, schedule=False)
    assert stats.done == 1 and stats.failed == 0
    [message] = smtp.messages
    assert (message["To"], message["Subject"], message["From"]) == ("lee@acme.example", "Hello Acme", "cs@tandem.test")
    assert message.get_payload().strip() == "Hi Lee, Nina Berg"
    email = OutboundEmail.objects.get()
    assert (email.status, message["Message-ID"]) == (EmailStatus.SENT, f"<tandem-email-{email.pk}@tandem.local>")
    interaction = Interaction.objects.get(account=setup["account"])
    assert (interaction.kind, interaction.subject, email.interaction_id) == (
        InteractionKind.EMAIL,
        "Hello Acme",
        interaction.pk,
    )
    assert email.task.status == TaskStatus.DONE

    # Everything again: no new CTA, no new email.
    rules_evaluate(acting_user=None, today=timezone.localdate(), providers=Providers())
    run_worker(burst=True, schedule=False)
    assert len(smtp.messages) == 1 and OutboundEmail.objects.count() == 1

    # The manual email step is sent when the CSM asks, once however often they click.
    follow_up = CtaTask.objects.get(title="Follow-up")
    cta_email_send(task=follow_up, acting_user=setup["csm"])
    cta_email_send(task=follow_up, acting_user=setup["csm"])
    run_worker(burst=True, schedule=False)
    assert len(smtp.messages) == 2 and Interaction.objects.filter(kind=InteractionKind.EMAIL).count() == 2


def test_an_smtp_failure_is_retried_and_sends_once(smtp, setup, settings) -> None:
    from tests.playbooks.conftest import free_port

    real_port = settings.TANDEM_SMTP_PORT
    settings.TANDEM_SMTP_PORT = free_port()  # nothing listens there
    rules_evaluate(acting_user=None, today=timezone.localdate(), providers=Providers())
    run_worker(burst=True, schedule=False)
    job = Job.objects.get(name="playbooks.send_customer_email")
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 1) and "Connection refused" in job.last_error
    assert OutboundEmail.objects.get().status == EmailStatus.QUEUED
    settings.TANDEM_SMTP_PORT = real_port
    Job.objects.update(run_after=timezone.now())
    run_worker(burst=True, schedule=False)
    assert len(smtp.messages) == 1 and OutboundEmail.objects.get().status == EmailStatus.SENT


def test_notifications_go_to_email_and_a_webhook_and_the_digest_once_a_day(smtp, webhook, setup, settings) -> None:
    settings.TANDEM_BASE_URL = "https://tandem.example"
    csm = setup["csm"]
    NotificationPreference.objects.create(user=csm, email=True, slack_webhook_url=webhook.url, daily_digest=True)
    rules_evaluate(acting_user=None, today=timezone.localdate(), providers=Providers())
    run_worker(burst=True, schedule=False)
    cta = CallToAction.objects.get()
    [post] = webhook.posts
    assert post["text"] == (
        f"New call to action: new_account: Acme\n\nCustomer since {timezone.localdate()}.\n"
        f"https://tandem.example/playbooks/ctas/{cta.pk}/"
    )
    to_csm = [m for m in smtp.messages if m["To"] == "nina@tandem.test"]
    assert [m["Subject"] for m in to_csm] == ["New call to action: new_account: Acme"]

    today = timezone.localdate()
    digests_enqueue(day=today)
    digests_enqueue(day=today)  # the same day again: one job
    run_worker(burst=True, schedule=False)
    digests = [m for m in smtp.messages if m["Subject"] == f"Your day in Tandem: {today}"]
    assert len(digests) == 1
    assert "You have 1 open call to action (0 overdue)." in digests[0].get_payload()
    assert DigestLog.objects.get(user=csm, day=today).items == 1
    assert len(webhook.posts) == 1


def test_a_daily_run_is_scheduled_once_per_day(settings) -> None:
    from tandem.jobs.worker import schedule_daily

    settings.TANDEM_DAILY_HOUR = 6
    morning = dt.datetime(2025, 6, 30, 7, tzinfo=dt.UTC)
    assert schedule_daily(now=dt.datetime(2025, 6, 30, 5, tzinfo=dt.UTC)) is False
    assert schedule_daily(now=morning) is True
    assert schedule_daily(now=morning + dt.timedelta(hours=3)) is False
    assert list(Job.objects.values_list("name", "key")) == [("playbooks.daily", "daily:2025-06-30")]


def test_without_smtp_an_email_job_waits_without_failing_and_goes_out_once_configured(smtp, setup, settings) -> None:
    smtp_host = settings.TANDEM_SMTP_HOST
    settings.TANDEM_SMTP_HOST = ""
    rules_evaluate(acting_user=None, today=timezone.localdate(), providers=Providers())
    stats = run_worker(burst=True, schedule=False)
    assert (stats.done, stats.deferred, stats.failed) == (0, 1, 0)
    job = Job.objects.get(name="playbooks.send_customer_email")
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)  # the wait spent no attempt
    assert "TANDEM_SMTP_HOST" in job.last_error and job.run_after > timezone.now()
    assert OutboundEmail.objects.get().status == EmailStatus.QUEUED

    settings.TANDEM_SMTP_HOST = smtp_host  # the administrator configures SMTP; the job's time comes
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    stats = run_worker(burst=True, schedule=False)
    assert (stats.done, stats.deferred, stats.failed) == (1, 0, 0)
    assert len(smtp.messages) == 1 and OutboundEmail.objects.get().status == EmailStatus.SENT
