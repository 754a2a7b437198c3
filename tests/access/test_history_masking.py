"""Contract values in the audit history are masked like everywhere else (tests/access/world.py)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


def test_the_history_masks_contract_values_as_every_other_page_does(world):
    """A price change in an account's history: the AM sees the amounts, the CSM the mask."""
    from decimal import Decimal

    from django.contrib.contenttypes.models import ContentType
    from django.test import Client

    from tandem.opportunities.services import renewal_set_forecast
    from tandem.users.roles import Role

    renewal_set_forecast(
        acting_user=world.users[Role.ACCOUNT_MANAGER],
        opportunity=world.inside.renewal,
        forecast_category="best_case",
        amount=Decimal("7500"),
    )
    account = world.inside.account
    path = f"/audit/history/{ContentType.objects.get_for_model(account).pk}/{account.pk}/"
    pages = {}
    for role in (Role.CSM, Role.ACCOUNT_MANAGER):
        client = Client()
        client.force_login(world.users[role])
        response = client.get(path)
        assert response.status_code == 200
        pages[role] = response.content.decode()
    assert "7,500" in pages[Role.ACCOUNT_MANAGER] and "12,000" in pages[Role.ACCOUNT_MANAGER]
    assert "7,500" not in pages[Role.CSM] and "12,000" not in pages[Role.CSM] and "•••" in pages[Role.CSM]
