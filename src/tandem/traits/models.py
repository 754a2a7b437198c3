"""Custom fields ("traits") a company adds to its accounts and contacts: typed, defined by an admin.

The values live in the ``traits`` JSON column of ``Account`` and ``Contact`` ({key: value}), typed as
the definition says (a number as a JSON number, a date as an ISO string, a yes/no as a boolean), so
one query filters on them on SQLite and PostgreSQL alike and adding a field needs no migration.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class TraitEntity(models.TextChoices):
    ACCOUNT = "account", _("Accounts")
    CONTACT = "contact", _("Contacts")


class TraitKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice from a list")
    BOOLEAN = "boolean", _("Yes or no")


class TraitDefinition(models.Model):
    entity = models.CharField(_("on"), max_length=10, choices=TraitEntity.choices)
    key = models.CharField(
        _("key"),
        max_length=60,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$", _("Lower-case letters, digits and _, starting with a letter (e.g. channel).")
            )
        ],
        help_text=_("What imports, the API and the tracking API call it (a column named like it is read into it)."),
    )
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("type"), max_length=10, choices=TraitKind.choices, default=TraitKind.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["entity", "label", "id"]
        constraints = [models.UniqueConstraint(fields=["entity", "key"], name="trait_unique_key_per_entity")]

    def __str__(self) -> str:
        return self.label or self.key
