"""A change made in one process is delivered, signed, by a real `tandem worker` process."""

from __future__ import annotations

import json
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from tests.processes import process_env, python, tandem
from tests.webhooks.conftest import Receiver


def _ok(done) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_an_account_change_reaches_the_endpoint_signed_through_a_worker(tmp_path: Path, receiver: Receiver) -> None:
    with process_env(tmp_path / "home", TANDEM_OUTBOUND_ALLOWED_HOSTS="127.0.0.1") as env:
        _ok(tandem(env, "migrate", "-q"))
        secret = _ok(python(env, "-m", "tests.webhooks.scenario", "setup", receiver.url)).strip()
        assert receiver.received == []  # nothing is sent from the request's process

        worker = _ok(tandem(env, "worker", "--burst", "--no-schedule"))
        deliveries = json.loads(_ok(python(env, "-m", "tests.webhooks.scenario", "deliveries")))

    assert "jobs done: 3" in worker  # one dispatch, two deliveries
    assert [(t, s, a) for t, s, a, _id in deliveries] == [
        ("account.created", "succeeded", 1),
        ("account.updated", "succeeded", 1),
    ]
    verified = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    assert sorted(v["type"] for v in verified) == ["account.created", "account.updated"]
    update = next(v for v in verified if v["type"] == "account.updated")
    assert update["data"]["changes"] == {"name": ["Acme", "Acme GmbH"]}
    assert (update["data"]["actor"]["username"], update["data"]["via"]) == ("ada", "ui")
    assert {r.headers["webhook-id"] for r in receiver.received} == {m for *_rest, m in deliveries}
