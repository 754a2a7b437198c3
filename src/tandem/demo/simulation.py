"""The hidden health process: one account's life, month by month.

Latent health ``h`` (a logit-scale number, 0 = average) moves towards a target ``mu`` that is set
by the account's tier, the quality of its onboarding, how often its CSM touches it and whether its
champion and executive sponsor are still there. Everything observable follows ``h``: usage (in
events.py), ticket volume, urgency and CSAT, the tone of CSM interactions, and at each renewal the
churn / contraction / expansion odds. docs/demo.md lists every coefficient below.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from numpy.random import Generator

from tandem.demo import texts
from tandem.demo.catalog import FEATURES, PRICE_STEP, PRODUCTS
from tandem.demo.names import NameMaker
from tandem.demo.plan import (
    AccountPlan,
    Calendar,
    ContactPlan,
    DemoPlan,
    InteractionPlan,
    ItemPlan,
    RenewalTruth,
    TermPlan,
    TicketPlan,
    add_months,
)

# --- coefficients of the hidden process (documented in docs/demo.md) ---------------------------
TIER_HEALTH = {"enterprise": 0.3, "mid_market": 0.1, "smb": -0.2}
ONBOARDING_WEIGHT = 0.5  # x onboarding quality ~ N(0, 1)
TOUCH_WEIGHT = 0.4  # x log(touch rate / tier norm): diligent CSMs keep accounts healthier
TOUCH_MONTH_WEIGHT = 0.08  # x last month's touches above/below the account's own rate
CHAMPION_PENALTY = 0.9  # target drop while the account has no champion
SPONSOR_PENALTY = 0.5  # target drop while an account that had an executive sponsor has none
CHAMPION_SHOCK = 0.4  # immediate drop in the month the champion leaves
SPONSOR_SHOCK = 0.25
KAPPA = 0.35  # share of the gap to the target closed each month
SIGMA = 0.28  # monthly noise
WIND_DOWN_DRIFT = 0.35  # monthly drop after a customer has decided to leave
DEPARTURE_HAZARD = 0.013  # monthly chance that any one contact leaves their company
REPLACEMENT_CHANCE = 0.45  # a departed champion is replaced 45-150 days later
DECISION_LEAD_DAYS = 90  # renewal decisions are made this long before the renewal date
CHURN_INTERCEPT = -2.8
CHURN_SLOPE = -1.7  # per unit of health at the decision
TIER_CHURN = {"enterprise": -0.6, "mid_market": 0.0, "smb": 0.4}
MONTHLY_CHURN_INTERCEPT = -4.4  # evergreen monthly contracts: a small hazard every month
EXPANSION = (-0.6, 1.2)  # intercept, slope of the expansion logit (flat is the reference)
CONTRACTION = (-1.6, -1.0)
TOUCH_NORM = {"enterprise": 3.0, "mid_market": 1.4, "smb": 0.5}
TICKET_BASE = {"enterprise": 2.2, "mid_market": 0.9, "smb": 0.3}
TICKET_HEALTH = -0.75  # log ticket rate per unit of health
QBR_EVERY_DAYS = {"enterprise": 91, "mid_market": 182}
ONBOARDING_OFFSETS = (2, 9, 16, 27, 41, 55)
ONBOARDING_SESSIONS = {"enterprise": 6, "mid_market": 5, "smb": 3}

_PRICES = {p.code: p for p in PRODUCTS}
_FEATURE_NAMES = [f.name.replace("_", " ") for f in FEATURES]
_DURATIONS = (15, 30, 30, 45, 60)  # minutes of a call or meeting


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _choice(rng: Generator, weights: tuple[float, ...]) -> int:
    """``rng.choice(len(weights), p=weights / sum)`` with the same draw and result, without numpy's
    per-call array work (ten times slower, and called for every renewal decision)."""
    total = 0.0
    for w in weights:  # numpy sums a short array left to right from 0.0: the same floats
        total += w
    cdf, running = [], 0.0
    for w in weights:
        running += w / total
        cdf.append(running)
    return bisect.bisect_right([c / cdf[-1] for c in cdf], rng.random())


def price(code: str, currency: str, billing_period: int, usd_rate: Decimal) -> Decimal:
    """List price per unit per billing period in ``currency``, rounded to a natural step."""
    usd = _PRICES[code].usd_per_unit_month * billing_period
    step = PRICE_STEP[currency]
    return Decimal(int(round(usd / float(usd_rate) / step) * step))


@dataclass
class _Term:
    """The contract currently running while the months are simulated."""

    start_day: int
    seats: int
    plan_code: str
    addons: list[str]
    uplift: float  # cumulative price increase since the first term


class AccountSimulator:
    """Runs the hidden process for each account in turn, filling the plan's ground-truth arrays.

    With ``plan.activity`` below 1 the process is the same (touches still move health), but only
    that share of tickets is raised and of touches is logged: fewer rows for a large demo. At 1.0
    no extra random number is drawn, so the default demo is unchanged.
    """

    def __init__(self, *, plan: DemoPlan, rng: Generator, names: NameMaker) -> None:
        self.plan = plan
        self.cal: Calendar = plan.calendar
        self.rng = rng
        self.names = names
        self.today = self.cal.days
        self._now = self.cal.at(self.today, 0, 0)

    def _pick(self, size: int) -> int:
        return int(self.rng.integers(size))

    # --- contacts ------------------------------------------------------------------------------

    def _contacts(self, acc: AccountPlan) -> tuple[list[ContactPlan], ContactPlan, int]:
        """The account's people with the days they would leave; returns them, a would-be
        replacement champion, and the delay before that replacement arrives (or -1)."""
        rng = self.rng
        self._emails: set[str] = set()
        low, high = {"enterprise": (6, 9), "mid_market": (4, 8), "smb": (3, 5)}[acc.tier]
        count = int(rng.integers(low, high + 1))
        if acc.tier == "smb":
            roles = [("champion",), ("admin", "end_user"), ("decision_maker", "billing")]
        else:
            roles = [("champion", "end_user"), ("admin",), ("decision_maker",), ("executive_sponsor",), ("billing",)]
        roles += [("end_user",)] * (count - len(roles))
        people = [self._person(acc, slot, r, acc.start_day) for slot, r in enumerate(roles[:count])]
        for person in people:
            # Departures are only counted from the start of the history (nobody has left before).
            months = rng.exponential(1.0 / DEPARTURE_HAZARD)
            person.left_day = max(acc.start_day, 0) + int(months * 30.44)
        replacement = self._person(acc, len(people), ("champion", "end_user"), 0)
        delay = int(rng.integers(45, 151)) if rng.random() < REPLACEMENT_CHANCE else -1
        return people, replacement, delay

    def _person(self, acc: AccountPlan, slot: int, roles: tuple[str, ...], day: int) -> ContactPlan:
        first, last, local, phone = self.names.person(acc.market, self._pick)
        titles = texts.TITLES[roles[0]]
        email, n = f"{local}@{acc.domain}", 2
        while email in self._emails:  # two Maria Garcias at one company get distinct addresses
            email, n = f"{local}{n}@{acc.domain}", n + 1
        self._emails.add(email)
        return ContactPlan(
            slot=slot,
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
            title=titles[int(self.rng.integers(len(titles)))],
            roles=roles,
            joined_day=day,
        )

    # --- terms ---------------------------------------------------------------------------------

    def _term_plan(self, acc: AccountPlan, term: _Term, end_day: int | None) -> TermPlan:
        rate = self.plan.rate_on(acc.market.currency, term.start_day)
        bp = acc.billing_period
        currency = acc.market.currency

        def unit(code: str) -> Decimal:
            base = price(code, currency, bp, rate)
            step = Decimal(PRICE_STEP[currency])
            return (base * Decimal(str(1 + term.uplift)) / step).quantize(Decimal("1")) * step

        items = [ItemPlan(term.plan_code, term.seats, unit(term.plan_code))]
        for code in term.addons:
            qty = term.seats if _PRICES[code].per_seat else 1
            items.append(ItemPlan(code, qty, unit(code)))
        return TermPlan(
            start_day=term.start_day,
            end_day=end_day,
            billing_period=bp,
            seats=term.seats,
            plan_code=term.plan_code,
            items=items,
            auto_renew=acc.term_months == 0 or self.rng.random() < 0.6,
        )

    def _renew(self, term: _Term, outcome: str, next_start: int) -> _Term:
        rng = self.rng
        seats, plan_code, addons = term.seats, term.plan_code, list(term.addons)
        uplift = term.uplift
        if outcome == "expansion":
            seats = max(seats + 1, round(seats * rng.uniform(1.1, 1.5)))
            missing = [p.code for p in PRODUCTS if p.kind == "addon" and p.code not in addons]
            if missing and rng.random() < 0.3:
                addons.append(missing[int(rng.integers(len(missing)))])
            if rng.random() < 0.15 and plan_code != "enterprise":
                plan_code = "growth" if plan_code == "starter" else "enterprise"
            uplift += rng.uniform(0.02, 0.06)
        elif outcome == "flat":
            uplift += rng.uniform(0.0, 0.05)
        else:  # contraction
            seats = max(1, min(seats - 1, round(seats * rng.uniform(0.6, 0.9))))
            if addons and rng.random() < 0.3:
                addons.pop()
        return _Term(next_start, seats, plan_code, addons, uplift)

    def _decide(self, acc: AccountPlan, h: float, monthly: bool) -> tuple[str, float]:
        rng = self.rng
        intercept = MONTHLY_CHURN_INTERCEPT if monthly else CHURN_INTERCEPT
        p_churn = sigmoid(intercept + TIER_CHURN[acc.tier] + CHURN_SLOPE * h)
        if rng.random() < p_churn:
            return "churn", p_churn
        if monthly:
            return "flat", p_churn
        weights = (1.0, math.exp(EXPANSION[0] + EXPANSION[1] * h), math.exp(CONTRACTION[0] + CONTRACTION[1] * h))
        pick = _choice(rng, weights)
        return ("flat", "expansion", "contraction")[pick], p_churn

    # --- the monthly process -------------------------------------------------------------------

    def simulate(self, acc: AccountPlan) -> None:
        plan, cal, rng, today = self.plan, self.cal, self.rng, self.today
        a = acc.index
        contacts, replacement, replacement_delay = self._contacts(acc)
        has_sponsor = any("executive_sponsor" in c.roles for c in contacts)
        term = _Term(acc.start_day, acc.seats, acc.plan_code, list(acc.addons), 0.0)
        start_date = cal.date(acc.start_day)
        term_index = 0
        terms: list[TermPlan] = []

        def term_end_day(index: int) -> int:
            return cal.day(add_months(start_date, (index + 1) * acc.term_months))

        # Renewals before the history began were flat (the company's older book of business).
        if acc.term_months:
            while term_end_day(term_index) <= 0:
                next_start = term_end_day(term_index)
                terms.append(self._term_plan(acc, term, next_start - 1))
                term = self._renew(term, "flat", next_start)
                term_index += 1

        first_day = max(acc.start_day, 0)
        h: float | None = None
        prev_touches = acc.touch_rate
        decision: tuple[int, str, float, float] | None = None  # day, outcome, health, p_churn
        risk_noted = False
        replacement_day: int | None = None
        for m in range(cal.month_of(first_day), cal.months):
            ms, me = int(cal.month_starts[m]), int(cal.month_starts[m + 1])
            lo, hi = max(ms, first_day), min(me, today)
            if acc.churn_day is not None:
                hi = min(hi, acc.churn_day)
            if hi <= lo:
                break
            frac = (hi - lo) / (me - ms)

            shock = 0.0
            for person in contacts:
                if person.left_day is None or not lo <= person.left_day < hi:
                    continue
                if "champion" in person.roles:
                    shock += CHAMPION_SHOCK
                    self._note_departure(acc, person, texts.NOTE_CHAMPION_LEFT, hi)
                    if replacement_delay >= 0 and replacement_day is None:
                        replacement_day = person.left_day + replacement_delay
                if "executive_sponsor" in person.roles:
                    shock += SPONSOR_SHOCK
                    self._note_departure(acc, person, texts.NOTE_SPONSOR_LEFT, hi)
            if replacement_day is not None and replacement_day < hi and replacement not in contacts:
                replacement.joined_day = replacement_day
                contacts.append(replacement)
            champion_here = any("champion" in c.roles and c.present(hi - 1) for c in contacts)
            sponsor_here = any("executive_sponsor" in c.roles and c.present(hi - 1) for c in contacts)

            winding = decision is not None and decision[1] == "churn"
            mu = (
                TIER_HEALTH[acc.tier]
                + ONBOARDING_WEIGHT * acc.onboarding_quality
                + TOUCH_WEIGHT * math.log(acc.touch_rate / TOUCH_NORM[acc.tier])
                + TOUCH_MONTH_WEIGHT * (prev_touches - acc.touch_rate) / math.sqrt(acc.touch_rate)
                - (0.0 if champion_here else CHAMPION_PENALTY)
                - (SPONSOR_PENALTY if has_sponsor and not sponsor_here else 0.0)
            )
            # The first month starts near the target; later months close KAPPA of the gap.
            h = mu + rng.normal(0.0, 0.45) if h is None else h + KAPPA * (mu - h) + SIGMA * rng.normal()
            h -= shock + (WIND_DOWN_DRIFT if winding else 0.0)

            touches = int(rng.poisson(acc.touch_rate * frac))
            plan.health[a, m] = h
            plan.seats[a, m] = term.seats
            plan.touches[a, m] = touches
            plan.champion_present[a, m] = champion_here
            plan.sponsor_present[a, m] = sponsor_here
            plan.winding_down[a, m] = winding
            prev_touches = touches / max(frac, 0.1)

            self._tickets(acc, contacts, h, lo, hi, frac)
            self._touches(acc, contacts, h, lo, hi, touches)
            self._scheduled(acc, contacts, h, lo, hi)
            if h < -0.9 and not risk_noted and rng.random() < 0.35:
                risk_noted = True
                self._note(acc, texts.NOTE_RISK, int(rng.integers(lo, hi)), contacts)

            # Renewal decisions, made with the health of the month they fall in.
            if acc.term_months and decision is None:
                renewal_day = term_end_day(term_index)
                if renewal_day - DECISION_LEAD_DAYS < hi:
                    day = max(renewal_day - DECISION_LEAD_DAYS, lo)
                    outcome, p = self._decide(acc, h, monthly=False)
                    decision = (day, outcome, h, p)
            elif not acc.term_months and decision is None and lo - acc.start_day > 90:
                outcome, p = self._decide(acc, h, monthly=True)
                if outcome == "churn":
                    day = int(rng.integers(lo, hi))
                    decision = (day, outcome, h, p)
                    k = 1
                    while cal.day(add_months(start_date, k)) < day + 30:
                        k += 1
                    acc.churn_day = cal.day(add_months(start_date, k))
                    acc.decision_day = day
                    self._record(acc, acc.churn_day, decision, term.seats, 0)

            # A renewal date inside this month ends the term (if the customer renews, a new one).
            if acc.term_months and decision is not None:
                renewal_day = term_end_day(term_index)
                if renewal_day < me and renewal_day <= today:
                    outcome = decision[1]
                    terms.append(self._term_plan(acc, term, renewal_day - 1))
                    if outcome == "churn":
                        acc.churn_day = renewal_day
                        acc.decision_day = decision[0]
                        self._record(acc, renewal_day, decision, term.seats, 0)
                        self._renewal_note(acc, contacts, renewal_day, outcome, term.seats, 0)
                    else:
                        new = self._renew(term, outcome, renewal_day)
                        self._record(acc, renewal_day, decision, term.seats, new.seats)
                        self._renewal_note(acc, contacts, renewal_day, outcome, term.seats, new.seats)
                        term = new
                        term_index += 1
                    decision = None

        # Decided but not yet due: the ground truth knows, the database does not (yet).
        if decision is not None and acc.churn_day is None:
            renewal_day = term_end_day(term_index)
            seats_after = 0 if decision[1] == "churn" else self._renew(term, decision[1], 0).seats
            self._record(acc, renewal_day, decision, term.seats, seats_after, realized=False)
            if decision[1] == "churn":
                acc.decision_day = decision[0]
        if not acc.term_months:
            terms.append(self._term_plan(acc, term, None))  # the one evergreen term
        elif acc.churn_day is None:
            terms.append(self._term_plan(acc, term, term_end_day(term_index) - 1))
        self._finish(acc, contacts, terms)

    def _finish(self, acc: AccountPlan, contacts: list[ContactPlan], terms: list[TermPlan]) -> None:
        today = self.today
        end = acc.end_day(today)
        for person in contacts:
            if person.left_day is not None and person.left_day >= end:
                person.left_day = None  # would have left later: still there as far as we know
        churned = acc.churn_day is not None and acc.churn_day <= today
        if not acc.term_months and acc.churn_day is not None and churned:
            terms[-1].end_day = acc.churn_day - 1
        for term in terms:
            term.status = "ended"
        if churned:
            terms[-1].status = "canceled"
            terms[-1].auto_renew = False
        else:
            terms[-1].status = "active"
        present = [c for c in contacts if c.left_day is None]
        primary = next((c for c in present if "champion" in c.roles), None)
        primary = primary or next((c for c in present if "admin" in c.roles), None)
        (primary or contacts[0]).is_primary = True
        acc.contacts, acc.terms = contacts, terms
        age = today - acc.start_day
        acc.lifecycle = "churned" if churned else "onboarding" if age <= 60 else "adoption" if age <= 365 else "mature"

    def _record(
        self,
        acc: AccountPlan,
        renewal_day: int,
        decision: tuple[int, str, float, float],
        seats_before: int,
        seats_after: int,
        *,
        realized: bool = True,
    ) -> None:
        day, outcome, h, p = decision
        self.plan.renewals.append(
            RenewalTruth(
                acc.index,
                renewal_day,
                day,
                h,
                p,
                outcome,
                seats_before,
                seats_after,
                realized and renewal_day <= self.today,
            )
        )

    # --- observable consequences ---------------------------------------------------------------

    def _tickets(self, acc: AccountPlan, contacts: list[ContactPlan], h: float, lo: int, hi: int, frac: float) -> None:
        rng, cal = self.rng, self.cal
        ramp = 1.6 if lo - acc.start_day < 60 else 1.0  # "how do I" questions while onboarding
        rate = TICKET_BASE[acc.tier] * math.exp(TICKET_HEALTH * h) * ramp * frac * self.plan.activity
        now = self._now
        for _ in range(int(rng.poisson(rate))):
            day = int(rng.integers(lo, hi))
            opened = cal.at(day, rng.uniform(8, 18), acc.market.utc_offset)
            if rng.random() < sigmoid(-3.2 - 0.9 * h):
                priority, log_hours = "urgent", 1.5
            elif rng.random() < sigmoid(-1.7 - 0.6 * h):
                priority, log_hours = "high", 2.8
            elif rng.random() < 0.25:
                priority, log_hours = "low", 4.2
            else:
                priority, log_hours = "normal", 3.6
            hours = math.exp(rng.normal(log_hours - 0.2 * h, 0.9))
            closed = opened + dt.timedelta(hours=min(hours, 24 * 60))
            closed_at: dt.datetime | None = closed
            satisfaction = None
            if closed >= now:
                status = "new" if (now - opened).days < 1 else ("pending" if rng.random() < 0.3 else "open")
                closed_at = None
            else:
                status = "closed" if (now - closed).days > 4 else "solved"
                if rng.random() < 0.5:
                    severe = 0.4 if priority in ("urgent", "high") else 0.0
                    satisfaction = min(5, max(1, round(4.0 + 0.8 * h - severe + rng.normal(0, 0.9))))
            subjects = texts.TICKET_SUBJECTS[priority]
            present = [c.slot for c in contacts if c.present(day) and "executive_sponsor" not in c.roles]
            acc.tickets.append(
                TicketPlan(
                    opened_at=opened,
                    closed_at=closed_at,
                    priority=priority,
                    status=status,
                    subject=subjects[int(rng.integers(len(subjects)))],
                    satisfaction=satisfaction,
                    contact_slot=present[int(rng.integers(len(present)))] if present else None,
                )
            )

    def _touches(self, acc: AccountPlan, contacts: list[ContactPlan], h: float, lo: int, hi: int, count: int) -> None:
        rng = self.rng
        pool = texts.TOUCH_AT_RISK if h < -0.5 else texts.TOUCH_HEALTHY
        activity = self.plan.activity
        for _ in range(count):
            if activity < 1.0 and rng.random() >= activity:
                continue  # touched, but not logged (a lighter demo)
            u = rng.random()
            kind = "call" if u < 0.35 else "email" if u < 0.8 else "meeting"
            subject, summary = pool[kind][int(rng.integers(len(pool[kind])))]
            day = int(rng.integers(lo, hi))
            duration = None if kind == "email" else _DURATIONS[int(rng.integers(len(_DURATIONS)))]
            self._add(acc, contacts, kind, day, subject, summary, duration, (acc.csm,))

    def _scheduled(self, acc: AccountPlan, contacts: list[ContactPlan], h: float, lo: int, hi: int) -> None:
        """Onboarding sessions in the first two months, then QBRs for bigger accounts."""
        if acc.start_day >= 0:
            for n, offset in enumerate(ONBOARDING_OFFSETS[: ONBOARDING_SESSIONS[acc.tier]]):
                day = acc.start_day + offset
                if lo <= day < hi:
                    subject, summary = texts.ONBOARDING_SESSIONS[n]
                    self._add(acc, contacts, "onboarding", day, subject, summary, 60, (acc.csm,))
        every = QBR_EVERY_DAYS.get(acc.tier)
        if every:
            for day in range(acc.start_day + every, hi, every):
                if day >= lo:
                    subject, summary = texts.QBR
                    outlook = texts.QBR_OUTLOOK_GOOD if h > -0.3 else texts.QBR_OUTLOOK_BAD
                    self._add(
                        acc, contacts, "qbr", day, subject, summary.replace("{outlook}", outlook), 90, (acc.csm, acc.am)
                    )

    def _note_departure(self, acc: AccountPlan, person: ContactPlan, template: tuple[str, str], hi: int) -> None:
        # A few days after the news, but never after the account's observed life.
        assert person.left_day is not None  # called for contacts who left
        day = min(person.left_day + int(self.rng.integers(1, 15)), hi - 1)
        name = f"{person.first_name} {person.last_name}"
        subject, summary = template
        self._append(
            acc, "note", day, subject, summary.format(contact=name, company=acc.name), None, acc.csm, (acc.csm,), ()
        )

    def _note(self, acc: AccountPlan, template: tuple[str, str], day: int, contacts: list[ContactPlan]) -> None:
        self._add(acc, contacts, "note", day, template[0], template[1], None, (acc.csm,))

    def _renewal_note(
        self, acc: AccountPlan, contacts: list[ContactPlan], day: int, outcome: str, before: int, after: int
    ) -> None:
        if day >= self.today:
            return
        subject, summary = texts.RENEWAL_NOTES[outcome]
        reason = texts.CHURN_REASONS[int(self.rng.integers(len(texts.CHURN_REASONS)))]
        summary = summary.format(seats_before=before, seats_after=after, reason=reason)
        self._append(acc, "note", day, subject, summary, None, acc.am, (acc.am, acc.csm), ())

    def _add(
        self,
        acc: AccountPlan,
        contacts: list[ContactPlan],
        kind: str,
        day: int,
        subject: str,
        summary: str,
        duration: int | None,
        users: tuple[str, ...],
    ) -> None:
        rng = self.rng
        present = [c for c in contacts if c.present(day)]
        chosen: list[ContactPlan] = []
        champion = next((c for c in present if "champion" in c.roles), None)
        if champion is not None and rng.random() < 0.7:
            chosen.append(champion)
        if present and (not chosen or rng.random() < 0.4):
            other = present[int(rng.integers(len(present)))]
            if other not in chosen:
                chosen.append(other)
        name = chosen[0].first_name if chosen else "the team"
        feature = _FEATURE_NAMES[int(rng.integers(len(_FEATURE_NAMES)))]
        values = {"contact": name, "company": acc.name, "feature": feature}
        self._append(
            acc,
            kind,
            day,
            subject.format(**values),
            summary.format(**values),
            duration,
            users[0],
            users,
            tuple(c.slot for c in chosen),
        )

    def _append(
        self,
        acc: AccountPlan,
        kind: str,
        day: int,
        subject: str,
        summary: str,
        duration: int | None,
        author: str,
        users: tuple[str, ...],
        contact_slots: tuple[int, ...],
    ) -> None:
        when = self.cal.at(day, self.rng.uniform(9, 17), acc.market.utc_offset)
        acc.interactions.append(InteractionPlan(kind, when, subject, summary, duration, author, users, contact_slots))
