import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest

from tandem.accounts.models import Account, Contact, ContactRole
from tandem.audit.models import AuditEntry
from tandem.imports.mapping import load_mapping
from tandem.imports.services import import_file
from tandem.subscriptions.models import ExchangeRate, Product, Subscription, SubscriptionItem
from tandem.support.models import Ticket
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ExchangeRateFactory,
    ProductFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
    UserFactory,
)
from tests.imports.conftest import snapshot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 6, 1)


def problems(report):
    return [(e.row, e.column, e.problem) for e in report.errors]


def counts(report):
    return report.created, report.updated, report.unchanged, report.skipped


# --- accounts -------------------------------------------------------------------------------


def test_accounts_happy_path_stores_exact_values(tmp_path):
    UserFactory(username="alice")
    bob = UserFactory(username="bob", email="Bob@Example.com")
    path = tmp_path / "accounts.csv"
    # BOM, semicolons, a child listed before its parent, labels instead of codes.
    path.write_text(
        "\ufeffexternal_id;name;domain;crm_id;country;currency;tier;lifecycle_stage;"
        "parent_external_id;csm_owner;am_owner;start_date\n"
        "sub-1;Acme Europe;acme.eu;;Germany;eur;Mid-market;Adoption;hq-1;alice;bob@example.com;"
        "2024-02-29\n"
        "hq-1;Acme;acme.example;CRM-1;US;USD;ENTERPRISE;mature;;;;\n",
        encoding="utf-8",
    )

    report = import_file(acting_user=None, entity="accounts", path=path, today=TODAY)

    assert report.errors == []
    assert (counts(report), report.written) == ((2, 0, 0, 0), True)
    hq = Account.objects.get(external_id="hq-1")
    child = Account.objects.get(external_id="sub-1")
    assert (hq.name, hq.domain, hq.crm_id, hq.country.code, hq.currency, hq.tier) == (
        "Acme", "acme.example", "CRM-1", "US", "USD", "enterprise",
    )  # fmt: skip
    assert (hq.lifecycle_stage, hq.parent_id, hq.csm_owner_id, hq.start_date) == (
        "mature", None, None, None,
    )  # fmt: skip
    assert (child.crm_id, child.country.code, child.currency, child.tier) == (
        None, "DE", "EUR", "mid_market",
    )  # fmt: skip
    assert (child.lifecycle_stage, child.parent_id, child.am_owner_id) == ("adoption", hq.pk, bob.pk)
    assert child.csm_owner.username == "alice"
    assert child.start_date == dt.date(2024, 2, 29)


def test_reimport_changes_nothing_and_keeps_updated_at(tmp_path, write_csv):
    path = write_csv(
        "accounts.csv",
        ["external_id", "name", "tier", "start_date", "parent_external_id"],
        [["a1", "Acme", "smb", "2024-01-01", ""], ["a2", "Beta", "enterprise", "", "a1"]],
    )
    import_file(acting_user=None, entity="accounts", path=path)
    before = snapshot()

    report = import_file(acting_user=None, entity="accounts", path=path)

    assert (counts(report), report.errors) == ((0, 0, 2, 0), [])
    assert snapshot() == before  # updated_at included


def test_update_touches_only_changed_rows_and_leaves_absent_columns_alone(write_csv):
    changed = AccountFactory(external_id="a1", name="Old name", tier="enterprise", industry="Retail")
    same = AccountFactory(external_id="a2", name="Beta", tier="enterprise")
    stamps = dict(Account.objects.values_list("external_id", "updated_at"))
    path = write_csv("accounts.csv", ["external_id", "name"], [["a1", "New name"], ["a2", "Beta"]])

    report = import_file(acting_user=None, entity="accounts", path=path)

    assert counts(report) == (0, 1, 1, 0)
    changed.refresh_from_db()
    same.refresh_from_db()
    assert (changed.name, changed.tier, changed.industry) == ("New name", "enterprise", "Retail")
    assert changed.updated_at > stamps["a1"]
    assert same.updated_at == stamps["a2"]


