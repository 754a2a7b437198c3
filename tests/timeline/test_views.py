"""Logging a call, meeting, email or note from the account page, and notes on a call to action."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from tandem.playbooks.models import CallToAction, CtaType
from tandem.timeline.models import Interaction
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, as_fixture

pytestmark = pytest.mark.django_db


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


@pytest.fixture
def csm_client(client, csm):
    client.force_login(csm)
    return client


def _cta(account, owner) -> CallToAction:
    today = timezone.localdate()
    with as_fixture():
        return CallToAction.objects.create(
            account=account, type=CtaType.RISK, title="Save them", owner=owner, opened_on=today, due_date=today
        )


def test_a_csm_logs_a_call_with_contacts_and_colleagues(csm_client, csm):
    account = AccountFactory(name="Acme", csm_owner=csm)
    dana = ContactFactory(account=account, first_name="Dana")
    ContactFactory(account=AccountFactory(), first_name="Elsewhere")
    colleague = _user("sam", "account_manager")
    form = csm_client.get(f"/timeline/accounts/{account.pk}/log/?kind=meeting").content.decode()
    assert 'value="meeting" selected' in form and "Dana" in form and "Elsewhere" not in form

    response = csm_client.post(
        f"/timeline/accounts/{account.pk}/log/",
        {"kind": "call", "occurred_at": "2026-12-01T10:30", "subject": "Kick-off call", "summary": "Went well",
         "duration_minutes": "30", "contacts": [dana.pk], "users": [colleague.pk]},
    )  # fmt: skip

    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.pk}/"
    call = Interaction.objects.get(account=account)
    assert (call.kind, call.subject, call.author, call.duration_minutes) == ("call", "Kick-off call", csm, 30)
    assert list(call.contacts.all()) == [dana] and list(call.users.all()) == [colleague]
    assert "Kick-off call" in csm_client.get(f"/accounts/{account.pk}/").content.decode()


def test_log_errors_are_on_the_fields_and_nothing_is_logged(csm_client, csm):
    account = AccountFactory(csm_owner=csm)
    foreign = ContactFactory(account=AccountFactory())
    response = csm_client.post(
        f"/timeline/accounts/{account.pk}/log/",
        {"kind": "call", "occurred_at": "not a date", "duration_minutes": "0", "contacts": [foreign.pk]},
    )
    html = response.content.decode()
    assert response.status_code == 400
    for field in ("occurred_at", "duration_minutes", "contacts", "subject"):
        assert f'id="id_{field}-errors"' in html, field
    assert not Interaction.objects.exists()


def test_read_only_cannot_log(client):
    client.force_login(_user("riley", "read_only"))
    account = AccountFactory()
    assert client.get(f"/timeline/accounts/{account.pk}/log/").status_code == 403
    assert "Log activity" not in client.get(f"/accounts/{account.pk}/").content.decode()


def test_notes_on_a_call_to_action_show_there_and_on_the_timeline(csm_client, csm):
    account = AccountFactory(csm_owner=csm)
    cta = _cta(account, csm)
    assert 'hx-get="/timeline/ctas/' in csm_client.get(f"/playbooks/ctas/{cta.pk}/").content.decode()

    response = csm_client.post(f"/timeline/ctas/{cta.pk}/notes/", {"text": "Left a voicemail"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and "Left a voicemail" in response.content.decode()
    note = Interaction.objects.get(cta=cta)
    assert (note.kind, note.account, note.author) == ("note", account, csm)
    assert "Left a voicemail" in csm_client.get(f"/timeline/ctas/{cta.pk}/notes/").content.decode()
    blank = csm_client.post(f"/timeline/ctas/{cta.pk}/notes/", {"text": ""}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="id_text-errors"' in blank and Interaction.objects.count() == 1


def test_notes_of_someone_elses_cta_are_read_only(csm_client):
    other = _user("other", "csm")
    cta = _cta(AccountFactory(csm_owner=other), other)
    assert "note-form" not in csm_client.get(f"/timeline/ctas/{cta.pk}/notes/").content.decode()
    assert csm_client.post(f"/timeline/ctas/{cta.pk}/notes/", {"text": "x"}).status_code == 403


def test_the_service_refuses_a_cta_of_another_account(csm):
    from tandem.core.errors import DomainError
    from tandem.timeline.services import interaction_create

    cta = _cta(AccountFactory(), csm)
    with as_fixture(), pytest.raises(DomainError) as refused:
        interaction_create(
            acting_user=csm, account=AccountFactory(), kind="note", occurred_at=timezone.now(), summary="x", cta=cta
        )
    assert [e.field for e in refused.value.errors] == ["cta"]
