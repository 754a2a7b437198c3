"""The daily pipeline through real processes: a `tandem worker` runs the scheduled job while (or after)
a `tandem serve` takes tracking calls, and a worker SIGKILLed mid-pipeline is resumed by another.

Each test gets its own TANDEM_HOME and database (tests.processes: a SQLite file in the home, or a
database of its own on the suite's PostgreSQL server). What each step left is read back by
``tests.daily.scenario check``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.daily.conftest import Processes
from tests.daily.world import MODEL_VERSION, USERS
from tests.processes import free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EVENTS = {"u-globex": 30, "u-initech": 12, "u-umbrella": 5}
DAILY_STEPS = [
    "metrics",
    "milestones",
    "health",
    "risk",
    "segments",
    "analytics",
    "renewals",
    "rules",
    "ctas",
    "digests",
]


def _today_far_from_midnight() -> dt.date:
    """The worker schedules the job of its own (UTC) day: keep the test and it on the same day."""
    now = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    if midnight - now < dt.timedelta(minutes=5):
        time.sleep((midnight - now).total_seconds() + 1)
    return dt.datetime.now(dt.UTC).date()


def _tracking_batch(today: dt.date) -> list[dict[str, Any]]:
    """Globex and Initech (customers imported before) and Umbrella (a prospect the group call creates)
    use the product in the days before today, the days today's metric snapshot covers."""
    batch: list[dict[str, Any]] = [
        {"type": "group", "userId": "u-globex", "groupId": "acct-globex", "traits": {"name": "Globex"}},
        {"type": "group", "userId": "u-initech", "groupId": "acct-initech", "traits": {"name": "Initech"}},
        {"type": "group", "userId": "u-umbrella", "groupId": "acct-umbrella", "traits": {"name": "Umbrella"}},
        {
            "type": "identify",
            "userId": "u-umbrella",
            "traits": {"email": "ursula@umbrella.example", "firstName": "Ursula", "groupId": "acct-umbrella"},
        },
    ]
    for user, count in EVENTS.items():
        for n in range(count):
            at = dt.datetime.combine(today - dt.timedelta(days=1 + n % 10), dt.time(12, n), tzinfo=dt.UTC)
            batch.append(
                {
                    "type": "track",
                    "userId": user,
                    "event": "Report Viewed",
                    "messageId": f"{user}-{n}",
                    "timestamp": at.isoformat(),
                }
            )
    return batch


