"""A renewal's forecast category and expected ARR, derived from the account's churn risk and health.

The rule (docs/revenue.md, "Renewal forecast"): the churn risk ``p`` is the churn model's current
probability for the account; without one it comes from the health band (good 10 %, neutral 30 %,
poor 60 %; no score 30 %).

* **Commit** when ``p`` < 20 % and the health band is not poor;
* **Probable** (best case) when ``p`` < 45 % (or a poor band below 20 %);
* **At risk** (pipeline) otherwise. **Lost** (omitted) is only ever set by a person.

The expected ARR is the current ARR * (1 - ``p``), to the cent: what the renewal is worth on
average. The category's probability (commit 90 %, probable 70 %, at risk 40 %) is the renewal's win
probability as for every opportunity. The daily pipeline applies the rule to each renewal it opens;
from then on the account manager owns the forecast and edits it on the renewal center
(``renewal_set_forecast``), and the rule never overwrites it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from tandem.audit.context import write_service
from tandem.audit.services import audit_rows_written
from tandem.core.money import to_cents
from tandem.opportunities.models import ForecastCategory, Opportunity

if TYPE_CHECKING:
    from tandem.users.models import User

COMMIT_BELOW = 0.20
AT_RISK_FROM = 0.45
BAND_RISK = {"good": 0.10, "neutral": 0.30, "poor": 0.60}
UNKNOWN_RISK = 0.30
PROBABILITY = {
    ForecastCategory.COMMIT: Decimal("90"),
    ForecastCategory.BEST_CASE: Decimal("70"),
    ForecastCategory.PIPELINE: Decimal("40"),
}


@dataclass(frozen=True)
class DerivedForecast:
    category: str
    probability: Decimal
    expected_arr: Decimal
    risk: float  # the churn risk used


def derive_forecast(*, current_arr: Decimal, risk: float | None, band: str | None) -> DerivedForecast:
    """The documented rule (module docstring); pure."""
    p = risk if risk is not None else BAND_RISK.get(band or "", UNKNOWN_RISK)
    p = min(max(float(p), 0.0), 1.0)
    if p < COMMIT_BELOW and band != "poor":
        category = ForecastCategory.COMMIT
    elif p < AT_RISK_FROM:
        category = ForecastCategory.BEST_CASE
    else:
        category = ForecastCategory.PIPELINE
    expected = to_cents(Decimal(current_arr) * (Decimal(1) - Decimal(str(round(p, 4)))))
    return DerivedForecast(category=category, probability=PROBABILITY[category], expected_arr=expected, risk=p)


FIELDS = ["forecast_category", "probability", "amount"]


@write_service
def renewals_forecast_derive(*, acting_user: User | None, opportunities: list[Opportunity]) -> int:
    """Set each new renewal's forecast and expected ARR from its account's churn risk and health."""
    from tandem.opportunities.selectors import account_health_and_risk

    if not opportunities:
        return 0
    health, risk = account_health_and_risk(account_ids=[o.account_id for o in opportunities])
    before = []
    changed = []
    for o in opportunities:
        h, r = health.get(o.account_id), risk.get(o.account_id)
        derived = derive_forecast(
            current_arr=o.current_arr,
            risk=r.probability if r is not None else None,
            band=h.band if h is not None else None,
        )
        values = (derived.category, derived.probability, derived.expected_arr)
        if (o.forecast_category, o.probability, o.amount) == values:
            continue
        before.append({f: getattr(o, f) for f in FIELDS})
        o.forecast_category, o.probability, o.amount = values
        changed.append(o)
    Opportunity.objects.bulk_update(changed, FIELDS, batch_size=2000)
    audit_rows_written(
        model=Opportunity, updated=list(zip(before, changed, strict=True)), fields=FIELDS, describe=lambda o: o.name
    )
    return len(changed)
