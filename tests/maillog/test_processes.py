"""`tandem mail serve` and `tandem worker` as separate real processes on one TANDEM_HOME and database."""

from __future__ import annotations

import json
import smtplib
import socket
import time
from email.message import EmailMessage
from pathlib import Path

from tests.processes import free_port, process_env, python, start, tandem


def _ok(done) -> str:  # type: ignore[no-untyped-def]
    assert done.returncode == 0, done.stdout + done.stderr
    return str(done.stdout)


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_receiver_accepts_and_a_worker_logs_the_mail(tmp_path: Path) -> None:
    port = free_port()
    with process_env(tmp_path / "home") as env:
        _ok(tandem(env, "migrate", "-q"))
        bcc = _ok(python(env, "-m", "tests.maillog.scenario", "setup")).strip()
        receiver = start(env, "mail", "serve", "--host", "127.0.0.1", "--port", str(port), log=tmp_path / "smtp.log")
        try:
            _wait_port(port)
            msg = EmailMessage()
            msg["From"] = "Dana <dana@acme.example>"
            msg["To"] = "casey@vendor.example"
            msg["Subject"] = "Our usage report"
            msg["Message-ID"] = "<report-1@acme.example>"
            msg.set_content("Attached, as promised.")
            msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="usage.csv")
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                smtp.send_message(msg, to_addrs=[bcc])
                smtp.send_message(msg, to_addrs=[bcc])  # resent: logged once
        finally:
            receiver.terminate()
            receiver.wait(timeout=30)
        assert json.loads(_ok(python(env, "-m", "tests.maillog.scenario", "emails"))) == []  # the worker parses
        worker = _ok(tandem(env, "worker", "--burst", "--no-schedule"))
        emails = json.loads(_ok(python(env, "-m", "tests.maillog.scenario", "emails")))
    assert "jobs done: 2" in worker
    assert emails == [
        {
            "subject": "Our usage report",
            "account": "Acme",
            "direction": "in",
            "attachments": ["usage.csv"],
            "interaction": True,
        }
    ]
