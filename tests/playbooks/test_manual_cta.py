"""A task or call to action opened by hand from the account page."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from tandem.core.errors import DomainError
from tandem.playbooks.models import CallToAction, CtaTask
from tandem.playbooks.services import cta_create
from tandem.users.services import user_create
from tests.factories import AccountFactory, as_fixture

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()


def _user(username: str, role: str):
    with as_fixture():
        return user_create(acting_user=None, username=username, password=None, roles=[role])


@pytest.fixture
def csm():
    return _user("casey", "csm")


def test_the_service_opens_a_cta_with_one_task_for_its_owner(csm):
    account = AccountFactory(arr=24000)
    due = TODAY + dt.timedelta(days=3)
    with as_fixture():
        cta = cta_create(
            acting_user=csm, account=account, title=" Plan the QBR ", type="lifecycle", owner=csm, due_date=due,
            today=TODAY, priority=3, reason="Before the renewal",
        )  # fmt: skip
    assert (cta.title, cta.owner, cta.due_date, cta.rule, cta.status) == ("Plan the QBR", csm, due, None, "open")
    assert cta.priority_score > 0
    task = CtaTask.objects.get(cta=cta)
    assert (task.title, task.assignee, task.due_date, task.status) == ("Plan the QBR", csm, due, "pending")


def test_the_service_names_every_invalid_field(csm):
    with as_fixture(), pytest.raises(DomainError) as refused:
        cta_create(
            acting_user=csm, account=AccountFactory(), title="", type="nope", owner=csm,
            due_date=TODAY - dt.timedelta(days=1), today=TODAY, priority=9,
        )  # fmt: skip
    assert [e.field for e in refused.value.errors] == ["title", "type", "priority", "due_date"]
    assert not CallToAction.objects.exists()


def test_a_csm_opens_a_task_from_the_account_page(client, csm):
    client.force_login(csm)
    account = AccountFactory(csm_owner=csm)
    assert (
        f'href="/playbooks/accounts/{account.pk}/ctas/new/"' in client.get(f"/accounts/{account.pk}/").content.decode()
    )
    due = (TODAY + dt.timedelta(days=5)).isoformat()

    response = client.post(
        f"/playbooks/accounts/{account.pk}/ctas/new/",
        {"title": "Send the onboarding plan", "type": "onboarding", "priority": "2", "owner": csm.pk, "due_date": due},
    )

    cta = CallToAction.objects.get(account=account)
    assert response["Location"] == f"/playbooks/ctas/{cta.pk}/"
    assert "Send the onboarding plan" in client.get("/playbooks/my-day/").content.decode()


def test_form_errors_and_refusals(client, csm):
    client.force_login(csm)
    account = AccountFactory(csm_owner=csm)
    response = client.post(
        f"/playbooks/accounts/{account.pk}/ctas/new/",
        {"title": "Late", "type": "risk", "priority": "2", "owner": csm.pk, "due_date": "2020-01-01"},
    )
    assert response.status_code == 400 and 'id="id_due_date-errors"' in response.content.decode()
    assert not CallToAction.objects.exists()
    theirs = AccountFactory(csm_owner=_user("other", "csm"))
    assert client.get(f"/playbooks/accounts/{theirs.pk}/ctas/new/").status_code == 403
