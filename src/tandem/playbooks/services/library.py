"""Install the shipped library on a company: metrics, scorecards, email templates, playbooks, a pool and rules.

Idempotent by key: what exists (perhaps edited since) is kept as it is, only what is missing is
created, so installing twice, or after the demo, changes nothing. Texts are written in the
language asked for (the company's, ``TANDEM_LANGUAGE``, by default); every email template also
gets a version in each other offered language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from tandem.audit.context import write_service
from tandem.audit.services import audit_rows_written
from tandem.core.errors import DomainError, FieldError
from tandem.playbooks import catalog
from tandem.playbooks.models import (
    EmailTemplate,
    EmailTemplateVersion,
    Playbook,
    PlaybookStep,
    PoolStrategy,
    Rule,
    WorkPool,
)

if TYPE_CHECKING:
    from tandem.users.models import User


@dataclass
class LibraryReport:
    language: str
    created: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _in(language: str, text: str) -> str:
    with translation.override(language):
        return _(text) if text else ""


def _pool_members() -> list[User]:
    from tandem.users.models import User
    from tandem.users.roles import Role

    demo = list(User.objects.filter(username__in=catalog.POOL_MEMBERS, is_active=True))
    if demo:
        return demo
    return list(User.objects.filter(is_active=True, groups__name=Role.CSM.group_name).order_by("id"))


@write_service
def library_install(
    *, acting_user: User | None, language: str | None = None, with_metrics: bool = True
) -> LibraryReport:
    """Create what is missing of the shipped library, in ``language``; returns what was created."""
    language = language or settings.LANGUAGE_CODE
    offered = [code for code, _name in settings.LANGUAGES]
    if language not in offered:
        raise DomainError(
            _("Unknown language."),
            [FieldError("language", _("'%(code)s' is not offered.") % {"code": language})],
        )
    report = LibraryReport(language=language)
    if with_metrics:
        from tandem.health.services import scorecards_install_defaults
        from tandem.metrics.services import metrics_install_defaults

        report.created["metrics"] = metrics_install_defaults(acting_user=acting_user)[0]
        report.created["scorecards"] = len(scorecards_install_defaults(acting_user=acting_user))

    templates = {t.key: t for t in EmailTemplate.objects.filter(key__in=list(catalog.TEMPLATES))}
    made = versions = 0
    for key, (name, subject, body) in catalog.TEMPLATES.items():
        if key in templates:
            continue
        template = templates[key] = EmailTemplate.objects.create(
            key=key, name=_in(language, name), subject=_in(language, subject), body=_in(language, body)
        )
        made += 1
        for other in offered:
            if other != language:
                EmailTemplateVersion.objects.create(
                    template=template, language=other, subject=_in(other, subject), body=_in(other, body)
                )
                versions += 1
    report.created["email_templates"] = made
    report.created["email_template_versions"] = versions

    playbooks = {p.key: p for p in Playbook.objects.filter(key__in=list(catalog.PLAYBOOKS))}
    made = 0
    for key, (name, cta_type, description, steps) in catalog.PLAYBOOKS.items():
        if key in playbooks:
            continue
        playbook = playbooks[key] = Playbook.objects.create(
            key=key, name=_in(language, name), cta_type=cta_type, description=_in(language, description)
        )
        created_steps = PlaybookStep.objects.bulk_create(
            PlaybookStep(
                playbook=playbook,
                position=i,
                kind=kind,
                title=_in(language, title),
                role=role,
                due_offset_days=offset,
                email_template=templates.get(tpl) if tpl else None,
                auto_send=auto,
                condition=cond or {},
                skip_if_false=skip,
            )
            for i, (kind, title, role, offset, tpl, auto, cond, skip) in enumerate(steps)
        )
        audit_rows_written(model=PlaybookStep, created=created_steps)
        made += 1
    report.created["playbooks"] = made

    pool_name = _in(language, catalog.POOL)
    pool = WorkPool.objects.filter(name__in={catalog.POOL, pool_name}).first()
    report.created["work_pools"] = 0
    if pool is None:
        pool = WorkPool.objects.create(name=pool_name, strategy=PoolStrategy.LEAST_LOADED)
        pool.members.add(*_pool_members())
        report.created["work_pools"] = 1

    existing = set(Rule.objects.filter(key__in=[r[0] for r in catalog.RULES]).values_list("key", flat=True))
    made = 0
    for key, name, trigger, params, conds, pb, cta_type, priority, role, due, quiet, pooled in catalog.RULES:
        if key in existing:
            continue
        Rule.objects.create(
            key=key,
            name=_in(language, name),
            trigger=trigger,
            params=params,
            conditions=conds,
            playbook=playbooks[pb],
            cta_type=cta_type,
            priority=priority,
            owner_role=role,
            due_in_days=due,
            reopen_after_days=quiet,
            pool=pool if pooled else None,
            is_active=True,
        )
        made += 1
    report.created["rules"] = made
    return report