def test_invalid_rows_are_reported_and_nothing_is_written(write_csv):
    UserFactory(username="alice")
    AccountFactory(external_id="kept", name="Kept")
    before = snapshot()
    path = write_csv(
        "accounts.csv",
        ["external_id", "name", "country", "csm_owner", "parent_external_id", "tier"],
        [
            ["a1", "Acme", "DE", "alice", "", "enterprise"],
            ["a2", "", "US", "", "", ""],
            ["a3", "Gamma", "Narnia", "nobody", "zz", "gold"],
            ["a1", "Acme again", "US", "", "", ""],
            ["a4", "Delta", "FR", "", "a3", ""],
        ],
    )

    report = import_file(acting_user=None, entity="accounts", path=path)

    assert problems(report) == [
        (2, "external_id", "duplicate external_id in this file (also on row 5)."),
        (3, "name", "a value is required."),
        (4, "country", "'Narnia' is not an ISO country code or English country name."),
        (4, "tier", "'gold' is not one of: enterprise, mid_market, smb."),
        (4, "csm_owner", "no user with username or email 'nobody'."),
        (4, "parent_external_id", "no account with external_id 'zz' in the database or this file."),
        (5, "external_id", "duplicate external_id in this file (also on row 2)."),
        (6, "parent_external_id", "the parent account is not imported: row 4 is invalid."),
    ]
    assert [e.value for e in report.errors[2:4]] == ["Narnia", "gold"]
    assert (report.invalid_rows, report.written, report.skipped) == (5, False, 0)
    assert snapshot() == before


def test_skip_invalid_writes_only_the_valid_rows(write_csv):
    path = write_csv(
        "accounts.csv",
        ["external_id", "name", "currency"],
        [["a1", "Acme", "USD"], ["a2", "Beta", "dollars"], ["a3", "Gamma", "EUR"]],
    )

    report = import_file(acting_user=None, entity="accounts", path=path, skip_invalid=True)

    assert problems(report) == [(3, "currency", "'dollars' is not a three-letter ISO 4217 currency code.")]
    assert (counts(report), report.written) == ((2, 0, 0, 1), True)
    assert list(Account.objects.order_by("external_id").values_list("external_id", "currency")) == [
        ("a1", "USD"),
        ("a3", "EUR"),
    ]


def test_dry_run_reports_changes_and_writes_nothing(write_csv):
    AccountFactory(external_id="a1", name="Acme")
    before = snapshot()
    path = write_csv("accounts.csv", ["external_id", "name"], [["a1", "Acme Inc"], ["a2", "Beta"]])

    report = import_file(acting_user=None, entity="accounts", path=path, dry_run=True)

    assert (counts(report), report.written, report.dry_run) == ((1, 1, 0, 0), False, True)
    assert snapshot() == before


def test_parent_cycles_and_taken_crm_ids_are_rejected(write_csv):
    top = AccountFactory(external_id="top")
    AccountFactory(external_id="mid", parent=top)
    AccountFactory(external_id="other", crm_id="CRM-9")
    before = snapshot()
    path = write_csv(
        "accounts.csv",
        ["external_id", "name", "parent_external_id", "crm_id"],
        [["top", "Top", "mid", ""], ["self", "Self", "self", ""], ["new", "New", "", "CRM-9"]],
    )

    report = import_file(acting_user=None, entity="accounts", path=path)

    assert problems(report) == [
        (2, "parent_external_id", "this parent would make the account its own ancestor."),
        (3, "parent_external_id", "an account cannot be its own parent."),
        (4, "crm_id", f"crm_id is already used by account '{Account.objects.get(external_id='other').name}' "
         "(external_id other)."),
    ]  # fmt: skip
    assert snapshot() == before


