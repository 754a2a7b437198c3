"""Contract values (ARR, MRR, prices, amounts) hidden from people whose rule says so, the same everywhere.

Read paths call :func:`mask_rows` on what they show; a hidden value becomes :data:`HIDDEN`, which
the money filters render as "•••", the API and CSV exports as null/empty, and charts leave out.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

from django.db.models import Model

from tandem.access.policies import rights_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User

T = TypeVar("T")


class HiddenValue:
    """A value the reader may not see; never equal to a number.

    Truthy on purpose: templates that write ``{{ value|default:0 }}`` must show the mask, not 0.
    """

    _instance: HiddenValue | None = None

    def __new__(cls) -> HiddenValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __str__(self) -> str:
        return "•••"

    def __repr__(self) -> str:
        return "HIDDEN"


HIDDEN: Final = HiddenValue()

# Fields that are contract values, by model label.
CONTRACT_VALUE_FIELDS: dict[str, tuple[str, ...]] = {
    "accounts.Account": ("mrr", "arr", "mrr_reporting", "arr_reporting"),
    "subscriptions.Subscription": ("mrr", "arr"),
    "subscriptions.SubscriptionItem": ("unit_price",),
    "opportunities.Opportunity": ("amount", "current_arr"),
}
# Keys of computed rows (dicts, dataclasses) that carry a contract value.
CONTRACT_VALUE_KEYS: frozenset[str] = frozenset(
    {
        "arr",
        "mrr",
        "arr_reporting",
        "mrr_reporting",
        "amount",
        "current_arr",
        "unit_price",
        "arr_at_risk",
        "expected_arr",
        "weighted_amount",
    }
)


def sees_contract_values(user: User | AnonymousUser | None) -> bool:
    return rights_for(user).see_contract_values


def mask_instance(obj: T, *, user: User | AnonymousUser | None) -> T:
    """Hide the contract values of one model instance (and its cached account) in place; never save it."""
    if sees_contract_values(user) or not isinstance(obj, Model):
        return obj
    _mask_model(obj)
    return obj


def _mask_model(obj: Model, seen: set[int] | None = None) -> None:
    seen = seen if seen is not None else set()
    if id(obj) in seen:  # prefetched rows point back at their parent
        return
    seen.add(id(obj))
    for name in CONTRACT_VALUE_FIELDS.get(obj._meta.label, ()):
        if name in obj.__dict__:
            obj.__dict__[name] = HIDDEN
    # Related rows already loaded with select_related (row.account.arr on a list).
    for related in getattr(obj._state, "fields_cache", {}).values():
        if isinstance(related, Model):
            _mask_model(related, seen)
    # ... and rows loaded with prefetch_related (a subscription's items).
    for prefetched in getattr(obj, "_prefetched_objects_cache", {}).values():
        for row in getattr(prefetched, "_result_cache", None) or ():
            if isinstance(row, Model):
                _mask_model(row, seen)


def mask_rows(rows: Iterable[T], *, user: User | AnonymousUser | None) -> list[T]:
    """Hide contract values in model instances or dict rows for a reader who may not see them."""
    materialised = list(rows)
    if sees_contract_values(user):
        return materialised
    for row in materialised:
        if isinstance(row, Model):
            _mask_model(row)
        elif isinstance(row, MutableMapping):
            mask_mapping(row)
    return materialised


def mask_mapping(row: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(row):
        if key in CONTRACT_VALUE_KEYS:
            row[key] = HIDDEN
    return row


def api_value(value: Any) -> Any:
    """What the API sends for a possibly hidden value: null."""
    return None if value is HIDDEN else value
