"""The unified timeline: interactions and events merged, paged, filtered, scoped and masked; notes
with attachments, pinning and editing."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tandem.audit.context import audit_context
from tandem.audit.models import AuditEntry, AuditVia
from tandem.core.errors import DomainError
from tandem.timeline.events import Event, record, record_many
from tandem.timeline.models import EventKind, Interaction, InteractionAttachment, InteractionKind, TimelineEvent
from tandem.timeline.selectors import Cursor, timeline_page, timeline_people
from tandem.timeline.services import attachment_add, interaction_pin, interaction_update
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, as_fixture

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()


def _user(username: str, role: str):
    with as_fixture():
        return user_create(acting_user=None, username=username, password=None, roles=[role])


@pytest.fixture
def manager():
    return _user("morgan", "cs_manager")


@pytest.fixture
def csm():
    return _user("casey", "csm")


@pytest.fixture
def account(csm):
    return AccountFactory(name="Acme", csm_owner=csm)


def _event(account, kind, when, *, actor=None, contact=None, **kwargs):
    with as_fixture():
        return record(
            account_id=account.pk,
            kind=kind,
            occurred_at=when,
            actor_id=actor.pk if actor else None,
            contact_id=contact.pk if contact else None,
            **kwargs,
        )


def _walk(user, **scope) -> list[str]:
    keys, cursor = [], None
    while True:
        page = timeline_page(user=user, cursor=Cursor.decode(cursor), limit=3, **scope)
        keys += [item.key for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return keys


# --- merging and paging ---------------------------------------------------------------------------


def test_interactions_and_events_merge_newest_first_and_pages_neither_skip_nor_repeat(manager, account):
    moment = timezone.now().replace(microsecond=0)
    expected = []
    # Three entries of each source at the very same moment, and more around it: the tie-break
    # (interactions before events, then higher ids) must give each exactly one place.
    for offset in (0, 0, 0, -60, -120):
        when = moment + dt.timedelta(seconds=offset)
        interaction = InteractionFactory(account=account, occurred_at=when)
        event = _event(account, EventKind.TASK_DONE, when, data={"title": f"Task at {offset}"})
        expected += [(when, 1, interaction.pk, f"interaction-{interaction.pk}")]
        expected += [(when, 0, event.pk, f"event-{event.pk}")]
    InteractionFactory(occurred_at=moment)  # another account's
    expected.sort(reverse=True)

    keys = _walk(manager, account_id=account.pk)

    assert keys == [row[3] for row in expected]
    assert len(set(keys)) == 10


def test_a_cursor_that_is_malformed_is_refused(manager):
    for text in ("x", "2026-01-01T00:00:00~1", "2026-01-01T00:00:00~1~5", "2026-01-01T00:00:00+00:00~7~5", "a~b~c"):
        with pytest.raises(ValueError):
            Cursor.decode(text)
    assert Cursor.decode("") is None
    cursor = Cursor(timezone.now(), 1, 42)
    assert Cursor.decode(cursor.encode()) == cursor


# --- filters and scope -------------------------------------------------------------------------


def test_type_and_person_filters(manager, csm, account):
    now = timezone.now()
    note = InteractionFactory(account=account, kind=InteractionKind.NOTE, author=csm, occurred_at=now)
    call = InteractionFactory(account=account, kind=InteractionKind.CALL, occurred_at=now)
    with as_fixture():
        call.users.add(csm)
    InteractionFactory(account=account, kind=InteractionKind.CALL, occurred_at=now)
    opened = _event(account, EventKind.CTA_OPENED, now, actor=csm, data={"title": "Onboarding stalled"})
    _event(account, EventKind.HEALTH_CHANGED, now, data={"before": "green", "after": "red", "score": 31})

    def keys(**filters):
        return {i.key for i in timeline_page(user=manager, account_id=account.pk, **filters).items}

    assert keys(types=["note"]) == {f"interaction-{note.pk}"}
    assert keys(types=["cta"]) == {f"event-{opened.pk}"}
    assert len(keys(types=["call", "health"])) == 3
    assert keys(types=["no-such-type"]) == keys()  # an unknown type filters nothing
    assert keys(person_id=csm.pk) == {f"interaction-{note.pk}", f"interaction-{call.pk}", f"event-{opened.pk}"}
    assert [u.pk for u in timeline_people(user=manager, account_id=account.pk)] == [csm.pk]


def test_a_contact_timeline_has_what_they_took_part_in(manager, account):
    laura, other = ContactFactory(account=account), ContactFactory(account=account)
    now = timezone.now()
    call = InteractionFactory(account=account, occurred_at=now)
    with as_fixture():
        call.contacts.add(laura)
    InteractionFactory(account=account, occurred_at=now)
    answer = _event(account, EventKind.SURVEY_ANSWERED, now, contact=laura, data={"score": 9})
    _event(account, EventKind.SURVEY_ANSWERED, now, contact=other, data={"score": 3})

    page = timeline_page(user=manager, contact_id=laura.pk)

    assert [i.key for i in page.items] == [f"interaction-{call.pk}", f"event-{answer.pk}"]
    assert page.items[1].title == "NPS answer: 9"


def test_values_are_masked_for_who_may_not_see_contract_values(manager, csm, account):
    _event(
        account,
        EventKind.OPPORTUNITY_WON,
        timezone.now(),
        data={"name": "Analytics add-on", "amount": Decimal("12000"), "currency": "USD"},
    )

    [seen_by_manager] = timeline_page(user=manager, account_id=account.pk).items
    [seen_by_csm] = timeline_page(user=csm, account_id=account.pk).items

    assert seen_by_manager.detail == "$12,000.00" and seen_by_manager.data["amount"] == "12000"
    assert seen_by_csm.detail == "•••" and seen_by_csm.data["amount"] is None
    assert seen_by_csm.title == "Opportunity won: Analytics add-on"


def test_the_timeline_page_costs_the_same_queries_however_long_it_is(client, manager, account):
    client.force_login(manager)
    url = f"/timeline/accounts/{account.pk}/timeline/"
    contact = ContactFactory(account=account)

    def add_some():
        for _ in range(3):
            interaction = InteractionFactory(account=account, kind=InteractionKind.NOTE, author=manager)
            with as_fixture():
                interaction.contacts.add(contact)
            _event(account, EventKind.TICKET_OPENED, timezone.now(), contact=contact, data={"subject": "Login"})

    add_some()
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    add_some()
    with CaptureQueriesContext(connection) as second:
        client.get(url)
    assert len(second) == len(first)


def test_older_entries_follow_the_cursor_link_and_a_bad_cursor_starts_over(client, manager, account):
    client.force_login(manager)
    base = timezone.now()
    for n in range(30):
        InteractionFactory(account=account, subject=f"Call {n:02d}", occurred_at=base - dt.timedelta(hours=n))
    url = f"/timeline/accounts/{account.pk}/timeline/"

    first = client.get(url, {"type": "call"}).content.decode()
    older = re.search(r'href="(/timeline/accounts/\d+/timeline/\?[^"]+)"[^>]*data-testid="timeline-older"', first)
    assert older is not None and "Call 00" in first and "Call 29" not in first
    second = client.get(older.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).content.decode()
    assert "Call 29" in second and "Call 00" not in second and "<section" not in second
    for bad in ("nonsense", "9999-99-99~1~1", "2026-01-01T00:00:00+00:00~1~99999999999999999999999"):
        assert client.get(url, {"cursor": bad}).status_code == 200
    assert client.get(url, {"type": "<script>", "person": "x", "contact": "-1"}).status_code == 200


# --- notes, attachments, pinning, editing -----------------------------------------------------------


def test_a_note_with_an_attachment_from_the_account_page(client, csm, account):
    client.force_login(csm)
    response = client.post(
        f"/timeline/accounts/{account.pk}/notes/",
        {
            "text": "Met the new **VP**. <script>alert(1)</script>",
            "attachments": [SimpleUploadedFile("diagram.png", PNG, content_type="image/png")],
            "pinned": "on",
        },
    )
    assert response.status_code == 302
    note = Interaction.objects.get(account=account)
    assert note.kind == InteractionKind.NOTE and note.author == csm and note.pinned_at is not None
    [attachment] = note.attachments.all()
    assert (attachment.filename, attachment.content_type, attachment.size) == ("diagram.png", "image/png", len(PNG))

    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "<strong>VP</strong>" in page and "<script>alert" not in page
    assert 'class="timeline pinned"' in page and "diagram.png" in page

    download = client.get(f"/timeline/attachments/{attachment.pk}/")
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == PNG


def test_a_refused_attachment_keeps_nothing(client, csm, account, settings):
    settings.TANDEM_ATTACHMENT_MAX_BYTES = 1024
    client.force_login(csm)
    for upload, message in (
        (SimpleUploadedFile("big.png", PNG + b"\x00" * 2000), "big.png is 2.0 KB; the limit is 1.0 KB."),
        (SimpleUploadedFile("page.html", b"<html><script>x</script></html>"), "page.html is not a file type"),
        (SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 60), "tool.exe is not a file type"),
        (SimpleUploadedFile("notes.txt", b"\xff\xfe\x00bad"), "notes.txt is not a file type"),
    ):
        response = client.post(f"/timeline/accounts/{account.pk}/notes/", {"text": "See file", "attachments": [upload]})
        assert response.status_code == 302
        follow = client.get(response["Location"]).content.decode()
        assert message in follow.replace("\xa0", " ")
    assert not Interaction.objects.exists() and not InteractionAttachment.objects.exists()


def test_text_attachments_are_accepted_by_extension_when_they_are_text(csm, account):
    note = InteractionFactory(account=account, kind=InteractionKind.NOTE)
    with as_fixture():
        added = attachment_add(
            acting_user=csm, interaction=note, upload=SimpleUploadedFile("plan.md", "# Plan – kế hoạch".encode())
        )
    assert added.content_type == "text/markdown"
    with pytest.raises(DomainError):
        attachment_add(acting_user=csm, interaction=note, upload=SimpleUploadedFile("plan.md", b"a\x00b"))


def test_an_attachment_is_downloaded_only_by_who_sees_its_account(client, csm, account):
    elsewhere = AccountFactory(name="Elsewhere")
    note = InteractionFactory(account=elsewhere, kind=InteractionKind.NOTE)
    with as_fixture():
        attachment = attachment_add(acting_user=None, interaction=note, upload=SimpleUploadedFile("a.png", PNG))
    restricted = _user("riley", "csm")
    from tandem.access.models import AccessPolicy
    from tandem.access.policies import BookScope

    with as_fixture():
        AccessPolicy.objects.update_or_create(role="csm", defaults={"view_accounts": BookScope.OWN})
    cache.clear()
    client.force_login(restricted)
    assert client.get(f"/timeline/attachments/{attachment.pk}/").status_code == 404
    client.force_login(csm)
    assert client.get(f"/timeline/attachments/{account.pk}/").status_code == 404  # no such attachment


def test_pinning_and_unpinning(client, csm, account):
    note = InteractionFactory(account=account, kind=InteractionKind.NOTE, subject="Renewal terms agreed")
    client.force_login(csm)
    client.post(f"/timeline/entries/{note.pk}/pin/", {"pinned": "1"})
    note.refresh_from_db()
    assert note.pinned_at is not None and note.pinned_by == csm
    [pinned] = timeline_page(user=csm, account_id=account.pk).pinned
    assert pinned.key == f"interaction-{note.pk}"
    assert timeline_page(user=csm, account_id=account.pk, cursor=Cursor(timezone.now(), 1, 1)).pinned == []
    client.post(f"/timeline/entries/{note.pk}/pin/", {"pinned": "0"})
    note.refresh_from_db()
    assert note.pinned_at is None and note.pinned_by is None


def test_editing_a_note_marks_it_edited_and_keeps_its_history(client, csm, account):
    note = InteractionFactory(account=account, kind=InteractionKind.NOTE, subject="Kick-off", summary="First draft")
    client.force_login(csm)
    when = timezone.localtime(note.occurred_at).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/timeline/entries/{note.pk}/edit/",
        {"kind": "note", "occurred_at": when, "subject": "Kick-off", "summary": "Second draft"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    note.refresh_from_db()
    assert note.summary == "Second draft" and note.edited_at is not None
    [entry] = AuditEntry.objects.filter(
        content_type__model="interaction", object_id=note.pk, action=AuditEntry.Action.UPDATE
    )
    assert entry.changes_dict["summary"] == ["First draft", "Second draft"]
    assert entry.actor_id == csm.pk
    page = client.get(f"/timeline/accounts/{account.pk}/timeline/").content.decode()
    assert "edited" in page


def test_an_edit_that_fails_validation_changes_nothing(client, csm, account):
    note = InteractionFactory(account=account, kind=InteractionKind.NOTE, subject="Kick-off")
    client.force_login(csm)
    response = client.post(
        f"/timeline/entries/{note.pk}/edit/",
        {
            "kind": "note",
            "occurred_at": "not a date",
            "subject": "Changed",
            "attachments": [SimpleUploadedFile("a.png", PNG)],
        },
    )
    assert response.status_code == 400
    note.refresh_from_db()
    assert note.subject == "Kick-off" and not note.attachments.exists()


def test_pin_and_update_services_are_audited(csm, account):
    note = InteractionFactory(account=account, kind=InteractionKind.NOTE, subject="Kick-off")
    with audit_context(via=AuditVia.UI):
        interaction_pin(acting_user=csm, interaction=note, pinned=True)
        interaction_update(acting_user=csm, interaction=note, data={"subject": "Kick-off call"})
    assert AuditEntry.objects.filter(content_type__model="interaction", object_id=note.pk, actor=csm).count() == 2


def test_record_many_writes_one_row_per_event(account):
    now = timezone.now()
    with as_fixture():
        record_many(
            [
                Event(account_id=account.pk, kind=EventKind.TICKET_OPENED, occurred_at=now, data={"subject": "A"}),
                Event(account_id=account.pk, kind=EventKind.TICKET_SOLVED, occurred_at=now, data={"subject": "A"}),
            ]
        )
    assert TimelineEvent.objects.filter(account=account).count() == 2
