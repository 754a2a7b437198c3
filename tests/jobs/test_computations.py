"""Long computations on the real worker loop: progress, result, failure, and who may see them."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.jobs import computations
from tandem.jobs.computations import KINDS, Kind, Output, computation_start
from tandem.jobs.models import Computation, JobStatus
from tandem.jobs.worker import run_worker
from tandem.users.services import user_create

pytestmark = [pytest.mark.audit_via("fixture")]


def ok_compute(params: dict, progress: computations.Progress) -> Output:
    progress(50, "half way")
    assert Computation.objects.get(pk=params["me"]).progress == 50  # stored at once, for the poll
    return Output(result={"answer": params["x"] * 2})


def broken_compute(params: dict, progress: computations.Progress) -> Output:
    raise ValueError("no data for that day")


def render_answer(request, row):  # type: ignore[no-untyped-def]
    from django.http import HttpResponse

    return HttpResponse(f"answer={row.result['answer']}")


@pytest.fixture
def kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    here = "tests.jobs.test_computations"
    monkeypatch.setitem(KINDS, "test.ok", Kind(f"{here}.ok_compute", f"{here}.render_answer"))
    monkeypatch.setitem(KINDS, "test.broken", Kind(f"{here}.broken_compute", f"{here}.render_answer"))


def test_the_worker_runs_a_computation_and_the_poll_shows_progress_then_the_result(transactional_db, kinds) -> None:
    me = user_create(acting_user=None, username="me", password=None, roles=["csm"])
    other = user_create(acting_user=None, username="other", password=None, roles=["admin"])
    row = computation_start(kind="test.ok", params={"x": 21}, requested_by=me)
    Computation.objects.filter(pk=row.pk).update(params={"x": 21, "me": row.pk})
    client = Client()
    client.force_login(me)
    queued = client.get(f"/jobs/computations/{row.pk}/").content.decode()
    assert 'data-status="queued"' in queued and 'hx-trigger="every 1s"' in queued

    stats = run_worker(burst=True, schedule=False)
    assert "jobs.compute" in stats.names
    assert client.get(f"/jobs/computations/{row.pk}/").content.decode() == "answer=42"
    # Somebody else's computation is not found, whatever their role.
    stranger = Client()
    stranger.force_login(other)
    assert stranger.get(f"/jobs/computations/{row.pk}/").status_code == 404

    broken = computation_start(kind="test.broken", params={}, requested_by=me)
    run_worker(burst=True, schedule=False)
    broken.refresh_from_db()
    assert broken.status == JobStatus.FAILED and broken.error == "no data for that day"
    page = client.get(f"/jobs/computations/{broken.pk}/").content.decode()
    assert "The computation failed: no data for that day" in page and "hx-trigger" not in page


def test_a_key_starts_a_computation_once(db, kinds) -> None:
    first = computation_start(kind="test.ok", params={"x": 1}, requested_by=None, key="k")
    assert computation_start(kind="test.ok", params={"x": 1}, requested_by=None, key="k").pk == first.pk
    assert Computation.objects.count() == 1
