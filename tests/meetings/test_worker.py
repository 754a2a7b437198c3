"""The reminder and the invitation of a meeting are delivered by a real `tandem worker --burst` process."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar

from tests.playbooks.conftest import Inbox
from tests.processes import process_env, python, tandem


def _ok(done) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_worker_sends_the_invitation_and_the_reminder(tmp_path: Path, smtp: Inbox) -> None:
    smtp_env = {"TANDEM_SMTP_HOST": "127.0.0.1", "TANDEM_SMTP_PORT": str(smtp.port), "TANDEM_SMTP_FROM": "cs@t.test"}
    with process_env(tmp_path / "home", **smtp_env) as env:
        _ok(tandem(env, "migrate", "-q"))
        _ok(python(env, "-m", "tests.meetings.scenario", "setup"))
        assert smtp.messages == []  # nothing is sent from the request's process
        worker = _ok(tandem(env, "worker", "--burst", "--no-schedule"))
        notifications = json.loads(_ok(python(env, "-m", "tests.meetings.scenario", "notifications")))

    assert "jobs done: 3" in worker  # the invitation, the reminder, the reminder's email
    assert [(k.split(":")[0], t, e) for k, t, e in notifications] == [
        ("meeting-reminder", "Meeting soon: Q3 business review", True)
    ]
    subjects = sorted(str(m["Subject"]) for m in smtp.messages)
    assert subjects == ["Invitation: Q3 business review", "Meeting soon: Q3 business review"]
    invitation = next(m for m in smtp.messages if m["Subject"].startswith("Invitation"))
    (part,) = [p for p in invitation.walk() if p.get_content_type() == "text/calendar"]
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert str(cal["method"]) == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert sorted(str(a) for a in event["attendee"]) == ["mailto:cora@tandem.test", "mailto:kim@acme.example"]
