"""What the event store keeps beside its Delta table, in the relational database.

The events themselves are Parquet files of a Delta Lake table (``tandem.usage.eventstore``); the
catalogue of event names and property keys and the ledger of imported files are small, change
with every append and must be shared by every process and host, so they live here.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventCatalogEntry(models.Model):
    """An event name (``property`` == '') or one of its property keys, with first/last event time seen."""

    event = models.CharField(_("event"), max_length=200)
    property = models.CharField(_("property"), max_length=200, blank=True, default="")
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    volume = models.BigIntegerField(_("volume"), default=0)

    class Meta:
        verbose_name = _("event catalogue entry")
        verbose_name_plural = _("event catalogue")
        constraints = [models.UniqueConstraint(fields=["event", "property"], name="usage_catalog_event_property")]

    def __str__(self) -> str:
        return f"{self.event}.{self.property}" if self.property else self.event


class EventImport(models.Model):
    """One imported events file, by content hash: importing the same bytes again adds nothing."""

    sha256 = models.CharField(max_length=64, unique=True)
    path = models.TextField(_("file"))
    imported_at = models.DateTimeField(_("imported"))
    rows = models.BigIntegerField(_("rows"))
    added = models.BigIntegerField(_("events added"))

    class Meta:
        verbose_name = _("event import")
        verbose_name_plural = _("event imports")

    def __str__(self) -> str:
        return self.path