def _post(port: int, write_key: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/batch",
        data=json.dumps({"batch": batch}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait_until_serving(port: int, server: Any, procs: Processes, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, f"tandem serve exited:\n{procs.log('serve.log')}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise AssertionError(f"tandem serve did not answer in {seconds}s:\n{procs.log('serve.log')}")


def _check(procs: Processes, today: dt.date) -> dict[str, Any]:
    return json.loads(procs.scenario("check", today.isoformat()))


def _the_scheduled_job_in_a_worker_while_tracking(procs: Processes, *, server_stopped_first: bool) -> None:
    today = _today_far_from_midnight()
    write_key = json.loads(procs.scenario("setup", today.isoformat()))["write_key"]
    port = free_port()
    server = procs.start("serve", "--port", str(port), "--threads", "4", log="serve.log")
    _wait_until_serving(port, server, procs)

    batch = _tracking_batch(today)
    answer = _post(port, write_key, batch)
    assert (answer["success"], answer["accepted"], answer["rejected"]) == (True, len(batch), [])
    procs.scenario("wait-tracked", str(len(batch)), "60")
    if server_stopped_first:
        procs.stop(server)
        assert server.returncode is not None

    # The worker queues today's job itself (its daily hour is 0) and runs it.
    worker = procs.start("worker", "--poll", "0.2", log="worker.log", TANDEM_DAILY_HOUR="0")
    try:
        procs.scenario("wait-daily", "240")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nworker log:\n{procs.log('worker.log')[-4000:]}") from None
    finally:
        procs.stop(worker)
    if not server_stopped_first:
        assert server.poll() is None, "tandem serve stopped while the worker ran the daily job"

    first = _check(procs, today)
    assert first["daily_job"] == [{"day": today.isoformat()}, "done", 1]
    assert first["steps"] == DAILY_STEPS
    assert first["accounts"] == ["Globex", "Initech", "Umbrella"]  # Umbrella: created by the group call
    # metrics: today's snapshot covers the customers (Umbrella has no contract), with the events
    # tracked before today
    assert first["snapshot_accounts"] == ["Globex", "Initech"]
    assert first["events_28d"] == {"Globex": EVENTS["u-globex"], "Initech": EVENTS["u-initech"]}
    assert {row[3] for row in first["metric_values"]} == {today.isoformat()}
    # health and churn risk: scored on today's snapshot
    assert [(name, day) for name, _score, _band, day in first["health"]] == [
        ("Globex", today.isoformat()),
        ("Initech", today.isoformat()),
    ]
    assert [(name, day, version) for name, _p, day, version in first["risk"]] == [
        ("Globex", today.isoformat(), MODEL_VERSION),
        ("Initech", today.isoformat(), MODEL_VERSION),
    ]
    # renewals: Globex's term ends in 30 days
    assert first["renewals"] == ["Globex"]
    # rules: two CTAs per scored account
    assert first["ctas"] == [
        ["Any churn risk", "Globex", "kim"],
        ["Any churn risk", "Initech", "kim"],
        ["Scored today", "Globex", "kim"],
        ["Scored today", "Initech", "kim"],
    ]
    # CTA advance: the waits ended today, so the check-in emails are queued (no SMTP server here)
    assert first["emails"] == [["buyer@globex.example", "queued"], ["buyer@initech.example", "queued"]]
    assert [name for name, _key in first["jobs"]].count("playbooks.send_customer_email") == 2
    # digests: one job per user with an email address, for today
    digest_keys = [key for name, key in first["jobs"] if name == "notifications.digest"]
    assert len(digest_keys) == len(USERS) == len(set(digest_keys))
    assert all(key.endswith(f":{today}") for key in digest_keys)

    # Running it twice changes nothing: `tandem metrics refresh` runs every step again.
    output = procs.tandem("metrics", "refresh", "--today", today.isoformat())
    assert "renewals opened: 0" in output and "calls to action opened: 0" in output and "newly queued: 0" in output
    second = _check(procs, today)
    assert second["daily_runs"] == 2 and second["steps_recorded"] == 20
    for key in ("daily_runs", "steps_recorded"):
        first.pop(key), second.pop(key)
    assert second == first


def test_the_scheduled_job_in_a_worker_while_the_server_takes_tracking_calls(processes: Processes) -> None:
    """Both processes use the event store at once: passes once the event store is shared between processes."""
    _the_scheduled_job_in_a_worker_while_tracking(processes, server_stopped_first=False)


def test_the_scheduled_job_in_a_worker_after_the_server_stopped(processes: Processes) -> None:
    _the_scheduled_job_in_a_worker_while_tracking(processes, server_stopped_first=True)


def _start_and_kill_at(procs: Processes, point: str, marker: Path, log: str) -> None:
    worker = procs.start(
        "worker",
        "--no-schedule",
        "--poll",
        "0.2",
        log=log,
        TANDEM_JOBS_PAUSE_AT=point,
        TANDEM_JOBS_PAUSE_FILE=str(marker),
    )
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert worker.poll() is None, f"the worker exited before reaching {point}:\n{procs.log(log)}"
            assert time.monotonic() < deadline, f"the worker never reached {point}:\n{procs.log(log)}"
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    marker.unlink()


def test_a_worker_killed_mid_pipeline_is_resumed_by_another_without_duplicates(processes: Processes, smtp) -> None:
    """Killed inside the rules step (after the first rule committed its CTAs), then between the CTA and
    digest steps; a third worker finishes. Leases of 2 s let each next worker take the job over."""
    procs = processes
    procs.env.update(TANDEM_SMTP_HOST="127.0.0.1", TANDEM_SMTP_PORT=str(smtp.port))
    today = dt.datetime.now(dt.UTC).date()
    procs.scenario("setup", today.isoformat())
    procs.tandem("rules", "evaluate", "--queue", "--today", today.isoformat())
    marker = procs.home.parent / "paused"

    _start_and_kill_at(procs, "rules.after_rule", marker, "worker1.log")
    first = _check(procs, today)
    assert first["steps"] == ["metrics", "milestones", "health", "risk", "segments", "analytics", "renewals"]
    assert first["ctas"] == [["Scored today", "Globex", "kim"], ["Scored today", "Initech", "kim"]]
    assert first["daily_job"][1:] == ["running", 1]

    time.sleep(2.2)  # the dead worker's lease expires
    _start_and_kill_at(procs, "daily.after:ctas", marker, "worker2.log")
    second = _check(procs, today)
    assert second["steps"] == DAILY_STEPS[:9]  # the rules step ran again from its start, then CTA advance
    assert len(second["ctas"]) == 4
    assert second["emails"] == [["buyer@globex.example", "queued"], ["buyer@initech.example", "queued"]]
    assert second["daily_job"][1:] == ["running", 2]
    assert smtp.messages == []  # the email jobs wait behind the running daily job

    time.sleep(2.2)
    procs.tandem("worker", "--burst", "--no-schedule")
    final = _check(procs, today)
    assert final["daily_job"] == [{"day": today.isoformat()}, "done", 3]
    assert final["steps"] == DAILY_STEPS and final["daily_runs"] == 1 and final["steps_recorded"] == 10
    assert final["ctas"] == [
        ["Any churn risk", "Globex", "kim"],
        ["Any churn risk", "Initech", "kim"],
        ["Scored today", "Globex", "kim"],
        ["Scored today", "Initech", "kim"],
    ]
    assert final["renewals"] == ["Globex"]
    assert final["emails"] == [["buyer@globex.example", "sent"], ["buyer@initech.example", "sent"]]
    digest_keys = [key for name, key in final["jobs"] if name == "notifications.digest"]
    assert sorted(digest_keys) == sorted(set(digest_keys)) and len(digest_keys) == len(USERS)
    sent = sorted((m["To"], m["Subject"]) for m in smtp.messages)
    assert len(sent) == len(set(sent)), f"a message was sent twice: {sent}"
    assert ("buyer@globex.example", "How is Globex doing?") in sent
    assert ("buyer@initech.example", "How is Initech doing?") in sent
    assert [s for s in sent if s[1].startswith("Your day in Tandem")] == [
        ("kim@tandem.test", f"Your day in Tandem: {today}")
    ]
