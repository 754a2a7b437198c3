"""Set-up without the demo: the shipped library, playbooks with steps, templates with versions, pools, rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tandem.core.errors import DomainError
from tandem.jobs.models import Job
from tandem.playbooks.models import (
    CallToAction,
    CtaTask,
    EmailTemplate,
    Playbook,
    PlaybookStep,
    Rule,
    StepKind,
    WorkPool,
)
from tandem.playbooks.selectors import email_preview, library_status
from tandem.playbooks.services import (
    cta_close,
    email_template_save,
    library_install,
    playbook_save,
    rule_save,
    work_pool_save,
)
from tandem.playbooks.services.emails import queued_emails_release
from tandem.timeline.models import EventKind, Interaction, TimelineEvent
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, as_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


@pytest.fixture
def manager():
    with as_fixture():
        return user_create(acting_user=None, username="max", password="correct-horse-battery", roles=["cs_manager"])


def test_a_fresh_company_installs_the_library_once_in_its_language(manager) -> None:
    assert library_status()["playbooks"] == (0, 10)
    with as_fixture():
        report = library_install(acting_user=manager, language="vi")
        again = library_install(acting_user=manager, language="vi")
    assert report.created["playbooks"] == 10 and report.created["rules"] == 15
    assert report.created["email_templates"] == 5 and report.created["email_template_versions"] == 20
    assert report.created["work_pools"] == 1 and report.created["metrics"] > 0 and report.created["scorecards"] >= 1
    assert again.total == 0  # idempotent: nothing twice
    kickoff = Playbook.objects.get(key="onboarding-kickoff")
    assert kickoff.name != "Onboarding kick-off"  # written in Vietnamese
    welcome = EmailTemplate.objects.get(key="welcome")
    assert "{{ contact.first_name }}" in welcome.body
    assert welcome.text_for("en")[0] == "Welcome to the team, {{ account.name }}!"  # the English version
    assert Rule.objects.filter(is_active=True).count() == 15


def test_installing_keeps_what_a_manager_edited(manager) -> None:
    with as_fixture():
        library_install(acting_user=manager, language="en", with_metrics=False)
        playbook = Playbook.objects.get(key="renewal-30")
        playbook_save(acting_user=manager, playbook=playbook, name="Our renewal close")
        library_install(acting_user=manager, language="en", with_metrics=False)
    assert Playbook.objects.get(key="renewal-30").name == "Our renewal close"


def test_a_rule_without_a_playbook_names_the_field_clearly(manager) -> None:
    with pytest.raises(DomainError) as caught, as_fixture():
        rule_save(acting_user=manager, name="Poor", trigger="health_band", params={}, conditions=[], playbook=None)
    fields = {e.field: e.message for e in caught.value.errors}
    assert "playbook" in fields and "null" not in fields["playbook"]
    assert not Rule.objects.exists()


def test_playbook_steps_are_saved_in_order_and_reordered_in_place(manager) -> None:
    with as_fixture():
        template = email_template_save(acting_user=manager, name="Recap", subject="Recap", body="Hi")
        playbook = playbook_save(
            acting_user=manager,
            name="Quarterly check-in",
            steps=[
                {"kind": StepKind.TASK, "title": "Call", "role": "csm", "due_offset_days": 2},
                {"kind": StepKind.EMAIL, "title": "Recap", "role": "csm", "email_template": template},
                {"kind": StepKind.WAIT, "title": "A week", "role": "csm", "due_offset_days": 7},
            ],
        )
    assert playbook.key == "quarterly-check-in"
    steps = list(playbook.steps.order_by("position"))
    assert [s.title for s in steps] == ["Call", "Recap", "A week"]
    call, recap, wait = steps
    with as_fixture():
        playbook_save(
            acting_user=manager,
            playbook=playbook,
            name=playbook.name,
            steps=[
                {"id": recap.pk, "kind": StepKind.EMAIL, "title": "Recap", "role": "csm", "email_template": template},
                {"id": call.pk, "kind": StepKind.TASK, "title": "Call again", "role": "am", "due_offset_days": 3},
            ],
        )
    after = list(playbook.steps.order_by("position"))
    assert [(s.pk, s.title, s.position) for s in after] == [(recap.pk, "Recap", 0), (call.pk, "Call again", 1)]
    assert not PlaybookStep.objects.filter(pk=wait.pk).exists()


def test_step_errors_name_the_step_and_field_and_save_nothing(manager) -> None:
    with pytest.raises(DomainError) as caught, as_fixture():
        playbook_save(
            acting_user=manager,
            name="Broken",
            steps=[
                {"kind": StepKind.EMAIL, "title": "Mail", "role": "csm"},
                {"kind": StepKind.WAIT, "title": "", "role": "csm", "due_offset_days": 0},
                {"kind": StepKind.BRANCH, "title": "Big?", "role": "csm", "condition": {"field": "nope"}},
            ],
        )
    fields = {e.field for e in caught.value.errors}
    assert {"steps.0.email_template", "steps.1.title", "steps.1.due_offset_days", "steps.2.condition"} <= fields
    assert not Playbook.objects.exists()


def test_template_versions_and_placeholders(manager) -> None:
    with pytest.raises(DomainError) as caught, as_fixture():
        email_template_save(
            acting_user=manager,
            name="Hello",
            subject="Hi {{ account.name }}",
            body="Hello",
            versions=[{"language": "vi", "subject": "Chào", "body": "{{ nope }}"}],
        )
    assert [e.field for e in caught.value.errors] == ["versions.vi.body"]
    with as_fixture():
        template = email_template_save(
            acting_user=manager,
            name="Hello",
            subject="Hi {{ account.name }}",
            body="Hello",
            versions=[{"language": "vi", "subject": "Chào {{ account.name }}", "body": "Xin chào"}],
        )
        assert template.text_for("vi") == ("Chào {{ account.name }}", "Xin chào")
        email_template_save(
            acting_user=manager, template=template, versions=[{"language": "vi", "subject": "", "body": ""}]
        )
    assert template.text_for("vi") == ("Hi {{ account.name }}", "Hello")


def test_the_preview_fills_a_sample_account_the_user_may_see(manager) -> None:
    account = AccountFactory(name="Acme", arr=90000)
    ContactFactory(account=account, first_name="Ana", email="ana@acme.test")
    preview = email_preview(subject="For {{ account.name }}", body="Hi {{ contact.first_name }}", user=manager)
    assert (preview.subject, preview.body, preview.account) == ("For Acme", "Hi Ana", account)
    assert email_preview(subject="{{ oops }}", body="", user=manager).error


def test_a_pool_gets_its_members(manager) -> None:
    with as_fixture():
        csm = user_create(acting_user=None, username="cara", password="correct-horse-battery", roles=["csm"])
        pool = work_pool_save(acting_user=manager, name="Night shift", strategy="round_robin", members=[csm])
    assert list(WorkPool.objects.get(pk=pool.pk).members.all()) == [csm]
    with pytest.raises(DomainError), as_fixture():
        work_pool_save(acting_user=manager, name="Night shift", members=[])  # the name is taken


def test_a_closed_cta_is_on_the_timeline_and_not_a_customer_interaction(manager) -> None:
    account = AccountFactory(csm_owner=manager)
    with as_fixture():
        playbook = Playbook.objects.create(key="p", name="P")
        cta = CallToAction.objects.create(
            account=account, playbook=playbook, type="risk", title="Save Acme", opened_on=timezone.localdate(),
            due_date=timezone.localdate() + dt.timedelta(days=3), owner=manager,
        )  # fmt: skip
        cta_close(acting_user=manager, cta=cta, outcome="success", reason="Renewed early")
    # An event on the timeline, not an interaction: it must not count as talking to the customer.
    assert not Interaction.objects.filter(account=account).exists()
    [event] = TimelineEvent.objects.filter(account=account, kind=EventKind.CTA_CLOSED)
    assert event.data == {"title": "Save Acme", "outcome": "success", "reason": "Renewed early"}
    assert event.actor == manager and event.target_id == cta.pk
    assert not CtaTask.objects.filter(status="pending").exists()


def test_waiting_emails_are_due_again_once_smtp_is_configured(settings) -> None:
    later = timezone.now() + dt.timedelta(minutes=9)
    with as_fixture():
        job = Job.objects.create(name="playbooks.send_customer_email", payload={"email_id": 1}, run_after=later)
    settings.TANDEM_SMTP_HOST = ""
    assert queued_emails_release() == 0
    settings.TANDEM_SMTP_HOST = "127.0.0.1"
    assert queued_emails_release() == 1
    job.refresh_from_db()
    assert job.run_after <= timezone.now()