def test_mapping_reads_fields_from_other_columns_and_warns_about_unknown_ones(tmp_path, write_csv):
    path = write_csv(
        "crm-export.csv",
        ["Account ID", "Company", "Segment", "Notes"],
        [["c-1", "Acme", "SMB", "likes us"]],
    )
    map_file = tmp_path / "mapping.json"
    map_file.write_text(json.dumps({"Account ID": "external_id", "Company": "industry"}))
    # --map wins over the mapping file for the same source column.
    mapping = load_mapping(pairs=["Company=name", "Segment=tier"], map_file=map_file)

    report = import_file(acting_user=None, entity="accounts", path=path, mapping=mapping)

    # An account file's unknown column is offered as a custom field (tests/traits/test_traits.py).
    assert report.warnings == [
        "column 'Notes' is not a known field: import it as a new custom field 'notes' (Text) with "
        "--create-traits, or define it in Settings → Custom fields."
    ]
    assert list(Account.objects.values_list("external_id", "name", "tier", "industry")) == [("c-1", "Acme", "smb", "")]


def test_parquet_accounts_with_typed_columns(write_parquet):
    path = write_parquet(
        "accounts.parquet",
        {
            "external_id": ["p1", "p2"],
            "name": ["Parquet One", None],
            "start_date": pa.array([dt.date(2023, 5, 1), None], pa.date32()),
        },
    )

    report = import_file(acting_user=None, entity="accounts", path=path)

    assert report.row_numbers.startswith("data row number")
    assert problems(report) == [(2, "name", "a value is required.")]
    report = import_file(acting_user=None, entity="accounts", path=path, skip_invalid=True)
    assert list(Account.objects.values_list("external_id", "name", "start_date")) == [
        ("p1", "Parquet One", dt.date(2023, 5, 1))
    ]


# --- contacts -------------------------------------------------------------------------------


def test_contacts_happy_path_with_roles(write_csv):
    account = AccountFactory(external_id="a1")
    path = write_csv(
        "contacts.csv",
        ["external_id", "account_external_id", "first_name", "last_name", "email", "title",
         "roles", "is_primary", "still_at_company", "left_on"],
        [
            ["c1", "a1", "Ada", "Lovelace", "ada@acme.example", "CTO",
             "Champion; executive sponsor", "yes", "", ""],
            ["c2", "a1", "", "", "gone@acme.example", "", "billing,END_USER", "0", "no",
             "2025-03-31"],
        ],
    )  # fmt: skip

    report = import_file(acting_user=None, entity="contacts", path=path)

    assert (counts(report), report.errors) == ((2, 0, 0, 0), [])
    ada = Contact.objects.get(external_id="c1")
    gone = Contact.objects.get(external_id="c2")
    assert (ada.account_id, ada.full_name, ada.email, ada.title, ada.is_primary) == (
        account.pk, "Ada Lovelace", "ada@acme.example", "CTO", True,
    )  # fmt: skip
    assert (ada.still_at_company, ada.left_on) == (True, None)
    assert (gone.is_primary, gone.still_at_company, gone.left_on) == (False, False, dt.date(2025, 3, 31))
    roles = sorted(ContactRole.objects.values_list("contact__external_id", "role"))
    assert roles == [
        ("c1", "champion"), ("c1", "executive_sponsor"), ("c2", "billing"), ("c2", "end_user"),
    ]  # fmt: skip


def test_a_contacts_language_is_a_code_or_its_english_name_and_anything_else_names_the_row(write_csv):
    AccountFactory(external_id="a1")
    path = write_csv(
        "contacts.csv",
        ["external_id", "account_external_id", "email", "language"],
        [["c1", "a1", "darya@example.com", "Persian"], ["c2", "a1", "li@example.com", "zh_Hans"],
         ["c3", "a1", "ana@example.com", ""]],
    )  # fmt: skip
    report = import_file(acting_user=None, entity="contacts", path=path)
    assert report.errors == []
    assert sorted(Contact.objects.values_list("external_id", "language")) == [
        ("c1", "fa"),
        ("c2", "zh-hans"),
        ("c3", ""),
    ]
    bad = write_csv(
        "bad.csv",
        ["external_id", "account_external_id", "email", "language"],
        [["c4", "a1", "x@example.com", "Klingon"]],
    )
    report = import_file(acting_user=None, entity="contacts", path=bad)
    assert [(e.row, e.column, e.value) for e in report.errors] == [(2, "language", "Klingon")]
    assert not Contact.objects.filter(external_id="c4").exists()


