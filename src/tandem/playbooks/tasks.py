"""Background entry points for playbooks: take ids and dates, call one service. All idempotent."""

from __future__ import annotations

import datetime as dt

from tandem.playbooks.services import ctas_advance, outbound_email_send, rules_evaluate


def evaluate_rules(*, day: str, rule_ids: list[int] | None = None) -> None:
    rules_evaluate(acting_user=None, today=dt.date.fromisoformat(day), rule_ids=rule_ids)


def advance_ctas(*, day: str) -> None:
    ctas_advance(acting_user=None, today=dt.date.fromisoformat(day))


def send_customer_email(*, email_id: int) -> None:
    outbound_email_send(acting_user=None, email_id=email_id)
