"""The REST API at /api/v1 (django-ninja); each domain contributes a router from its api.py."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from tandem.accounts.api import accounts_router, contacts_router
from tandem.api.auth import ApiTokenAuth, SessionAuth
from tandem.api.problems import CONTENT_TYPE, PROBLEM_RESPONSES, install_problem_handlers
from tandem.health.api import router as health_router
from tandem.maillog.api import router as maillog_router
from tandem.meetings.api import router as meetings_router
from tandem.playbooks.api import router as playbooks_router
from tandem.revenue.api import opportunities_router
from tandem.revenue.api import router as revenue_router
from tandem.subscriptions.api import products_router
from tandem.subscriptions.api import router as subscriptions_router
from tandem.success.api import router as success_router
from tandem.support.api import router as tickets_router
from tandem.surveys.api import router as nps_router
from tandem.timeline.api import router as interactions_router
from tandem.timeline.api import timeline_router
from tandem.users.api import router as users_router
from tandem.webhooks.api import router as webhooks_router

DESCRIPTION = """
The Tandem REST API.

**Authentication**: send a personal API token as `Authorization: Bearer tdm_...` (create one under
*Settings → API tokens*), or call from the web UI with your session and the `X-CSRFToken` header.
What you may do follows your role: read-only users can only read.

**Lists** take `limit` (1-500, default 50) and `offset` and answer `{"count": ..., "items": [...]}`.

**Errors** are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) problem details
(`application/problem+json`): `{"type", "title", "status", "detail", "errors": [{"field",
"message"}]}`, where `field` is a dotted path into your request such as `items.0.quantity`.
"""


class TandemAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # View names are unique across routers (list_accounts, create_contact, ...).
        return operation.view_func.__name__

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """ninja's schema, corrected to what the API really answers (checked by schemathesis in the tests).

        Every error is a problem document served as ``application/problem+json`` (problems.py), which
        ninja would document as ``application/json``; and any operation can answer 401, 403 and 422
        (no credentials, no permission, a parameter out of range), documented or not in its decorator.
        A bounded decimal input is documented as a number only (see below).
        """
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        _document_bounded_decimals_as_numbers(schema["components"])
        problem = {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for methods in schema["paths"].values():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                for status in PROBLEM_RESPONSES:
                    if status in (401, 403, 422) or status in responses:
                        responses[status] = {"description": HTTPStatus(status).phrase, "content": problem}
        return schema


def _document_bounded_decimals_as_numbers(node: Any) -> None:
    """Drop the string form pydantic documents beside a bounded decimal input.

    ``Decimal = Field(ge=0)`` becomes ``anyOf: [{number, minimum: 0}, {string, pattern}]``, and JSON
    Schema cannot put the bound on the string, so the schema would call "-1" valid although the API
    refuses it. The API still accepts decimals sent as strings; the schema only promises numbers.
    """
    if isinstance(node, dict):
        branches = node.get("anyOf")
        if isinstance(branches, list):
            bounded = any(b.get("type") == "number" and set(b) & _BOUNDS for b in branches if isinstance(b, dict))
            if bounded:
                node["anyOf"] = [b for b in branches if not (b.get("type") == "string" and "pattern" in b)]
        for value in node.values():
            _document_bounded_decimals_as_numbers(value)
    elif isinstance(node, list):
        for value in node:
            _document_bounded_decimals_as_numbers(value)


_BOUNDS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}


api = TandemAPI(
    title="Tandem API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=[ApiTokenAuth(), SessionAuth()],
)
install_problem_handlers(api)

api.add_router("/accounts/", accounts_router)
api.add_router("/accounts/", success_router)
api.add_router("/contacts/", contacts_router)
api.add_router("/subscriptions/", subscriptions_router)
api.add_router("/products/", products_router)
api.add_router("/tickets/", tickets_router)
api.add_router("/interactions/", interactions_router)
api.add_router("/nps-responses/", nps_router)
api.add_router("/playbooks/", playbooks_router)
api.add_router("/revenue/", revenue_router)
api.add_router("/opportunities/", opportunities_router)
api.add_router("/health/", health_router)
api.add_router("/webhooks/", webhooks_router)
api.add_router("/mail/", maillog_router)
api.add_router("/users/", users_router)
api.add_router("/meetings/", meetings_router)
api.add_router("/", timeline_router)
