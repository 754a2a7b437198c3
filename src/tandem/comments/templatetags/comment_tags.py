"""``{% comments_section obj %}``: a record's comment thread, fetched by htmx once the page has loaded."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Model
from django.urls import reverse

from tandem.comments.targets import target_of

register = template.Library()


@register.inclusion_tag("comments/_section.html")
def comments_section(obj: Model) -> dict[str, Any]:
    kind = target_of(obj).name
    return {"url": reverse("comments:thread", args=[kind, obj.pk])}
