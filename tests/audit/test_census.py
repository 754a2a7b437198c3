"""Every public function of a ``tandem.<app>.services`` module that writes is a write service.

A write service takes ``acting_user`` and records its changes as that user's (see
``tandem.audit.context.write_service``). A new function in a services module fails here until it
is decorated, or listed below with the reason it is not one.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import tandem

# Functions that read or compute, or that write only what is not audited (computed tables,
# the job queue, notifications, files), by module and name, with the reason.
NOT_WRITE_SERVICES: dict[str, str] = {
    # The audit history's own helpers: called inside write services, in their transaction.
    "audit.services.audit_bulk": "writes audit entries themselves",
    "audit.services.audit_bulk_created": "writes audit entries themselves",
    "audit.services.audit_bulk_update": "helper of write services, in their transaction",
    "audit.services.audit_rows_written": "writes audit entries themselves",
    "audit.services.changes_json": "pure",
    "audit.services.json_value": "pure",
    # The helpers every service assigns, validates and saves with, inside its transaction.
    "core.services.blank_to_none": "pure",
    "core.services.model_assign": "sets attributes, saves nothing",
    "core.services.model_save": "helper of write services, in their transaction",
    "core.services.model_validate": "validation",
    "core.services.raise_if_errors": "validation",
    "core.services.validation_problems": "validation",
    "daily.services.daily_run_key": "pure",
    # Timeline events (not audited) for rows written earlier in bulk, in the caller's transaction.
    "accounts.services.account_stage_history_record": "timeline events of past stages, not audited",
    "health.services.health_band_history_record": "timeline events of scored history, not audited",
    "opportunities.services.opportunity_history_record": "timeline events of bulk-written deals, not audited",
    # Health scores, current scores and backtests: computed from audited inputs, rebuilt daily.
    "health.services.account_segments": "read",
    "health.services.health_backtest": "read and compute",
    "health.services.health_preview": "read and compute",
    "health.services.health_refresh": "computed tables (scores), not audited",
    "health.services.health_score_dates": "computed snapshot files",
    "health.services.health_update_current": "computed tables (current scores), not audited",
    "health.services.scorecard_spec": "read",
    "imports.services.parse_rows": "pure: text cells to values",
    "ingest.services.source_authenticate": "read",
    "ingest.services.source_record_stats": "traffic counters and rejections, not audited",
    # The job queue: rows of the system's own bookkeeping, not customer data.
    "jobs.services.job_claim": "job queue",
    "jobs.services.job_defer": "job queue",
    "jobs.services.job_enqueue": "job queue",
    "jobs.services.job_enqueue_many": "job queue",
    "jobs.services.job_fail": "job queue",
    "jobs.services.job_finish": "job queue",
    "jobs.services.job_renew_lease": "job queue",
    "jobs.services.job_retry": "job queue",
    "jobs.services.lease_seconds": "setting",
    "jobs.services.worker_id": "pure",
    "comments.services.ensure_may_delete": "a check",
    "comments.services.may_comment": "a check",
    "webhooks.services.delivery_attempt": "the delivery log of outbound webhooks, not audited",
    "webhooks.services.new_secret": "pure",
    "webhooks.services.signed_headers": "pure",
    "webhooks.services.slack_text": "pure",
    "metrics.services.active_specs": "read",
    "metrics.services.metric_spec": "pure",
    "metrics.services.metrics_compute": "computed snapshots and current values, not audited",
    "metrics.services.metrics_refresh": "computed snapshots and current values, not audited",
    # Notifications are computed from audited changes (a CTA, an assignment) and delivered once.
    "notifications.services.digest_send": "delivery bookkeeping",
    "notifications.services.digests_enqueue": "job queue",
    "notifications.services.notification_deliver": "delivery bookkeeping",
    "notifications.services.notifications_mark_read": "notifications, not audited",
    "notifications.services.notifications_send": "notifications, not audited",
    "notifications.services.unread_count": "read",
    "opportunities.services.renewal_initial_forecast": "pure",
    "opportunities.services.renewal_lead_days": "read",
    "opportunities.services.renewal_lines_from_form": "parse a form",
    "playbooks.services.churn_risk_history_record": "computed samples of risk scores, not audited",
    "playbooks.services.rule_preview": "read and compute",
    "playbooks.services.rules_evaluation_enqueue": "job queue",
    "reports.services.account_report": "read",
    "reports.services.html_to_pdf": "pure",
    "reports.services.report_html": "read",
    "reports.services.report_render": "read",
    "reports.services.report_title": "read",
    "revenue.services.revenue_analytics_refresh": "computed tables (cohorts, sBG fits), not audited",
    # Churn risk: a model file and computed scores.
    "risk.services.arr_at_risk": "read",
    "risk.services.feature_frame": "read",
    "risk.services.model_dir": "setting",
    "risk.services.risk_evaluate": "compute",
    "risk.services.risk_load_model": "read a file",
    "risk.services.risk_model_save": "writes the model file",
    "risk.services.risk_refresh": "computed tables (risk scores), not audited",
    "risk.services.risk_report": "read a file",
    "risk.services.risk_score": "computed tables (risk scores), not audited",
    "risk.services.risk_train": "writes the model file",
    # Derived columns only (account revenue and renewal date, subscription totals): not audited.
    "subscriptions.services.account_refresh_revenue": "derived columns, excluded from the audit",
    "subscriptions.services.subscription_recompute_totals": "derived columns, excluded from the audit",
    "subscriptions.services.subscription_totals": "pure",
    "traits.services.reserved_keys": "read: the built-in field names a custom field may not take",
    "traits.services.traits_apply": "pure: checks and merges values the calling write service stores",
    "usage.services.catalog_record": "the event catalogue, computed from the event store",
    "usage.services.event_import_record": "the import ledger of the event store",
    "users.services.api_token_authenticate": "read; stamps last use, a field the audit leaves out",
}


def services_modules() -> list[ModuleType]:
    modules = []
    for info in sorted(pkgutil.iter_modules(tandem.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        try:
            modules.append(importlib.import_module(f"tandem.{info.name}.services"))
        except ModuleNotFoundError as exc:
            if exc.name != f"tandem.{info.name}.services":
                raise
    return modules


def public_functions() -> dict[str, object]:
    found = {}
    for module in services_modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            # A services package (playbooks) defines its functions in submodules and re-exports them.
            defined_here = fn.__module__ == module.__name__ or (
                hasattr(module, "__path__") and fn.__module__.startswith(f"{module.__name__}.")
            )
            if not name.startswith("_") and defined_here:
                found[f"{module.__name__.removeprefix('tandem.')}.{name}"] = fn
    return found


def test_every_public_function_of_the_services_modules_that_writes_is_a_write_service() -> None:
    functions = public_functions()
    assert len(functions) > 100  # the census sees the services modules at all

    missing = sorted(
        name
        for name, fn in functions.items()
        if name not in NOT_WRITE_SERVICES and not getattr(fn, "tandem_write_service", False)
    )
    assert missing == [], f"decorate with @write_service (or list them with a reason): {missing}"


def test_the_allow_list_names_only_functions_that_exist_and_are_not_write_services() -> None:
    functions = public_functions()

    assert sorted(set(NOT_WRITE_SERVICES) - set(functions)) == []
    assert sorted(n for n in NOT_WRITE_SERVICES if getattr(functions[n], "tandem_write_service", False)) == []


def test_write_services_take_acting_user_as_a_keyword() -> None:
    for name, fn in public_functions().items():
        if not getattr(fn, "tandem_write_service", False):
            continue
        parameter = inspect.signature(inspect.unwrap(fn)).parameters.get("acting_user")
        assert parameter is not None and parameter.kind is inspect.Parameter.KEYWORD_ONLY, name
        assert parameter.default is inspect.Parameter.empty, f"{name}: callers must say who acts"
