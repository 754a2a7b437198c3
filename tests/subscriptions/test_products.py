"""The product catalogue without an import: managers keep the plans and add-ons, the contract editor offers them."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from tandem.audit.models import AuditEntry
from tandem.core.errors import DomainError
from tandem.subscriptions.models import Product
from tandem.subscriptions.services import product_save
from tandem.users.models import User
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.api.helpers import api_client_for, assert_problem
from tests.factories import AccountFactory, as_fixture

pytestmark = pytest.mark.django_db


def _client(role: Role, username: str) -> Client:
    with as_fixture():
        user = user_create(acting_user=None, username=username, password=None, roles=[role])
    client = Client()
    client.force_login(user)
    return client


def test_a_products_code_is_set_once() -> None:
    with as_fixture():
        product = product_save(acting_user=None, data={"code": "pro", "name": "Pro plan", "unit_label": "seat"})
        product_save(acting_user=None, product=product, data={"name": "Pro", "is_active": False})
        with pytest.raises(DomainError) as refused:
            product_save(acting_user=None, product=product, data={"code": "pro-2"})
        assert [e.field for e in refused.value.errors] == ["code"]
        with pytest.raises(DomainError) as refused:
            product_save(acting_user=None, data={"code": "pro", "name": "Again"})
        assert [e.field for e in refused.value.errors] == ["code"] and refused.value.status == 409
        with pytest.raises(DomainError) as refused:
            product_save(acting_user=None, data={"code": "has space", "name": ""})
        assert {e.field for e in refused.value.errors} == {"code", "name"}
    product.refresh_from_db()
    assert (product.code, product.name, product.is_active) == ("pro", "Pro", False)


def test_a_manager_keeps_the_catalogue_and_the_contract_editor_offers_it() -> None:
    manager = _client(Role.CS_MANAGER, "morgan")
    page = manager.get("/subscriptions/products/").content.decode()
    assert 'data-testid="no-products"' in page and 'data-testid="product-form"' in page
    bad = manager.post("/subscriptions/products/", {"code": "seat", "name": "", "kind": "plan", "unit_label": "seat"})
    assert bad.status_code == 400 and "This field is required." in bad.content.decode()
    added = manager.post(
        "/subscriptions/products/",
        {"code": "analytics", "name": "Analytics add-on", "kind": "addon", "unit_label": "user", "is_active": "on"},
    )
    assert added.status_code == 302
    product = Product.objects.get(code="analytics")
    assert (product.kind, product.unit_label, product.is_active) == ("addon", "user", True)

    edit = manager.get(f"/subscriptions/products/{product.pk}/").content.decode()
    assert 'name="code"' in edit and "disabled" in edit  # the code shows but cannot be edited
    saved = manager.post(
        f"/subscriptions/products/{product.pk}/",
        {"code": "something-else", "name": "Analytics", "kind": "addon", "unit_label": "user"},
    )
    assert saved.status_code == 302
    product.refresh_from_db()
    assert (product.code, product.name, product.is_active) == ("analytics", "Analytics", False)
    entry = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Product), object_id=product.pk
    ).latest("pk")
    assert entry.actor.username == "morgan" and entry.via == "ui"

    with as_fixture():
        product_save(acting_user=None, data={"code": "seat", "name": "Seat", "unit_label": "seat"})
    am = _client(Role.ACCOUNT_MANAGER, "avery")
    account = AccountFactory(am_owner=User.objects.get(username="avery"))
    editor = am.get(f"/subscriptions/accounts/{account.pk}/new/").content.decode()
    assert ">Seat</option>" in editor and ">Analytics</option>" not in editor  # retired: not offered
    assert 'data-testid="products-hint"' in editor and "kept by CS managers and admins" in editor


@pytest.mark.parametrize("role", [Role.CSM, Role.ACCOUNT_MANAGER, Role.READ_ONLY])
def test_everyone_reads_the_catalogue_and_only_managers_change_it(role: Role) -> None:
    with as_fixture():
        product = product_save(acting_user=None, data={"code": "seat", "name": "Seat"})
    client = _client(role, "someone")
    page = client.get("/subscriptions/products/").content.decode()
    assert ">Seat<" in page and 'data-testid="product-form"' not in page
    assert f'href="/subscriptions/products/{product.pk}/"' not in page
    assert client.post("/subscriptions/products/", {"code": "x", "name": "X"}).status_code == 403
    assert client.get(f"/subscriptions/products/{product.pk}/").status_code == 403
    assert not Product.objects.filter(code="x").exists()


def test_the_api_lists_adds_and_changes_products() -> None:
    api = api_client_for(Role.CS_MANAGER, "manager")
    made = api.post("/products/", {"code": "pro", "name": "Pro", "kind": "plan"})
    assert made.status_code == 201 and made.json()["unit_label"] == "seat"
    assert_problem(api.post("/products/", {"code": "pro", "name": "Pro again"}), 409, ["code"])
    assert_problem(api.post("/products/", {"code": "no spaces", "name": "X"}), 422)
    product_id = made.json()["id"]
    assert api.patch(f"/products/{product_id}", {"is_active": False}).json()["is_active"] is False
    assert [p["code"] for p in api.get("/products/", {"active": "false"}).json()["items"]] == ["pro"]
    assert api.get("/products/", {"active": "true"}).json()["items"] == []
    csm = api_client_for(Role.CSM, "casey")
    assert [p["id"] for p in csm.get("/products/").json()["items"]] == [product_id]
    assert csm.post("/products/", {"code": "mine", "name": "Mine"}).status_code == 403
    assert csm.patch(f"/products/{product_id}", {"name": "Mine"}).status_code == 403
