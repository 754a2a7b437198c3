"""Customer email templates: ``{{ placeholder }}`` fields filled from the account and its people."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)?)\s*\}\}")

PLACEHOLDERS: dict[str, Any] = {
    "account.name": gettext_lazy("the account's name"),
    "account.renewal_date": gettext_lazy("the renewal date"),
    "contact.first_name": gettext_lazy("the recipient's first name"),
    "contact.name": gettext_lazy("the recipient's full name"),
    "csm.name": gettext_lazy("the CSM's name"),
    "csm.email": gettext_lazy("the CSM's email"),
    "am.name": gettext_lazy("the account manager's name"),
    "sender.name": gettext_lazy("the sender's name"),
}


def unknown_placeholders(text: str) -> list[str]:
    return sorted({m.group(1) for m in PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS))


def render(text: str, values: dict[str, str]) -> str:
    """Fill every placeholder; an unknown one is an error rather than a silent blank."""
    unknown = unknown_placeholders(text)
    if unknown:
        raise ValueError(_("Unknown placeholders: %(names)s") % {"names": ", ".join(unknown)})
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)


def _person(user: Any) -> str:
    return (user.get_full_name() or user.username) if user else ""


def placeholder_values(*, account: Any, contact: Any, sender: Any) -> dict[str, str]:
    return {
        "account.name": account.name,
        "account.renewal_date": account.renewal_date.isoformat() if account.renewal_date else "",
        "contact.first_name": (contact.first_name or contact.full_name) if contact else "",
        "contact.name": contact.full_name if contact else "",
        "csm.name": _person(account.csm_owner),
        "csm.email": account.csm_owner.email if account.csm_owner else "",
        "am.name": _person(account.am_owner),
        "sender.name": _person(sender),
    }
