import pytest

from tandem.metrics.models import MetricDefinition
from tests.factories import UserFactory, as_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_admin_lists_and_adds_definitions_through_the_checked_form(admin_client):
    with as_fixture():
        MetricDefinition.objects.create(key="logins", name="Logins", kind="event_count", events=["login"])

    listing = admin_client.get("/admin/metrics/metricdefinition/")
    assert listing.status_code == 200
    assert "logins" in listing.content.decode()
    page = admin_client.get("/admin/metrics/metricdefinition/add/").content.decode()
    assert 'value="latest_nps"' in page and 'value="milestone_completion"' in page

    refused = admin_client.post(
        "/admin/metrics/metricdefinition/add/",
        {"key": "bad", "name": "Bad", "kind": "per_seat", "events": "[]", "window_days": 28, "is_active": "on"},
    )
    assert refused.status_code == 200
    assert "Required for this kind of metric." in refused.content.decode()
    assert not MetricDefinition.objects.filter(key="bad").exists()

    saved = admin_client.post(
        "/admin/metrics/metricdefinition/add/",
        {"key": "nps", "name": "NPS", "kind": "latest_nps", "events": "[]", "window_days": 365, "is_active": "on"},
    )
    assert saved.status_code == 302
    assert MetricDefinition.objects.get(key="nps").kind == "latest_nps"