def test_contacts_reimport_is_unchanged_and_a_role_change_is_an_update(write_csv):
    AccountFactory(external_id="a1")
    header = ["external_id", "account_external_id", "email", "roles"]
    path = write_csv("contacts.csv", header, [["c1", "a1", "x@acme.example", "admin;champion"]])
    import_file(acting_user=None, entity="contacts", path=path)
    before = snapshot()

    assert counts(import_file(acting_user=None, entity="contacts", path=path)) == (0, 0, 1, 0)
    assert snapshot() == before

    path = write_csv("contacts2.csv", header, [["c1", "a1", "x@acme.example", "champion"]])
    assert counts(import_file(acting_user=None, entity="contacts", path=path)) == (0, 1, 0, 0)
    assert list(ContactRole.objects.values_list("role", flat=True)) == ["champion"]


def test_one_primary_contact_per_account(write_csv):
    AccountFactory(external_id="a1")
    b = AccountFactory(external_id="b1")
    ContactFactory(account=b, external_id="old", first_name="Olga", last_name="Old", is_primary=True)
    before = snapshot()
    header = ["external_id", "account_external_id", "first_name", "is_primary"]
    path = write_csv(
        "contacts.csv",
        header,
        [["c1", "a1", "One", "true"], ["c2", "a1", "Two", "true"], ["c3", "b1", "Three", "yes"],
         ["c4", "nope", "Four", "no"]],
    )  # fmt: skip

    report = import_file(acting_user=None, entity="contacts", path=path)

    # Two primaries of one account in one file: which one is meant is unknowable.
    assert problems(report) == [
        (2, "is_primary", "an account has one primary contact; this file also makes row 3 primary."),
        (3, "is_primary", "an account has one primary contact; this file also makes row 2 primary."),
        (5, "account_external_id", "no account with external_id 'nope'."),
    ]
    assert snapshot() == before


def test_a_new_primary_contact_takes_over_as_in_the_form_and_the_api(write_csv):
    """The import follows contact_create's rule: the stored primary stops being primary (and it is audited)."""
    b = AccountFactory(external_id="b1")
    ContactFactory(account=b, external_id="old", first_name="Olga", last_name="Old", is_primary=True)
    header = ["external_id", "account_external_id", "first_name", "is_primary"]
    path = write_csv("contacts.csv", header, [["c3", "b1", "Three", "yes"]])

    dry = import_file(acting_user=None, entity="contacts", path=path, dry_run=True)
    assert dry.notes == ["1 account gets a new primary contact; no longer primary: Olga Old (external_id old)."]
    report = import_file(acting_user=None, entity="contacts", path=path)

    assert (counts(report), report.errors) == ((1, 0, 0, 0), [])
    assert list(Contact.objects.filter(is_primary=True).values_list("external_id", flat=True)) == ["c3"]
    demotion = AuditEntry.objects.get(
        content_type__model="contact", object_pk=str(Contact.objects.get(external_id="old").pk), via="import"
    )
    assert demotion.changes == {"is_primary": [True, False]}

    # Demoting the stored primary in the same file is as valid as before, and swapping back works.
    path = write_csv("swap.csv", header, [["c3", "b1", "Three", "no"], ["old", "b1", "Olga", "yes"]])
    report = import_file(acting_user=None, entity="contacts", path=path)
    assert (counts(report), report.errors) == ((0, 2, 0, 0), [])
    assert list(Contact.objects.filter(is_primary=True).values_list("external_id", flat=True)) == ["old"]


def test_contact_model_rules_come_from_full_clean(write_csv):
    AccountFactory(external_id="a1")
    path = write_csv(
        "contacts.csv",
        ["external_id", "account_external_id", "first_name", "email", "left_on"],
        [["c1", "a1", "", "", ""], ["c2", "a1", "Al", "not-an-email", ""], ["c3", "a1", "Bo", "", "2025-01-01"]],
    )  # fmt: skip

    report = import_file(acting_user=None, entity="contacts", path=path)

    assert problems(report) == [
        (2, "", "A contact needs a name or an email address."),
        (3, "email", "Enter a valid email address."),
        (4, "left_on", "A contact who left cannot still be at the company."),
    ]


