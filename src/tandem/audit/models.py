"""The audit history: one row per change to a tracked object, kept after the object is deleted."""

from __future__ import annotations

from auditlog.models import AbstractLogEntry
from django.db import models
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


class AuditEntry(AbstractLogEntry):
    """A change to one object: who, when, through which path, and each field's value before and after.

    django-auditlog writes the rows (it diffs every ``save()`` and ``delete()`` of a registered
    model); ``via`` and ``account_id`` are ours, so an account's history also lists the changes to
    its contacts, contracts and CTAs, deleted ones included.
    """

    via = models.CharField(_("via"), max_length=10, choices=AuditVia.choices, blank=True, default="")
    account_id = models.BigIntegerField(_("account"), null=True, blank=True)

    class Meta(AbstractLogEntry.Meta):
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["content_type", "object_id", "timestamp"], name="audit_object_idx"),
            models.Index(fields=["account_id", "timestamp"], name="audit_account_idx"),
            models.Index(fields=["actor", "timestamp"], name="audit_actor_idx"),
        ]

    @property
    def kind_label(self) -> str:
        model = self.content_type.model_class()
        return str(model._meta.verbose_name) if model is not None else self.content_type.model
