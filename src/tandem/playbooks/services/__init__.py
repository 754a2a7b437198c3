"""Writes of the playbooks app, by seam; every public name is re-exported here.

- ``rules``: save and preview a rule, ask a worker to evaluate;
- ``evaluation``: evaluate the rules and open CTAs in bulk (idempotent, one transaction per rule);
- ``steps``: turn a CTA's playbook steps into tasks, finish waits;
- ``ctas``: work a CTA (complete, send, close, snooze, reassign, hand an expansion over);
- ``emails``: email templates, queueing and sending customer email;
- ``library``: install the shipped library (metrics, scorecards, templates, playbooks, pool, rules);
- ``configuration``: the editors' writes (playbooks and their steps, work pools).
"""

from tandem.playbooks.rules import ARR_FLOOR, RISK_WEIGHT, priority_score
from tandem.playbooks.services.configuration import playbook_save, work_pool_save
from tandem.playbooks.services.ctas import (
    cta_bulk_record,
    cta_bulk_reschedule,
    cta_close,
    cta_create,
    cta_email_send,
    cta_expansion_opportunity_open,
    cta_reassign,
    cta_snooze,
    cta_task_complete,
)
from tandem.playbooks.services.emails import email_template_save, outbound_email_send
from tandem.playbooks.services.evaluation import (
    EvaluationReport,
    RuleOutcome,
    churn_risk_history_record,
    rules_evaluate,
)
from tandem.playbooks.services.library import LibraryReport, library_install
from tandem.playbooks.services.rules import RULE_FIELDS, RulePreview, rule_preview, rule_save, rules_evaluation_enqueue
from tandem.playbooks.services.steps import ACCOUNT_COLUMNS, CtaAdvanceResult, ctas_advance

__all__ = [
    "ACCOUNT_COLUMNS",
    "ARR_FLOOR",
    "RISK_WEIGHT",
    "RULE_FIELDS",
    "CtaAdvanceResult",
    "EvaluationReport",
    "LibraryReport",
    "RuleOutcome",
    "RulePreview",
    "churn_risk_history_record",
    "cta_bulk_record",
    "cta_bulk_reschedule",
    "cta_close",
    "cta_create",
    "cta_email_send",
    "cta_expansion_opportunity_open",
    "cta_reassign",
    "cta_snooze",
    "cta_task_complete",
    "ctas_advance",
    "email_template_save",
    "library_install",
    "outbound_email_send",
    "playbook_save",
    "priority_score",
    "rule_preview",
    "rule_save",
    "rules_evaluate",
    "rules_evaluation_enqueue",
    "work_pool_save",
]
