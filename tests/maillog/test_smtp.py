"""Real mail through the real receiver: aiosmtpd on loopback, smtplib as the sender, then the job runner."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from django.test import Client

from tandem.jobs.worker import run_worker
from tandem.maillog.models import InboundMessage, LoggedEmail
from tandem.maillog.services import mail_address_ensure, mail_address_rotate
from tandem.maillog.smtp import start_receiver
from tandem.timeline.models import Interaction
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, as_fixture
from tests.processes import free_port

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver():
    port = free_port()
    controller = start_receiver("127.0.0.1", port)
    yield port
    controller.stop()


def _csm(username: str = "casey"):
    with as_fixture():
        return user_create(
            acting_user=None,
            username=username,
            password="correct-horse-1",
            email=f"{username}@vendor.example",
            roles=[Role.CSM],
        )


def _message(
    *, sender: str, to: str, bcc: str, subject: str, message_id: str | None = "<m1@vendor.example>"
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content("Hello,\nthe renewal quote is attached.\n")
    msg.add_alternative(
        "<p>Hello,<br>the <b>renewal</b> quote is attached.</p><script>alert(1)</script>", subtype="html"
    )
    msg.add_attachment(b"%PDF-1.4 quote", maintype="application", subtype="pdf", filename="quote.pdf")
    msg.add_attachment(b"MZ\x90\x00", maintype="application", subtype="x-msdownload", filename="tool.exe")
    return msg


def _send(port: int, msg: EmailMessage, rcpts: list[str]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg, to_addrs=rcpts)


def test_bcc_mail_lands_once_on_the_contacts_account_with_its_attachment(receiver: int) -> None:
    casey = _csm()
    account = AccountFactory(domain="acme.example")
    contact = ContactFactory(account=account, email="Dana@Acme.example")
    with as_fixture():
        bcc = mail_address_ensure(acting_user=None, user=casey).address

    msg = _message(sender="Casey <casey@vendor.example>", to="dana@acme.example", bcc=bcc, subject="Renewal quote")
    _send(receiver, msg, [bcc])
    _send(receiver, msg, [bcc])  # the same message again: it must not land twice
    assert InboundMessage.objects.count() == 2
    stats = run_worker(burst=True, schedule=False)
    assert stats.done == 2 and stats.failed == 0

    email = LoggedEmail.objects.get()
    assert (email.user, email.account, email.direction) == (casey, account, "out")
    assert list(email.contacts.all()) == [contact]
    assert email.subject == "Renewal quote"
    assert "renewal quote is attached" in email.text_body
    attachment = email.attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == ("quote.pdf", "application/pdf", 14)
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.4 quote"
    assert [s["filename"] for s in email.skipped_attachments] == ["tool.exe"]
    interaction = Interaction.objects.get()
    assert (interaction.account, interaction.kind, interaction.author) == (account, "email", casey)
    assert interaction.logged_email == email
    assert list(interaction.contacts.all()) == [contact]

    client = Client()
    client.force_login(casey)
    page = client.get(f"/mail/{email.pk}/")
    assert page.status_code == 200 and b"quote.pdf" in page.content
    download = client.get(f"/mail/{email.pk}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 quote"
    assert download["Content-Disposition"].startswith("attachment")


def test_unknown_or_rotated_addresses_are_refused_at_rcpt(receiver: int) -> None:
    casey = _csm()
    with as_fixture():
        old = mail_address_ensure(acting_user=None, user=casey).address
        mail_address_rotate(acting_user=None, user=casey)
    msg = _message(sender="someone@else.example", to="x@else.example", bcc=old, subject="hi")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(receiver, msg, [old])
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(receiver, msg, ["postmaster@example.com"])
    assert InboundMessage.objects.count() == 0


def test_unmatched_mail_waits_in_the_queue_until_assigned_through_the_page(receiver: int) -> None:
    casey = _csm()
    other = _csm("olive")
    account = AccountFactory(domain="acme.example", csm_owner=casey)
    with as_fixture():
        bcc = mail_address_ensure(acting_user=None, user=casey).address
    msg = _message(
        sender="Pat <pat@unknown.example>", to="casey@vendor.example", bcc=bcc, subject="Question", message_id=None
    )
    _send(receiver, msg, [bcc])
    _send(receiver, msg, [bcc])  # no Message-ID: the hash of headers and body dedupes
    run_worker(burst=True, schedule=False)
    email = LoggedEmail.objects.get()
    assert email.account is None and email.direction == "in" and email.dedupe_key.startswith("sha256:")

    client = Client()
    client.force_login(other)
    assert b"Question" not in client.get("/mail/unassigned/").content  # not olive's, and she is no manager
    assert client.get(f"/mail/{email.pk}/").status_code == 404
    client.force_login(casey)
    assert b"Question" in client.get("/mail/unassigned/").content
    response = client.post(f"/mail/{email.pk}/assign/", {"account": f"{account.name} (#{account.pk})"})
    assert response.status_code == 302, response.content.decode()
    email.refresh_from_db()
    assert email.account == account and email.interaction is not None
    assert email.interaction.account == account
    assert b"Question" not in client.get("/mail/unassigned/").content
