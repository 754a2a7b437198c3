"""Segments in the UI: a CS manager builds one with the condition builder (a custom field among the
subjects), sees its members and history; a rule's builder offers the segment; a CSM only reads."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.accounts.models import Tier
from tandem.accounts.services import account_update
from tandem.core.errors import DomainError
from tandem.segments.models import Segment
from tandem.segments.services import segment_delete, segment_save, segments_refresh
from tandem.traits.services import trait_define
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.factories import AccountFactory, as_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


def _client(role: Role, name: str) -> Client:
    with as_fixture():
        user = user_create(acting_user=None, username=name, password=None, roles=[role])
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_builds_a_segment_over_a_custom_field_and_a_csm_reads_it() -> None:
    with as_fixture():
        trait_define(acting_user=None, entity="account", key="channel", kind="choice", choices=["partner", "direct"])
        partner = AccountFactory(name="Partner Co", tier=Tier.ENTERPRISE, traits={"channel": "partner"})
        AccountFactory(name="Direct Co", tier=Tier.ENTERPRISE, traits={"channel": "direct"})
        AccountFactory(name="Small Partner", tier=Tier.SMB, traits={"channel": "partner"})
    manager = _client(Role.CS_MANAGER, "morgan")
    page = manager.get("/segments/new/").content.decode()
    assert 'value="trait:channel"' in page and 'value="segment:any"' not in page  # no segment of segments
    form = {
        "name": "Enterprise partners",
        "service_model": "high_touch",
        "cond-count": "2",
        "cond-0-subject": "field:tier",
        "cond-0-op": "in",
        "cond-0-value": "enterprise",
        "cond-1-subject": "trait:channel",
        "cond-1-op": "eq",
        "cond-1-value": "partner",
        "action": "save",
    }
    response = manager.post("/segments/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    segment = Segment.objects.get()
    assert segment.conditions == [
        {"field": "tier", "op": "in", "value": ["enterprise"]},
        {"trait": "channel", "op": "eq", "value": "partner"},
    ]
    assert (segment.members, segment.service_model) == (1, "high_touch")
    detail = manager.get(f"/segments/{segment.pk}/").content.decode()
    assert "Partner Co" in detail and "Direct Co" not in detail and "Small Partner" not in detail
    assert "Channel is partner" in detail or "channel" in detail.lower()
    # The rule builder now offers segments, and the accounts list filters by one.
    rows = manager.post(
        "/playbooks/rules/builder/", {"trigger": "new_account", "cond-count": "0", "action": "add_condition"}
    )
    assert 'value="segment:any"' in rows.content.decode()
    listed = manager.get(f"/accounts/?segment={segment.pk}").content.decode()
    assert "Partner Co" in listed and "Direct Co" not in listed
    account_page = manager.get(f"/accounts/{partner.pk}/").content.decode()
    assert 'data-testid="account-segments"' in account_page and "Enterprise partners" in account_page

    csm = _client(Role.CSM, "anna")
    assert csm.get(f"/segments/{segment.pk}/").status_code == 200
    assert csm.get("/segments/new/").status_code == 403
    assert csm.post(f"/segments/{segment.pk}/edit/", form).status_code == 403
    assert "/segments/new/" not in csm.get("/segments/").content.decode()


def test_a_segment_without_conditions_or_with_a_bad_one_is_refused_and_nothing_is_stored() -> None:
    manager = _client(Role.CS_MANAGER, "morgan")
    response = manager.post("/segments/new/", {"name": "All", "cond-count": "0", "action": "save"})
    assert response.status_code == 400 and "Add at least one condition." in response.content.decode()
    with pytest.raises(DomainError) as error:
        segment_save(acting_user=None, name="X", conditions=[{"trait": "nope", "op": "eq", "value": 1}])
    assert error.value.errors[0].field == "conditions"
    with pytest.raises(DomainError):
        segment_save(acting_user=None, name="Y", conditions=[{"segment": "any", "op": "in", "value": [1]}])
    assert not Segment.objects.exists()


def test_the_daily_refresh_keeps_each_stay_and_a_segment_in_use_cannot_be_deleted() -> None:
    import datetime as dt

    from tandem.playbooks.models import Playbook, Rule

    day = dt.date(2026, 6, 1)
    with as_fixture():
        big = AccountFactory(tier=Tier.ENTERPRISE)
        segment = segment_save(
            acting_user=None,
            name="Enterprise",
            conditions=[{"field": "tier", "op": "eq", "value": "enterprise"}],
            today=day,
        )
        playbook = Playbook.objects.create(name="Exec sponsor")
        Rule.objects.create(
            name="Enterprise check",
            trigger="new_account",
            params={"days": 14},
            conditions=[{"segment": "any", "op": "in", "value": [segment.pk]}],
            playbook=playbook,
        )
        account_update(acting_user=None, account=big, data={"tier": Tier.SMB})
    assert segments_refresh(acting_user=None, today=day + dt.timedelta(days=1)).left == 1
    with as_fixture():
        account_update(acting_user=None, account=big, data={"tier": Tier.ENTERPRISE})
    assert segments_refresh(acting_user=None, today=day + dt.timedelta(days=2)).joined == 1
    stays = list(big.segment_memberships.order_by("joined_on").values_list("joined_on", "left_on"))
    assert stays == [(day, day + dt.timedelta(days=1)), (day + dt.timedelta(days=2), None)]
    with pytest.raises(DomainError) as error:
        segment_delete(acting_user=None, segment=segment)
    assert "Enterprise check" in error.value.errors[0].message