# --- subscriptions --------------------------------------------------------------------------

SUB_HEADER = [
    "account_external_id", "external_id", "billing_period", "start_date", "end_date",
    "renewal_date", "auto_renew", "product_code", "quantity", "unit_price",
]  # fmt: skip


def _history(write_csv, name="subs.csv", pro_2025_quantity="12"):
    return write_csv(
        name,
        SUB_HEADER,
        [
            ["acme", "acme-2024", "annual", "2024-01-01", "2024-12-31", "", "no", "pro", "10", "120"],
            ["acme", "acme-2025", "Annual", "2025-01-01", "2025-12-31", "2026-01-01", "yes", "pro",
             pro_2025_quantity, "120"],
            ["acme", "acme-2025", "12", "2025-01-01", "2025-12-31", "2026-01-01", "yes", "sso", "", "600"],
            ["beta", "beta-1", "monthly", "2025-05-01", "", "", "", "pro", "3", "49.99"],
        ],
    )  # fmt: skip


@pytest.fixture
def catalog():
    AccountFactory(external_id="acme", currency="EUR")
    AccountFactory(external_id="beta", currency="USD")
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2020, 1, 1), rate=Decimal("1.10"))
    return {"pro": ProductFactory(code="pro"), "sso": ProductFactory(code="sso")}


def test_subscription_history_with_line_items_totals_and_account_revenue(write_csv, catalog):
    report = import_file(acting_user=None, entity="subscriptions", path=_history(write_csv), today=TODAY)

    assert (counts(report), report.errors) == ((3, 0, 0, 0), [])
    terms = {s.external_id: s for s in Subscription.objects.select_related("account").prefetch_related("items")}
    old, current, beta = terms["acme-2024"], terms["acme-2025"], terms["beta-1"]
    assert (old.status, old.currency, old.billing_period, old.mrr, old.arr, old.auto_renew) == (
        "ended", "EUR", 12, Decimal("100.00"), Decimal("1200.00"), False,
    )  # fmt: skip
    assert (current.status, current.start_date, current.end_date, current.renewal_date) == (
        "active", dt.date(2025, 1, 1), dt.date(2025, 12, 31), dt.date(2026, 1, 1),
    )  # fmt: skip
    # (12 * 120 + 1 * 600) / 12 months
    assert (current.mrr, current.arr, current.auto_renew) == (Decimal("170.00"), Decimal("2040.00"), True)
    assert sorted((i.product.code, i.quantity, i.unit_price) for i in current.items.all()) == [
        ("pro", Decimal("12.00"), Decimal("120.0000")),
        ("sso", Decimal("1.00"), Decimal("600.0000")),
    ]
    assert (beta.billing_period, beta.currency, beta.end_date, beta.mrr, beta.arr) == (
        1, "USD", None, Decimal("149.97"), Decimal("1799.64"),
    )  # fmt: skip
    # Account revenue in the reporting currency: 170.00 EUR * 1.10.
    assert list(Account.objects.order_by("external_id").values_list("external_id", "mrr", "arr", "renewal_date")) == [
        ("acme", Decimal("187.00"), Decimal("2244.00"), dt.date(2026, 1, 1)),
        ("beta", Decimal("149.97"), Decimal("1799.64"), None),
    ]  # fmt: skip


def test_subscription_reimport_is_unchanged_and_a_changed_term_replaces_its_items(write_csv, catalog):
    import_file(acting_user=None, entity="subscriptions", path=_history(write_csv), today=TODAY)
    before = snapshot()

    report = import_file(acting_user=None, entity="subscriptions", path=_history(write_csv), today=TODAY)
    assert (counts(report), report.errors) == ((0, 0, 3, 0), [])
    assert snapshot() == before

    report = import_file(
        acting_user=None,
        entity="subscriptions",
        path=_history(write_csv, "v2.csv", pro_2025_quantity="22"),
        today=TODAY,
    )
    assert counts(report) == (0, 1, 2, 0)
    current = Subscription.objects.get(external_id="acme-2025")
    assert sorted(current.items.values_list("product__code", "quantity")) == [
        ("pro", Decimal("22.00")), ("sso", Decimal("1.00")),
    ]  # fmt: skip
    assert SubscriptionItem.objects.count() == 4
    # (22 * 120 + 600) / 12 = 270.00 EUR -> 297.00 USD
    assert (current.mrr, Account.objects.get(external_id="acme").mrr) == (Decimal("270.00"), Decimal("297.00"))


