"""The REST API at /api/v1 (django-ninja); each domain contributes a router from its api.py."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.operation import Operation

from tandem.accounts.api import accounts_router, contacts_router
from tandem.api.auth import ApiTokenAuth, SessionAuth
from tandem.api.problems import install_problem_handlers
from tandem.health.api import router as health_router
from tandem.playbooks.api import router as playbooks_router
from tandem.revenue.api import opportunities_router
from tandem.revenue.api import router as revenue_router
from tandem.subscriptions.api import router as subscriptions_router
from tandem.support.api import router as tickets_router
from tandem.surveys.api import router as nps_router
from tandem.timeline.api import router as interactions_router

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


api = TandemAPI(
    title="Tandem API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=[ApiTokenAuth(), SessionAuth()],
)
install_problem_handlers(api)

api.add_router("/accounts/", accounts_router)
api.add_router("/contacts/", contacts_router)
api.add_router("/subscriptions/", subscriptions_router)
api.add_router("/tickets/", tickets_router)
api.add_router("/interactions/", interactions_router)
api.add_router("/nps-responses/", nps_router)
api.add_router("/playbooks/", playbooks_router)
api.add_router("/revenue/", revenue_router)
api.add_router("/opportunities/", opportunities_router)
api.add_router("/health/", health_router)
