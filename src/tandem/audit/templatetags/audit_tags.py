"""``{% history_section obj %}``: the collapsible history block of an object's page."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("audit/_history_section.html")
def history_section(obj: Model) -> dict[str, Any]:
    content_type = ContentType.objects.get_for_model(obj)
    return {"url": reverse("audit:history", args=[content_type.pk, obj.pk])}
