"""Parsing, matching, access and the API of logged email (services called directly, as set-up)."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from django.test import Client

from tandem.maillog.models import LoggedEmail
from tandem.maillog.parsing import html_to_text, parse_message
from tandem.maillog.services import email_ingest, mail_address_ensure
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


def _user(name: str, role: Role):  # type: ignore[no-untyped-def]
    return user_create(acting_user=None, username=name, password=None, email=f"{name}@vendor.example", roles=[role])


def _raw(*, sender: str, to: str, subject: str = "Hi", mid: str = "<a@x>", html: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, to, subject, mid
    if html is None:
        msg.set_content("Plain body")
    else:
        msg.set_content(html, subtype="html")
    return msg.as_bytes()


def test_html_only_bodies_become_text_without_markup_or_scripts() -> None:
    text = html_to_text(
        '<p>Hi&nbsp;<b>there</b></p><script>alert("x")</script><style>p{}</style><img src=x onerror=1>Bye'
    )
    assert "alert" not in text and "<" not in text and "p{}" not in text
    assert text.split() == ["Hi", "there", "Bye"]


def test_attachments_over_the_size_limit_are_left_out() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@x.example", "b@y.example", "big"
    msg.set_content("see attached")
    msg.add_attachment(b"x" * 2000, maintype="application", subtype="pdf", filename="big.pdf")
    msg.add_attachment(b"ok", maintype="text", subtype="plain", filename="notes.txt")
    parsed = parse_message(msg.as_bytes(), max_attachment_bytes=1000)
    assert [a.filename for a in parsed.attachments] == ["notes.txt"]
    assert parsed.skipped == [{"filename": "big.pdf", "reason": "size", "content_type": "application/pdf"}]
    # A PDF named .exe is refused by its name as well.
    msg2 = EmailMessage()
    msg2.set_content("x")
    msg2.add_attachment(b"MZ", maintype="application", subtype="pdf", filename="invoice.pdf.exe")
    assert parse_message(msg2.as_bytes(), max_attachment_bytes=1000).skipped[0]["reason"] == "type"


def test_matching_by_domain_when_no_contact_matches_and_direction() -> None:
    casey = _user("casey", Role.CSM)
    account = AccountFactory(domain="Initech.example")
    bcc = mail_address_ensure(acting_user=None, user=casey).address
    [outcome] = email_ingest(
        acting_user=None,
        raw=_raw(sender="peter@initech.example", to="casey@vendor.example"),
        recipients=[bcc],
        via="smtp",
    )
    assert (outcome.email.account, outcome.email.direction, list(outcome.email.contacts.all())) == (account, "in", [])


def test_contacts_of_two_accounts_with_a_tie_stay_unassigned() -> None:
    casey = _user("casey", Role.CSM)
    a, b = ContactFactory(email="one@a.example"), ContactFactory(email="two@b.example")
    bcc = mail_address_ensure(acting_user=None, user=casey).address
    raw = _raw(sender="casey@vendor.example", to=f"{a.email}, {b.email}")
    [outcome] = email_ingest(acting_user=None, raw=raw, recipients=[bcc], via="smtp")
    assert outcome.email.account is None and outcome.email.direction == "out"


def test_a_read_only_user_logs_nothing_and_sees_no_forms() -> None:
    viewer = _user("viewer", Role.READ_ONLY)
    address = mail_address_ensure(acting_user=None, user=viewer).address  # e.g. made before the role changed
    assert (
        email_ingest(
            acting_user=None, raw=_raw(sender="x@y.example", to="z@w.example"), recipients=[address], via="smtp"
        )
        == []
    )
    client = Client()
    client.force_login(viewer)
    page = client.get("/mail/address/").content.decode()
    assert "/mail/address/rotate/" not in page and "log+" not in page
    assert client.post("/mail/address/rotate/").status_code == 403


def test_unassigned_mail_is_the_owners_and_managers_and_the_api_assigns_it() -> None:
    casey, olive, morgan = _user("casey", Role.CSM), _user("olive", Role.CSM), _user("morgan", Role.CS_MANAGER)
    account = AccountFactory(csm_owner=casey)
    bcc = mail_address_ensure(acting_user=None, user=casey).address
    email_ingest(
        acting_user=None,
        raw=_raw(sender="pat@nowhere.example", to="casey@vendor.example"),
        recipients=[bcc],
        via="smtp",
    )
    email = LoggedEmail.objects.get()

    def api(user, method: str, path: str, body: dict | None = None):  # type: ignore[no-untyped-def]
        client = Client()
        client.force_login(user)
        return client.generic(method, f"/api/v1/mail{path}", json.dumps(body or {}), content_type="application/json")

    assert api(olive, "GET", "/messages?unassigned=true").json()["items"] == []
    assert api(olive, "GET", f"/messages/{email.pk}").status_code == 404
    assert [m["id"] for m in api(morgan, "GET", "/messages?unassigned=true").json()["items"]] == [email.pk]
    refused = api(casey, "POST", f"/messages/{email.pk}/assign", {"account_id": 10**9})
    assert refused.status_code == 400 and refused["Content-Type"].startswith("application/problem+json")
    done = api(casey, "POST", f"/messages/{email.pk}/assign", {"account_id": account.pk})
    assert done.status_code == 200, done.content
    assert done.json()["account_id"] == account.pk and done.json()["interaction_id"]
    again = api(casey, "POST", f"/messages/{email.pk}/assign", {"account_id": account.pk})
    assert again.status_code == 400