def test_unknown_product_is_an_error_unless_products_may_be_created(write_csv, catalog):
    path = write_csv(
        "subs.csv", SUB_HEADER,
        [["beta", "b-1", "monthly", "2025-01-01", "", "", "", "enterprise-plus", "1", "10"]],
    )  # fmt: skip
    before = snapshot()

    report = import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY)
    assert problems(report) == [
        (2, "product_code", "unknown product code 'enterprise-plus'; create the product first or use "
         "--create-products."),
    ]  # fmt: skip
    assert snapshot() == before

    report = import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY, create_products=True)
    assert (counts(report), report.notes) == ((1, 0, 0, 0), ["new products: enterprise-plus"])
    product = Product.objects.get(code="enterprise-plus")
    assert (product.name, product.kind) == ("enterprise-plus", "plan")
    assert Subscription.objects.get(external_id="b-1").mrr == Decimal("10.00")


def test_missing_exchange_rate_is_a_clear_error_and_nothing_is_written(write_csv, catalog):
    AccountFactory(external_id="gb", currency="GBP")
    path = write_csv(
        "subs.csv", SUB_HEADER,
        [["beta", "b-1", "monthly", "2025-01-01", "", "", "", "pro", "1", "10"],
         ["gb", "gb-1", "monthly", "2025-01-01", "", "", "", "pro", "1", "10"]],
    )  # fmt: skip
    before = snapshot()

    report = import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY)

    assert problems(report) == [
        (3, "currency", "no exchange rate from GBP to USD on 2025-06-01; import exchange rates first "
         "(tandem import exchange-rates)."),
    ]  # fmt: skip
    assert report.written is False
    assert snapshot() == before


def test_missing_rate_found_while_refreshing_revenue_rolls_everything_back(write_csv, catalog):
    # The account already bills in GBP without a rate; the import itself is fine.
    gb = AccountFactory(external_id="gb")
    SubscriptionFactory(account=gb, currency="GBP", start_date=dt.date(2025, 1, 1), end_date=None)
    path = write_csv("subs.csv", SUB_HEADER, [["gb", "gb-usd", "monthly", "2025-01-01", "", "", "", "pro", "1", "10"]])
    before = snapshot()

    report = import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY)

    assert problems(report) == [
        (None, "currency", "No exchange rate to the reporting currency. (currency: No exchange rate for GBP "
         "on 2025-06-01.); nothing was written."),
    ]  # fmt: skip
    assert report.written is False
    assert snapshot() == before


def test_a_term_is_imported_whole_or_not_at_all(write_csv, catalog):
    path = write_csv(
        "subs.csv", SUB_HEADER,
        [["beta", "b-1", "monthly", "2025-01-01", "", "", "", "pro", "1", "10"],
         ["beta", "b-1", "annual", "2025-01-01", "", "", "", "sso", "1", "-5"],
         ["beta", "b-2", "monthly", "2025-02-01", "", "", "", "pro", "2", "10"]],
    )  # fmt: skip

    report = import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY, skip_invalid=True)

    assert problems(report) == [
        (2, "external_id", "not imported because row 3 of the same subscription is invalid."),
        (3, "billing_period", "differs from row 2 of the same subscription ('monthly')."),
        (3, "unit_price", "Ensure this value is greater than or equal to 0."),
    ]
    assert (counts(report), report.written) == ((1, 0, 0, 2), True)
    assert list(Subscription.objects.values_list("external_id", flat=True)) == ["b-2"]
    assert Account.objects.get(external_id="beta").mrr == Decimal("20.00")


