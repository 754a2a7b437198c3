"""Scorecards set up without the demo: a manager creates one, adds and removes its measures, in the UI and the API."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from tandem.audit.models import AuditEntry
from tandem.core.errors import DomainError
from tandem.health.models import Scorecard, ScorecardMeasure
from tandem.health.services import scorecard_create, scorecard_measure_add, scorecard_measure_remove
from tandem.metrics.models import MetricDefinition
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.api.helpers import api_client_for, assert_problem
from tests.factories import as_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def metrics() -> dict[str, MetricDefinition]:
    with as_fixture():
        return {
            key: MetricDefinition.objects.create(key=key, name=name, kind="event_count", window_days=30)
            for key, name in (("logins_30d", "Logins"), ("reports_30d", "Reports run"), ("tickets_30d", "Tickets"))
        }


def _client(role: Role, username: str) -> Client:
    with as_fixture():
        user = user_create(acting_user=None, username=username, password=None, roles=[role])
    client = Client()
    client.force_login(user)
    return client


def test_a_new_primary_scorecard_takes_over_and_measures_are_checked(metrics) -> None:
    with as_fixture():
        old = scorecard_create(acting_user=None, name="Overall", is_primary=True)
        card = scorecard_create(acting_user=None, name="Enterprise health", segment="enterprise", is_primary=True)
        old.refresh_from_db()
        assert card.is_primary and not old.is_primary
        with pytest.raises(DomainError) as refused:
            scorecard_create(acting_user=None, name="Backwards", good_threshold=30, poor_threshold=50)
        assert [e.field for e in refused.value.errors] == ["poor_threshold"]
        with pytest.raises(DomainError) as refused:
            scorecard_create(acting_user=None, name="Enterprise health")
        assert [e.field for e in refused.value.errors] == ["name"]

        logins = scorecard_measure_add(acting_user=None, scorecard=card, metric=metrics["logins_30d"], weight=2)
        with pytest.raises(DomainError) as refused:
            scorecard_measure_add(acting_user=None, scorecard=card, metric=metrics["logins_30d"])
        assert [e.field for e in refused.value.errors] == ["metric"]
        with pytest.raises(DomainError) as refused:
            scorecard_measure_add(acting_user=None, scorecard=card, metric=metrics["tickets_30d"], method="thresholds")
        assert [e.field for e in refused.value.errors] == ["poor_value", "good_value"]
        tickets = scorecard_measure_add(
            acting_user=None,
            scorecard=card,
            metric=metrics["tickets_30d"],
            method="thresholds",
            poor_value=5,
            good_value=0,
        )
        scorecard_measure_remove(acting_user=None, measure=tickets)
        with pytest.raises(DomainError):  # the last weighted measure stays: a scorecard must score something
            scorecard_measure_remove(acting_user=None, measure=logins)
    assert list(card.measures.values_list("metric__key", flat=True)) == ["logins_30d"]


def test_a_manager_builds_a_scorecard_in_the_ui(metrics) -> None:
    manager = _client(Role.CS_MANAGER, "morgan")
    assert 'data-testid="new-scorecard"' in manager.get("/health/").content.decode()
    bad = manager.post("/health/scorecards/new/", {"name": "", "good_threshold": "65", "poor_threshold": "40"})
    assert bad.status_code == 400 and "This field is required." in bad.content.decode()
    response = manager.post(
        "/health/scorecards/new/",
        {"name": "Adoption first", "good_threshold": "70", "poor_threshold": "40", "missing_policy": "skip"},
    )
    card = Scorecard.objects.get(name="Adoption first")
    assert response.status_code == 302 and response["Location"] == f"/health/scorecards/{card.pk}/"
    page = manager.get(response["Location"]).content.decode()
    assert 'data-testid="no-measures"' in page and 'data-testid="measure-form"' in page

    url = f"/health/scorecards/{card.pk}/measures/"
    refused = manager.post(url, {"metric": metrics["logins_30d"].pk, "weight": "1", "method": "thresholds"})
    assert (
        refused.status_code == 400 and "Thresholds scoring needs a poor and a good value." in refused.content.decode()
    )
    for key in ("logins_30d", "reports_30d"):
        assert manager.post(
            url, {"metric": metrics[key].pk, "group": "Adoption", "weight": "2", "method": "percentile"}
        )
    assert set(card.measures.values_list("metric__key", flat=True)) == {"logins_30d", "reports_30d"}
    page = manager.get(f"/health/scorecards/{card.pk}/").content.decode()
    assert page.count('data-testid="remove-measure"') == 2
    assert f'<option value="{metrics["logins_30d"].pk}"' not in page  # already on the card: not offered again

    measure = card.measures.get(metric__key="reports_30d")
    assert manager.post(f"/health/scorecards/{card.pk}/measures/{measure.pk}/remove/").status_code == 302
    assert not ScorecardMeasure.objects.filter(pk=measure.pk).exists()
    # who did it, and through which path, is in the history
    removal = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(ScorecardMeasure),
        object_id=measure.pk,
        action=AuditEntry.Action.DELETE,
    )
    assert removal.actor.username == "morgan" and removal.via == "ui"


@pytest.mark.parametrize("role", [Role.CSM, Role.ACCOUNT_MANAGER, Role.READ_ONLY])
def test_only_managers_set_up_scorecards(metrics, role: Role) -> None:
    with as_fixture():
        card = scorecard_create(acting_user=None, name="Overall")
        measure = scorecard_measure_add(acting_user=None, scorecard=card, metric=metrics["logins_30d"])
    client = _client(role, "someone")
    assert client.get("/health/scorecards/new/").status_code == 403
    assert (
        client.post(f"/health/scorecards/{card.pk}/measures/", {"metric": metrics["reports_30d"].pk}).status_code == 403
    )
    assert client.post(f"/health/scorecards/{card.pk}/measures/{measure.pk}/remove/").status_code == 403
    page = client.get(f"/health/scorecards/{card.pk}/").content.decode()
    assert 'data-testid="scorecard-read-only"' in page
    assert 'data-testid="measure-form"' not in page and 'data-testid="remove-measure"' not in page
    assert 'data-testid="new-scorecard"' not in client.get("/health/").content.decode()


def test_the_api_creates_a_scorecard_with_its_measures_or_nothing(metrics) -> None:
    api = api_client_for(Role.CS_MANAGER, "manager")
    bad = api.post(
        "/health/scorecards",
        {
            "name": "Via API",
            "measures": [{"metric": "logins_30d"}, {"metric": "no_such_metric"}, {"metric": "tickets_30d"}],
        },
    )
    assert_problem(bad, 400, ["measures.1.metric"])
    assert not Scorecard.objects.filter(name="Via API").exists()  # nothing half-saved

    made = api.post(
        "/health/scorecards",
        {
            "name": "Via API",
            "segment": "enterprise",
            "measures": [
                {"metric": "logins_30d", "group": "Adoption", "weight": 3},
                {"metric": "tickets_30d", "group": "Support", "method": "thresholds", "poor_value": 5, "good_value": 0},
            ],
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["segment"] == "enterprise" and [m["metric"] for m in body["measures"]] == ["logins_30d", "tickets_30d"]
    added = api.post(f"/health/scorecards/{body['id']}/measures", {"metric": "reports_30d", "weight": 1})
    assert added.status_code == 201 and added.json()["metric"] == "reports_30d"
    assert_problem(
        api.post(f"/health/scorecards/{body['id']}/measures", {"metric": "reports_30d"}), 400, ["body.metric"]
    )
    assert api.delete(f"/health/scorecards/{body['id']}/measures/{added.json()['id']}").status_code == 204
    assert api.get("/health/scorecards").json()[0]["measures"][0]["id"] == body["measures"][0]["id"]

    csm = api_client_for(Role.CSM, "casey")
    assert csm.post("/health/scorecards", {"name": "Mine"}).status_code == 403
