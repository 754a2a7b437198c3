"""The audit history: one row per change to a tracked object, kept after the object is deleted."""

from __future__ import annotations

from typing import Any

from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AuditVia(models.TextChoices):
    """Through which door a change came in."""

    UI = "ui", _("Web app")
    API = "api", _("API")
    ADMIN = "admin", _("Admin site")
    IMPORT = "import", _("Import")
    RULE = "rule", _("Rule")
    JOB = "job", _("Background job")
    CLI = "cli", _("Command line")
    SYSTEM = "system", _("System")
    FIXTURE = "fixture", _("Test fixture")
    UNKNOWN = "", _("Unknown")


def _unindexed(name: str) -> models.Field:
    """django-auditlog's field ``name`` without its single-column index (same type, label, choices)."""
    field = AbstractLogEntry._meta.get_field(name)
    _name, _path, args, kwargs = field.deconstruct()
    kwargs["db_index"] = False
    return type(field)(*args, **kwargs)


def _label(name: str) -> Any:
    return AbstractLogEntry._meta.get_field(name).verbose_name  # django-auditlog's, translated by it


class AuditEntry(AbstractLogEntry):
    """A change to one object: who, when, through which path, and each field's value before and after.

    django-auditlog writes the rows (it diffs every ``save()`` and ``delete()`` of a registered
    model); ``via`` and ``account_id`` are ours, so an account's history also lists the changes to
    its contacts, contracts and CTAs, deleted ones included.
    """

    # django-auditlog indexes six more columns on their own. The composite indexes below serve every
    # read (an object's, an account's and a person's history, newest first; the foreign keys are
    # their first columns), and each index costs every insert: rule evaluation writes tens of
    # thousands of entries at once (docs/performance.md, "Audit history overhead").
    object_pk = _unindexed("object_pk")
    object_id = _unindexed("object_id")
    action = _unindexed("action")
    cid = _unindexed("cid")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="+",
        verbose_name=_label("actor"),
        db_index=False,
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_label("content_type"),
        db_index=False,
    )

    via = models.CharField(_("via"), max_length=10, choices=AuditVia.choices, blank=True, default="")
    account_id = models.BigIntegerField(_("account"), null=True, blank=True)

    class Meta(AbstractLogEntry.Meta):
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["content_type", "object_id", "timestamp"], name="audit_object_idx"),
            models.Index(fields=["account_id", "timestamp"], name="audit_account_idx"),
            # Automated writes (rules, jobs, imports without a user) have no actor: not indexed.
            models.Index(fields=["actor", "timestamp"], name="audit_actor_idx", condition=Q(actor__isnull=False)),
        ]

    @property
    def kind_label(self) -> str:
        model = self.content_type.model_class()
        return str(model._meta.verbose_name) if model is not None else self.content_type.model
