"""What views and API endpoints call: fetch an object the person may reach, or answer 404/403."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404
from pydantic import BeforeValidator

from tandem.access.masking import api_value, mask_instance
from tandem.access.policies import rights_for
from tandem.access.scoping import AccessDenied, Action, ensure, restrict, scope_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User

M = TypeVar("M", bound=Model)

# An output money field the reader's access rule may hide: null then.
MaskedDecimal = Annotated[Decimal | None, BeforeValidator(api_value)]
HIDDEN_NOTE = "null when the caller's access rule hides contract values."


def _queryset(source: type[M] | QuerySet[M]) -> QuerySet[M]:
    return source._default_manager.all() if isinstance(source, type) else source


def get_visible_or_404(source: type[M] | QuerySet[M], *, user: User | AnonymousUser | None, **lookup: Any) -> M:
    """The object if this person may see it; 404 otherwise, so that out-of-scope rows do not reveal they exist."""
    obj = restrict(_queryset(source), user=user).filter(**lookup).first()
    if obj is None:
        raise Http404
    return mask_instance(obj, user=user)


def get_for_write(
    source: type[M] | QuerySet[M], *, user: User | AnonymousUser | None, action: Action = Action.CHANGE, **lookup: Any
) -> M:
    """The object for a change or delete: 404 if the person cannot see it, 403 if they may see but not change it."""
    obj = restrict(_queryset(source), user=user).filter(**lookup).first()
    if obj is None:
        raise Http404
    ensure(user, action, obj)
    return obj


def ensure_company_figures(user: User | AnonymousUser | None) -> None:
    """Company-wide revenue, forecasts and retention sum every contract: they need values and the whole book."""
    from django.utils.translation import gettext as _

    from tandem.access.models import BookScope
    from tandem.access.policies import rights_for

    rights = rights_for(user)
    if not rights.see_contract_values:
        raise AccessDenied(_("Your access rule hides contract values, so revenue and forecasts are not shown."))
    if rights.view_accounts != BookScope.ALL:
        raise AccessDenied(_("Company-wide revenue covers every account; your access rule shows you only some."))


def ensure_created_in_scope(user: User | AnonymousUser | None, obj: Model) -> None:
    """Refuse (inside the creating transaction, which then rolls back) an object the person could not change."""
    from django.utils.translation import gettext as _

    q = scope_q(type(obj), rights=rights_for(user), action=Action.CHANGE, include_assigned=False)
    if q is not None and not type(obj)._default_manager.filter(q, pk=obj.pk).exists():
        raise AccessDenied(
            _("You may not create this %(object)s: it would be outside the accounts your role may change.")
            % {"object": obj._meta.verbose_name}
        )
