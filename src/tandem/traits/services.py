"""Writes for custom fields: defining them, and validating and merging the values other services store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.core.services import model_save, model_validate
from tandem.traits.models import TraitDefinition, TraitEntity, TraitKind
from tandem.traits.selectors import trait_definitions
from tandem.traits.values import MAX_CHOICES, trait_value
from tandem.users.models import User

if TYPE_CHECKING:
    from tandem.accounts.models import Account, Contact


def _model(entity: str) -> type[Account] | type[Contact]:
    from tandem.accounts.models import Account, Contact

    return Account if entity == TraitEntity.ACCOUNT else Contact


def reserved_keys(entity: str) -> set[str]:
    """A custom field may not take the name of a built-in one (nor of an import column)."""
    from tandem.imports.entities import ENTITIES

    model = _model(entity)
    names = {f.name for f in model._meta.get_fields()} | {getattr(f, "attname", f.name) for f in model._meta.fields}
    spec = ENTITIES.get("accounts" if entity == TraitEntity.ACCOUNT else "contacts")
    return names | set(spec.fields if spec else ()) | {"id", "pk", "traits"}


def _clean_choices(kind: str, choices: Any) -> list[str]:
    if kind != TraitKind.CHOICE:
        return []
    if not isinstance(choices, list | tuple):
        raise DomainError(_("Invalid custom field."), [FieldError("choices", _("Give the choices as a list."))])
    cleaned: list[str] = []
    for choice in choices:
        text = str(choice).strip()
        if text and text.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(text[:100])
    if not cleaned:
        raise DomainError(_("Invalid custom field."), [FieldError("choices", _("A choice needs at least one option."))])
    if len(cleaned) > MAX_CHOICES:
        raise DomainError(
            _("Invalid custom field."), [FieldError("choices", _("At most %(max)s options.") % {"max": MAX_CHOICES})]
        )
    return cleaned


@write_service
def trait_define(
    *,
    acting_user: User | None,
    entity: str,
    key: str,
    label: str = "",
    kind: str = TraitKind.TEXT,
    choices: list[str] | None = None,
    description: str = "",
) -> TraitDefinition:
    """Add a custom field to accounts or contacts; its key and type are fixed once it exists."""
    key = key.strip().lower()
    errors = []
    if entity not in TraitEntity.values:
        errors.append(FieldError("entity", _("Choose one of: %(v)s.") % {"v": ", ".join(TraitEntity.values)}))
    elif key in reserved_keys(entity):
        errors.append(FieldError("key", _("“%(key)s” is a built-in field; choose another key.") % {"key": key}))
    if kind not in TraitKind.values:
        errors.append(FieldError("kind", _("Choose one of: %(v)s.") % {"v": ", ".join(TraitKind.values)}))
    if errors:
        raise DomainError(_("Invalid custom field."), errors)
    trait = TraitDefinition(
        entity=entity,
        key=key,
        label=(label or key.replace("_", " ").capitalize()).strip(),
        kind=kind,
        choices=_clean_choices(kind, choices or []),
        description=description.strip(),
        created_by=acting_user,
    )
    message = _("Invalid custom field.")
    model_validate(trait, message=message)
    model_save(trait, message=message)
    return trait


@write_service
def trait_update(
    *,
    acting_user: User | None,
    trait: TraitDefinition,
    label: str,
    choices: list[str] | None = None,
    description: str = "",
) -> TraitDefinition:
    """Rename a custom field, change its description or its list of choices (stored values stay)."""
    trait.label = label.strip() or trait.key
    trait.description = description.strip()
    if trait.kind == TraitKind.CHOICE:
        trait.choices = _clean_choices(trait.kind, choices or [])
    message = _("Invalid custom field.")
    model_validate(trait, message=message)
    model_save(trait, message=message)
    return trait


def _conditions_using(entity: str, key: str) -> list[str]:
    """Names of the rules and segments whose conditions read this field."""
    if entity != TraitEntity.ACCOUNT:
        return []
    from tandem.playbooks.models import Rule
    from tandem.segments.models import Segment

    names = [r.name for r in Rule.objects.only("name", "conditions") if _uses(r.conditions, key)]
    names += [s.name for s in Segment.objects.only("name", "conditions") if _uses(s.conditions, key)]
    return names


def _uses(conditions: Any, key: str) -> bool:
    return isinstance(conditions, list) and any(isinstance(c, dict) and c.get("trait") == key for c in conditions)


@write_service
def trait_delete(*, acting_user: User | None, trait: TraitDefinition) -> int:
    """Remove a custom field and its values (refused while a rule or segment reads it); returns how
    many accounts or contacts had a value."""
    users = _conditions_using(trait.entity, trait.key)
    if users:
        raise DomainError(
            _("The custom field is in use."),
            [FieldError("key", _("Used by: %(names)s. Change their conditions first.") % {"names": ", ".join(users)})],
            status=409,
        )
    model = _model(trait.entity)
    rows = list(model.objects.filter(traits__has_key=trait.key).only("pk", "traits"))
    for row in rows:
        values = dict(row.traits)
        values.pop(trait.key, None)
        row.traits = values
    if rows:
        from django.utils import timezone

        bulk_save(model, creates=[], updates=rows, fields=["traits"], now=timezone.now())
    trait.delete()
    return len(rows)


def traits_apply(
    *, entity: str, current: Mapping[str, Any] | None, changes: Mapping[str, Any] | None, field: str = "traits"
) -> dict[str, Any]:
    """``current`` with ``changes`` applied ({key: raw value}; None or "" clears one), each value
    checked against its definition. Unknown keys and bad values raise one DomainError naming each."""
    result = dict(current or {})
    if not changes:
        return result
    if not isinstance(changes, Mapping):
        raise DomainError(_("Invalid custom fields."), [FieldError(field, _("Give the custom fields as an object."))])
    definitions = trait_definitions(entity=entity)
    errors = []
    for key, raw in changes.items():
        defn = definitions.get(str(key))
        if defn is None:
            known = ", ".join(sorted(definitions)) or _("none yet")
            errors.append(
                FieldError(
                    f"{field}.{key}",
                    _("No custom field “%(key)s” (defined: %(known)s).") % {"key": key, "known": known},
                )
            )
            continue
        try:
            value = trait_value(defn, raw)
        except ValueError as exc:
            errors.append(FieldError(f"{field}.{key}", str(exc)))
            continue
        if value is None:
            result.pop(defn.key, None)
        else:
            result[defn.key] = value
    if errors:
        raise DomainError(_("Invalid custom fields."), errors)
    return result
