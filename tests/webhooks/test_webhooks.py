"""Endpoints, the outbox, events, signatures, retries with backoff, replay and the SSRF guard."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tandem.accounts.models import Account
from tandem.accounts.services import account_bulk_upsert, account_update
from tandem.core.errors import DomainError
from tandem.jobs.models import Job
from tandem.opportunities.models import Opportunity, OpportunityKind, Stage
from tandem.opportunities.services import opportunity_move_stage
from tandem.playbooks.models import CallToAction, CtaOutcome
from tandem.playbooks.services import cta_close
from tandem.webhooks.models import Delivery, DeliveryStatus, Endpoint, EndpointKind, OutboxItem
from tandem.webhooks.services import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    delivery_attempt,
    delivery_replay,
    endpoint_create,
    endpoint_send_test,
    outbox_dispatch,
)
from tests.factories import AccountFactory, UserFactory, as_fixture
from tests.webhooks.conftest import Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


def _endpoint(url: str, *types: str, kind: str = EndpointKind.STANDARD) -> Endpoint:
    return endpoint_create(acting_user=None, name="Hook", url=url, kind=kind, event_types=list(types))


def _deliver_all() -> list[Delivery]:
    outbox_dispatch(acting_user=None)
    for delivery in Delivery.objects.filter(status=DeliveryStatus.PENDING):
        delivery_attempt(delivery_id=delivery.pk)
    return list(Delivery.objects.order_by("pk"))


def test_nothing_waits_in_the_outbox_while_no_endpoint_is_active():
    account = AccountFactory()
    account_update(acting_user=None, account=account, data={"name": "Renamed"})
    assert not OutboxItem.objects.exists()


def test_event_types_name_the_moment(receiver: Receiver):
    _endpoint(receiver.url)
    with as_fixture():
        account = AccountFactory()
        cta = CallToAction.objects.create(
            account=account, title="Save", opened_on=timezone.localdate(), due_date=timezone.localdate()
        )
        renewal = Opportunity.objects.create(
            account=account,
            kind=OpportunityKind.RENEWAL,
            name="Renewal",
            close_date=timezone.localdate(),
            probability=50,
            amount=1000,
        )
        upsell = Opportunity.objects.create(
            account=account,
            kind=OpportunityKind.UPSELL,
            name="Upsell",
            close_date=timezone.localdate(),
            probability=20,
            amount=500,
        )
    OutboxItem.objects.all().delete()  # the fixtures' own creation events are not what is tested
    cta_close(acting_user=None, cta=cta, outcome=CtaOutcome.SUCCESS)
    with as_fixture():
        renewal.stage, renewal.closed_on = Stage.CLOSED_WON, timezone.localdate()
        renewal.save()
    opportunity_move_stage(acting_user=None, opportunity=upsell, stage=Stage.CLOSED_LOST)
    with as_fixture():
        upsell.delete()

    deliveries = _deliver_all()

    assert [d.event_type for d in deliveries] == [
        "cta.closed",
        "renewal.won",
        "opportunity.lost",
        "opportunity.deleted",
    ]
    assert all(d.status == DeliveryStatus.SUCCEEDED for d in deliveries)
    assert deliveries[0].payload["data"]["changes"]["status"] == ["open", "closed"]
    assert deliveries[0].account_id == account.pk


def test_a_bulk_write_is_one_event_per_row(receiver: Receiver):
    endpoint = _endpoint(receiver.url, "account.created")
    accounts = [Account(name=f"Bulk {n}", external_id=f"b{n}") for n in range(3)]
    account_bulk_upsert(acting_user=None, creates=accounts, updates=[], fields=[], now=timezone.now())

    deliveries = _deliver_all()

    assert sorted(d.payload["data"]["name"] for d in deliveries) == ["Bulk 0", "Bulk 1", "Bulk 2"]
    assert {d.endpoint_id for d in deliveries} == {endpoint.pk}
    assert len(receiver.received) == 3
    # Running the dispatcher again (a worker that died after writing) adds nothing.
    assert outbox_dispatch(acting_user=None) == 0


def test_the_signature_verifies_with_the_standard_webhooks_library(receiver: Receiver):
    endpoint = _endpoint(receiver.url, "account.updated")
    account = AccountFactory(name="Acme")
    account_update(acting_user=UserFactory(username="ada"), account=account, data={"name": "Acme GmbH"})
    _deliver_all()

    (request,) = receiver.received
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "account.updated"
    assert payload["data"]["actor"]["username"] == "ada"
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)


def test_a_failing_endpoint_is_retried_with_backoff_then_marked_failed(
    receiver: Receiver, django_capture_on_commit_callbacks
):
    _endpoint(receiver.url)
    receiver.statuses = [500] * MAX_ATTEMPTS
    account = AccountFactory()
    account_update(acting_user=None, account=account, data={"name": "Renamed"})
    outbox_dispatch(acting_user=None)
    delivery = Delivery.objects.get(event_type="account.updated")

    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.RETRYING
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_status) == (1, 500)
    assert "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at >= before + dt.timedelta(seconds=RETRY_DELAYS[0])
    assert Job.objects.filter(name="webhooks.deliver", run_after__gte=before + dt.timedelta(seconds=4)).exists()

    for _attempt in range(MAX_ATTEMPTS - 1):
        delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, MAX_ATTEMPTS, None)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # the same message each time


def test_replay_sends_the_same_message_again(receiver: Receiver):
    _endpoint(receiver.url)
    account_update(acting_user=None, account=AccountFactory(), data={"name": "Renamed"})
    (delivery,) = [d for d in _deliver_all() if d.event_type == "account.updated"]

    delivery_replay(acting_user=None, delivery=delivery)
    assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.SUCCEEDED

    ids = [r.headers["webhook-id"] for r in receiver.received if b"account.updated" in r.body]
    assert ids == [delivery.message_id, delivery.message_id]


def test_a_slack_endpoint_gets_a_readable_message(receiver: Receiver):
    endpoint = _endpoint(receiver.url, "account.updated", kind=EndpointKind.SLACK)
    account_update(acting_user=None, account=AccountFactory(name="Acme"), data={"name": "Acme GmbH"})
    _deliver_all()
    assert orjson.loads(receiver.received[0].body) == {"text": "Account changed: Acme GmbH"}

    test = endpoint_send_test(acting_user=None, endpoint=endpoint)
    delivery_attempt(delivery_id=test.pk)
    assert orjson.loads(receiver.received[1].body) == {"text": "webhook.test: Hook"}


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:5432/",
        "ftp://example.com/hook",
        "http://10.0.0.8/",
    ],
)
def test_internal_and_non_http_urls_are_refused_when_saved(url: str):
    with pytest.raises(DomainError) as refused:
        _endpoint(url)
    assert [e.field for e in refused.value.errors] == ["url"]
    assert not Endpoint.objects.exists()


def test_unknown_event_types_are_refused():
    with pytest.raises(DomainError) as refused:
        _endpoint("https://example.com/hook", "account.created", "account.exploded")
    assert refused.value.errors[0].field == "event_types"
    assert "account.exploded" in refused.value.errors[0].message