def test_subscription_line_items_replace_stored_ones_for_an_existing_term(write_csv, catalog):
    term = SubscriptionFactory(
        account=Account.objects.get(external_id="beta"), external_id="b-1", start_date=dt.date(2025, 1, 1)
    )
    SubscriptionItemFactory(subscription=term, product=ProductFactory(code="legacy"))
    path = write_csv("subs.csv", SUB_HEADER, [["beta", "b-1", "monthly", "2025-01-01", "", "", "", "pro", "1", "10"]])

    report = import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY)

    assert counts(report) == (0, 1, 0, 0)
    assert list(term.items.values_list("product__code", "quantity", "unit_price")) == [
        ("pro", Decimal("1.00"), Decimal("10.0000"))
    ]


# --- tickets and exchange rates -------------------------------------------------------------


def test_tickets_happy_path_and_model_rules(write_csv):
    account = AccountFactory(external_id="a1")
    requester = ContactFactory(account=account, email="pat@acme.example")
    path = write_csv(
        "tickets.csv",
        ["external_id", "account_external_id", "subject", "priority", "status", "opened_at", "closed_at",
         "satisfaction", "requester_email"],
        [
            ["t1", "a1", "Login broken", "Urgent", "solved", "2025-05-01T09:30:00+02:00",
             "2025-05-02 10:00", "5", "PAT@acme.example"],
            ["t2", "a1", "Closes early", "", "", "2025-05-03T10:00:00Z", "2025-05-01T00:00:00Z", "9", ""],
            ["t3", "a1", "Who?", "", "", "2025-05-03", "", "", "ghost@acme.example"],
        ],
    )  # fmt: skip

    report = import_file(acting_user=None, entity="tickets", path=path, skip_invalid=True)

    assert problems(report) == [
        (3, "satisfaction", "Ensure this value is less than or equal to 5."),
        (4, "requester_email", "no contact with this email at account 'a1'."),
    ]
    ticket = Ticket.objects.get()
    assert (ticket.external_id, ticket.subject, ticket.priority, ticket.status, ticket.satisfaction) == (
        "t1", "Login broken", "urgent", "solved", 5,
    )  # fmt: skip
    assert ticket.opened_at == dt.datetime(2025, 5, 1, 7, 30, tzinfo=dt.UTC)
    assert ticket.closed_at == dt.datetime(2025, 5, 2, 10, 0, tzinfo=dt.UTC)  # naive means UTC
    assert ticket.contact_id == requester.pk

    path = write_csv(
        "t2.csv", ["external_id", "account_external_id", "subject", "opened_at", "closed_at"],
        [["t9", "a1", "Backwards", "2025-05-03T10:00:00Z", "2025-05-01T00:00:00Z"]],
    )  # fmt: skip
    assert problems(import_file(acting_user=None, entity="tickets", path=path)) == [
        (2, "closed_at", "A ticket cannot close before it opened.")
    ]


def test_exchange_rates_upsert_on_currency_and_date(write_csv):
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2025, 1, 1), rate=Decimal("1.05"))
    ExchangeRateFactory(currency="GBP", valid_from=dt.date(2025, 1, 1), rate=Decimal("1.25"))
    path = write_csv(
        "rates.csv",
        ["currency", "valid_from", "rate"],
        [["eur", "2025-01-01", "1.08"], ["GBP", "2025-01-01", "1.2500"], ["JPY", "2025-01-01", "0.0067"]],
    )

    report = import_file(acting_user=None, entity="exchange-rates", path=path)

    assert counts(report) == (1, 1, 1, 0)
    assert sorted(ExchangeRate.objects.values_list("currency", "valid_from", "rate")) == [
        ("EUR", dt.date(2025, 1, 1), Decimal("1.0800000000")),
        ("GBP", dt.date(2025, 1, 1), Decimal("1.2500000000")),
        ("JPY", dt.date(2025, 1, 1), Decimal("0.0067000000")),
    ]


