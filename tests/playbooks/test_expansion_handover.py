"""Expansion signals go to the account manager as upsell opportunities, once per CTA."""

import datetime as dt
from decimal import Decimal

import pytest

from tandem.core.errors import DomainError
from tandem.opportunities.models import Opportunity, OpportunityKind, OpportunitySource
from tandem.playbooks.models import CallToAction, CtaType
from tandem.playbooks.services import cta_expansion_opportunity_open
from tandem.users.services import user_create
from tests.factories import AccountFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def people():
    am = user_create(acting_user=None, username="ama", password=None, first_name="Ama", roles=["account_manager"])
    csm = user_create(acting_user=None, username="cso", password=None, first_name="Cso", roles=["csm"])
    return am, csm


def _cta(account, kind=CtaType.EXPANSION) -> CallToAction:
    return CallToAction.objects.create(
        account=account, type=kind, title="Seats nearly full", reason="Seat utilisation 97%",
        opened_on=TODAY, due_date=TODAY,
    )  # fmt: skip


def test_opens_one_upsell_owned_by_the_account_manager(people):
    am, csm = people
    cta = _cta(AccountFactory(am_owner=am, csm_owner=csm))

    first, created = cta_expansion_opportunity_open(
        cta=cta, acting_user=csm, amount=Decimal("24000"), close_date=TODAY + dt.timedelta(days=60)
    )
    again, created_again = cta_expansion_opportunity_open(
        cta=cta, acting_user=csm, amount=Decimal("1"), close_date=TODAY
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and Opportunity.objects.count() == 1
    assert (first.kind, first.owner, first.amount, first.source, first.source_ref) == (
        OpportunityKind.UPSELL, am, Decimal("24000"), OpportunitySource.CTA, f"cta:{cta.pk}",
    )  # fmt: skip
    assert first.notes == "Seat utilisation 97%"


def test_a_risk_cta_opens_no_opportunity(people):
    _am, csm = people
    cta = _cta(AccountFactory(), kind=CtaType.RISK)

    with pytest.raises(DomainError) as excinfo:
        cta_expansion_opportunity_open(cta=cta, acting_user=csm, amount=Decimal("5"), close_date=TODAY)

    assert excinfo.value.errors[0].field == "type"
    assert not Opportunity.objects.exists()


def test_the_cta_page_hands_over_and_then_links_to_the_opportunity(client, people):
    am, csm = people
    cta = _cta(AccountFactory(am_owner=am, csm_owner=csm))
    client.force_login(csm)

    page = client.get(f"/playbooks/ctas/{cta.pk}/").content.decode()
    assert f'action="/playbooks/ctas/{cta.pk}/opportunity/"' in page

    refused = client.post(f"/playbooks/ctas/{cta.pk}/opportunity/", {"amount": "-5", "close_date": "2026-05-01"})
    assert refused.status_code == 302 and not Opportunity.objects.exists()

    response = client.post(f"/playbooks/ctas/{cta.pk}/opportunity/", {"amount": "18000", "close_date": "2026-05-01"})
    opportunity = Opportunity.objects.get()
    assert response["Location"] == f"/opportunities/{opportunity.pk}/"
    assert opportunity.close_date == dt.date(2026, 5, 1)
    page = client.get(f"/playbooks/ctas/{cta.pk}/").content.decode()
    assert f'href="/opportunities/{opportunity.pk}/"' in page
    assert f'action="/playbooks/ctas/{cta.pk}/opportunity/"' not in page
