"""The editors' writes: playbooks with their ordered steps, and work pools.

Steps are saved with their playbook in one transaction: kept steps (matched by id) are updated in
place, so CTAs already running them keep their link; new ones are created, missing ones deleted,
and positions renumbered 0..n-1 in the order given. Open CTAs continue from the positions their
tasks were created at; changes apply fully to CTAs opened afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.core.services import model_assign, model_save, model_validate, validation_problems
from tandem.playbooks.models import Playbook, PlaybookStep, PoolStrategy, StepKind, WorkPool
from tandem.playbooks.rules import validate_conditions

if TYPE_CHECKING:
    from tandem.users.models import User

PLAYBOOK_FIELDS = ("name", "description", "cta_type", "is_active", "key")
STEP_FIELDS = (
    "kind",
    "title",
    "role",
    "due_offset_days",
    "email_template",
    "auto_send",
    "body",
    "condition",
    "skip_if_false",
)
MAX_STEPS = 50


def unique_key(model: Any, text: str, *, current: int | None = None) -> str:
    """A slug of ``text`` not used by another row of ``model`` (``-2``, ``-3``... appended)."""
    base = slugify(text)[:70] or "item"
    key, n = base, 1
    while model.objects.filter(key=key).exclude(pk=current).exists():
        n += 1
        key = f"{base}-{n}"
    return key


def _step_errors(i: int, step: PlaybookStep, count: int) -> list[FieldError]:
    prefix = f"steps.{i}."
    errors, _unique = validation_problems(step, exclude=["playbook", "position"], prefix=prefix)
    if step.kind == StepKind.EMAIL and step.email_template_id is None:
        errors.append(FieldError(f"{prefix}email_template", _("An email step needs an email template.")))
    if step.kind == StepKind.BRANCH:
        cond = step.condition or {}
        problems = validate_conditions([cond]) if cond else [_("A branch step needs a condition.")]
        if cond and "field" not in cond:
            problems.append(_("A branch condition tests a field of the account."))
        errors += [FieldError(f"{prefix}condition", m) for m in problems]
        if step.skip_if_false < 1 or i + step.skip_if_false >= count:
            errors.append(
                FieldError(
                    f"{prefix}skip_if_false",
                    _("Skip between 1 and the number of steps after this one (%(n)s).") % {"n": count - i - 1},
                )
            )
    if step.kind == StepKind.WAIT and step.due_offset_days < 1:
        errors.append(FieldError(f"{prefix}due_offset_days", _("A wait lasts at least one day.")))
    return errors


@write_service
def playbook_save(
    *,
    acting_user: User | None,
    playbook: Playbook | None = None,
    steps: Iterable[Mapping[str, Any]] | None = None,
    **data: Any,
) -> Playbook:
    """Create or update a playbook and (when ``steps`` is given) replace its ordered steps.

    Each step is a mapping of ``STEP_FIELDS`` and optionally ``id`` (a step of this playbook to
    keep). Errors name the field, steps as ``steps.<index>.<field>``; nothing is saved on error.
    """
    playbook = playbook or Playbook()
    message = _("Invalid playbook.")
    data = dict(data)
    if not data.get("key") and playbook._state.adding:
        data["key"] = unique_key(Playbook, str(data.get("name") or ""))
    errors: list[FieldError] = []
    try:
        model_assign(playbook, data=data, fields=PLAYBOOK_FIELDS)
    except DomainError as exc:
        errors += exc.errors
    playbook_errors, _unique = validation_problems(playbook)
    errors += playbook_errors
    existing = {s.pk: s for s in playbook.steps.all()} if playbook.pk else {}
    planned: list[PlaybookStep] = []
    if steps is not None:
        items = list(steps)
        if len(items) > MAX_STEPS:
            errors.append(FieldError("steps", _("At most %(n)s steps.") % {"n": MAX_STEPS}))
        for i, item in enumerate(items):
            values = dict(item)
            step_id = values.pop("id", None)
            step = existing.get(step_id) if step_id else None
            step = step or PlaybookStep(playbook=playbook if playbook.pk else None)
            values.setdefault("condition", {})
            for name in ("body",):
                if values.get(name) is None:
                    values[name] = ""
            try:
                model_assign(step, data={k: v for k, v in values.items() if k in STEP_FIELDS}, fields=STEP_FIELDS)
            except DomainError as exc:
                errors += [FieldError(f"steps.{i}.{e.field}", e.message) for e in exc.errors]
                continue
            if step.kind != StepKind.BRANCH:
                step.condition, step.skip_if_false = {}, 0
            if step.kind != StepKind.EMAIL:
                step.email_template, step.auto_send = None, False
            errors += _step_errors(i, step, len(items))
            planned.append(step)
    if errors:
        raise DomainError(message, errors)
    model_save(playbook, message=message)
    if steps is None:
        return playbook
    keep = {s.pk for s in planned if s.pk}
    for pk, step in existing.items():
        if pk not in keep:
            step.delete()
    # Move kept steps out of the way first: (playbook, position) is unique.
    offset = 1000
    for step in planned:
        if step.pk:
            PlaybookStep.objects.filter(pk=step.pk).update(position=step.position + offset)
    for position, step in enumerate(planned):
        step.playbook = playbook
        step.position = position
        step.save()
    return playbook


@write_service
def work_pool_save(
    *,
    acting_user: User | None,
    pool: WorkPool | None = None,
    name: str,
    strategy: str = PoolStrategy.LEAST_LOADED,
    members: Iterable[User] = (),
) -> WorkPool:
    """Create or update a work pool and set its members (active users only)."""
    pool = pool or WorkPool()
    message = _("Invalid work pool.")
    model_assign(pool, data={"name": name, "strategy": strategy}, fields=("name", "strategy"))
    people = list(members)
    extra = [FieldError("members", _("%(user)s is deactivated.") % {"user": u}) for u in people if not u.is_active]
    model_validate(pool, message=message, extra_errors=extra)
    model_save(pool, message=message)
    pool.members.set(people)
    return pool
