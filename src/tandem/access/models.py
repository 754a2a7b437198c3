"""Access rules an admin sets per role, and teams whose members share a book of business."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


class BookScope(models.TextChoices):
    """Which accounts a rule covers, by their CSM and account manager."""

    ALL = "all", _("All accounts")
    TEAM = "team", _("Their team's book")
    OWN = "own", _("Their own book")
    NONE = "none", _("None")


class AccessPolicy(TimeStampedModel):
    """What one role may see and change. Admins always may do everything; they are not configured here."""

    role = models.CharField(_("role"), max_length=20, unique=True)
    view_accounts = models.CharField(
        _("sees accounts"), max_length=10, choices=BookScope.choices, default=BookScope.ALL
    )
    change_accounts = models.CharField(
        _("changes accounts"), max_length=10, choices=BookScope.choices, default=BookScope.OWN
    )
    see_contract_values = models.BooleanField(
        _("sees contract values and prices"),
        default=False,
        help_text=_("ARR, MRR, prices and opportunity amounts; hidden values show as •••."),
    )
    change_commercial = models.BooleanField(
        _("changes commercial records"),
        default=False,
        help_text=_("Opportunities, renewals and contract terms of the accounts the role may change."),
    )
    manage_configuration = models.BooleanField(
        _("manages configuration"),
        default=False,
        help_text=_("Scorecards, metrics, rules, playbooks, templates, work pools, quotas and event sources."),
    )

    class Meta:
        verbose_name = _("access rule")
        verbose_name_plural = _("access rules")
        ordering = ["role"]

    def __str__(self) -> str:
        from tandem.users.roles import Role

        try:
            return Role(self.role).label
        except ValueError:
            return self.role


class Team(TimeStampedModel):
    """People who share a book: a rule set to "their team's book" covers accounts any member owns."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="teams", blank=True
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