def test_parquet_contacts_with_list_roles_and_booleans(write_parquet):
    AccountFactory(external_id="a1")
    path = write_parquet(
        "contacts.parquet",
        {
            "external_id": ["c1"],
            "account_external_id": ["a1"],
            "email": ["p@acme.example"],
            "roles": pa.array([["admin", "Billing"]], pa.list_(pa.string())),
            "is_primary": pa.array([True], pa.bool_()),
        },
    )

    report = import_file(acting_user=None, entity="contacts", path=path)

    assert (counts(report), report.errors) == ((1, 0, 0, 0), [])
    contact = Contact.objects.get()
    assert contact.is_primary is True
    assert sorted(contact.roles.values_list("role", flat=True)) == ["admin", "billing"]


def test_updated_at_of_unchanged_rows_survives_a_partial_update(write_csv):
    AccountFactory(external_id="a1", name="Acme")
    stamp = Account.objects.get().updated_at
    path = write_csv("a.csv", ["external_id", "name"], [["a1", "Acme"], ["a2", "New"]])

    report = import_file(acting_user=None, entity="accounts", path=path)

    assert counts(report) == (1, 0, 1, 0)
    assert Account.objects.get(external_id="a1").updated_at == stamp


MRR_HEADER = ["account_external_id", "external_id", "billing_period", "start_date", "end_date", "product_code",
              "quantity", "unit_price", "mrr"]  # fmt: skip


def test_billing_export_with_mrr_instead_of_unit_prices_rebuilds_revenue_history(write_csv, catalog):
    path = write_csv(
        "billing.csv",
        MRR_HEADER,
        [
            ["beta", "beta-2024", "annual", "2024-01-01", "2024-12-31", "pro", "10", "", "1000"],
            ["beta", "beta-2025", "quarterly", "2025-01-01", "2025-12-31", "pro", "12", "", "1250.00"],
            ["beta", "beta-2025", "quarterly", "2025-01-01", "2025-12-31", "sso", "", "", "99.99"],
        ],
    )

    report = import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY)

    assert (counts(report), report.errors) == ((2, 0, 0, 0), [])
    terms = {s.external_id: s for s in Subscription.objects.prefetch_related("items__product")}
    # 1000 a month * 12 months / 10 seats = 1200 a seat a year
    assert [(i.quantity, i.unit_price) for i in terms["beta-2024"].items.all()] == [
        (Decimal("10.00"), Decimal("1200.0000"))
    ]
    assert terms["beta-2024"].mrr == Decimal("1000.00")
    # 1250 * 3 / 12 = 312.5 a seat a quarter; 99.99 * 3 = 299.97 for the one SSO unit
    assert sorted((i.product.code, i.unit_price) for i in terms["beta-2025"].items.all()) == [
        ("pro", Decimal("312.5000")), ("sso", Decimal("299.9700")),
    ]  # fmt: skip
    assert terms["beta-2025"].mrr == Decimal("1349.99")
    assert import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY).errors == []
    assert counts(import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY)) == (0, 0, 2, 0)


def test_mrr_rows_that_cannot_be_represented_or_disagree_are_rejected_by_line(write_csv, catalog):
    path = write_csv(
        "billing.csv",
        MRR_HEADER,
        [
            # 1000 / 3000 = 0.3333... a seat; 3000 * 0.3333 = 999.90, not 1000.00
            ["beta", "b-1", "monthly", "2025-01-01", "", "pro", "3000", "", "1000.00"],
            ["beta", "b-2", "monthly", "2025-01-01", "", "pro", "2", "50", "120"],  # 2 * 50 is 100, not 120
            ["beta", "b-3", "monthly", "2025-01-01", "", "pro", "2", "", ""],  # neither given
        ],
    )

    report = import_file(acting_user=None, entity="subscriptions", path=path, today=TODAY)

    assert [(e.row, e.column) for e in report.errors] == [(2, "mrr"), (3, "mrr"), (4, "unit_price")]
    assert "give unit_price instead" in report.errors[0].problem
    assert report.errors[2].problem == "unit_price or mrr is required."
    assert not Subscription.objects.exists()
