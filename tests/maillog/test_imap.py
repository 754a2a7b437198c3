"""IMAP polling against a real Dovecot server started by the test (Debian's dovecot-imapd)."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tandem.maillog.imap import poll_mailbox
from tandem.maillog.models import LoggedEmail
from tandem.maillog.services import mail_address_ensure
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.factories import AccountFactory
from tests.processes import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
pytestmark = [
    pytest.mark.skipif(
        not (os.path.exists(DOVECOT) and os.geteuid() == 0),
        reason="needs Dovecot (apt-get install dovecot-imapd) and root to start it",
    ),
    pytest.mark.audit_via("fixture"),
    pytest.mark.django_db,
]

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@pytest.fixture
def dovecot(settings) -> Iterator[int]:
    # Not under pytest's tmp_path: Dovecot's unprivileged processes must reach it (pytest's is 0700).
    root = Path(tempfile.mkdtemp(prefix="tandem-dovecot-"))
    root.chmod(0o755)
    (root / "home").mkdir(parents=True)
    port = free_port()
    user = pwd.getpwnam("dovecot")
    (root / "passwd").write_text("crm-log:{PLAIN}secret-pass::::::\n")
    (root / "dovecot.conf").write_text(CONFIG.format(root=root, port=port, uid=user.pw_uid, gid=user.pw_gid))
    os.chown(root / "home", user.pw_uid, user.pw_gid)
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                proc.kill()
                pytest.fail(f"dovecot did not start: {proc.stderr.read() if proc.stderr else b''!r} {log}")
            time.sleep(0.1)
    settings.TANDEM_MAIL_IMAP_HOST = "127.0.0.1"
    settings.TANDEM_MAIL_IMAP_PORT = port
    settings.TANDEM_MAIL_IMAP_SSL = False
    settings.TANDEM_MAIL_IMAP_USER = "crm-log"
    settings.TANDEM_MAIL_IMAP_PASSWORD = "secret-pass"
    settings.TANDEM_MAIL_IMAP_FOLDER = "INBOX"
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _deliver(port: int, msg: EmailMessage) -> None:
    """Put a message in the mailbox as the mail server would (IMAP APPEND on the real server)."""
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("crm-log", "secret-pass")
    client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), msg.as_bytes())
    client.logout()


def test_polling_logs_unseen_mail_once(dovecot: int) -> None:
    casey = user_create(
        acting_user=None, username="casey", password=None, email="casey@vendor.example", roles=[Role.CSM]
    )
    account = AccountFactory(domain="globex.example")
    bcc = mail_address_ensure(acting_user=None, user=casey).address
    msg = EmailMessage()
    msg["From"] = "Hank <hank@globex.example>"
    msg["To"] = "casey@vendor.example"
    msg["Delivered-To"] = bcc  # the alias the mailbox received it through
    msg["Subject"] = "Contract questions"
    msg["Message-ID"] = "<contract-1@globex.example>"
    msg.set_content("Two questions about the contract.")
    _deliver(dovecot, msg)
    _deliver(dovecot, msg)  # delivered twice (two aliases): logged once

    assert poll_mailbox() == 2
    assert poll_mailbox() == 0  # flagged \\Seen: not fetched again
    email = LoggedEmail.objects.get()
    assert (email.user, email.account, email.received_via, email.direction) == (casey, account, "imap", "in")
    assert email.interaction is not None and email.interaction.account == account
