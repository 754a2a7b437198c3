"""Builders for playbook tests (test set-up: their rows are recorded as via "fixture")."""

from __future__ import annotations

from typing import Any

from tandem.playbooks.models import CtaPriority, EmailTemplate, Playbook, PlaybookStep, Rule, StepKind, StepRole
from tests.factories import as_fixture


def playbook_with(key: str = "pb", steps: list[dict[str, Any]] | None = None) -> Playbook:
    with as_fixture():
        playbook = Playbook.objects.create(key=key, name=key.title())
        for i, step in enumerate(steps or [{"kind": StepKind.TASK, "title": "Call them"}]):
            PlaybookStep.objects.create(playbook=playbook, position=i, **{"role": StepRole.ACCOUNT_OWNER, **step})
    return playbook


def rule_for(trigger: str, params: dict | None = None, *, playbook: Playbook | None = None, **extra: Any) -> Rule:
    with as_fixture():
        return Rule.objects.create(
            name=extra.pop("name", trigger),
            trigger=trigger,
            params=params or {},
            playbook=playbook or playbook_with(f"pb-{trigger}-{Rule.objects.count()}"),
            priority=extra.pop("priority", CtaPriority.HIGH),
            **extra,
        )


def template(key: str = "hello") -> EmailTemplate:
    with as_fixture():
        return EmailTemplate.objects.create(
            key=key,
            name="Hello",
            subject="Hello {{ account.name }}",
            body="Hi {{ contact.first_name }}, {{ csm.name }}",
        )
