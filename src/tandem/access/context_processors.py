"""``access`` in every template: what the signed-in person may do, to show only the forms they can submit."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tandem.access.models import BookScope
from tandem.access.policies import rights_for


@dataclass(frozen=True)
class TemplateRights:
    is_admin: bool
    can_write: bool
    sees_values: bool
    change_commercial: bool
    manage_configuration: bool
    company_figures: bool


def _rights(request: HttpRequest) -> TemplateRights:
    rights = rights_for(getattr(request, "user", None))
    return TemplateRights(
        is_admin=rights.is_admin,
        can_write=rights.can_write,
        sees_values=rights.see_contract_values,
        change_commercial=rights.change_commercial,
        manage_configuration=rights.manage_configuration,
        company_figures=rights.see_contract_values and rights.view_accounts == BookScope.ALL,
    )


def access(request: HttpRequest) -> dict[str, object]:
    # Lazy: a page that never asks costs no query.
    return {"access": SimpleLazyObject(lambda: _rights(request))}
