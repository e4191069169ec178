"""The line item editor on deals: lines copied from the library, custom lines, inline edit recomputed by the engine,
clone, delete, reorder, columns, one-time adjustments, metrics, the deal amount from the lines, and the deal panel."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from billing import pricing
from billing.editor import line_input, owner_for
from billing.models import DocumentAdjustment, ExchangeRate, LineItem, PriceTier, Product, ProductPrice, TaxRate
from billing.services import line_items as services
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.organization.selectors import organization_profile_forget
from crm.demo_data import default_pipeline_ensure
from crm.models import Deal
from tests.conftest import user_make

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def stage(tenant_alpha):
    return default_pipeline_ensure().stages.order_by("position", "id").first()


def deal_make(stage, *, currency="EUR", amount=None, name="Warehouse scanners"):
    return Deal.objects.create(name=name, pipeline=stage.pipeline, stage=stage, amount=amount, amount_currency=currency)


@pytest.fixture
def deal(stage):
    return deal_make(stage)


@pytest.fixture
def vat21(tenant_alpha):
    return TaxRate.objects.get(name="BTW 21%")


def product_make(name="Scanner", sku="SCN-1", prices=None, **extra):
    product = Product.objects.create(name=name, sku=sku, **extra)
    for currency, price in (prices or {"EUR": "199.99"}).items():
        ProductPrice.objects.create(product=product, currency=currency, unit_price=Decimal(price))
    return product


def line_make(deal, *, name="Scanner", position=0, **values):
    defaults = {"quantity": Decimal(1), "unit_price": Decimal("100"), "currency": deal.amount_currency or "EUR"}
    return LineItem.objects.create(deal=deal, name=name, position=position, **(defaults | values))


def client_for(role: str) -> Client:
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def editor_url(deal, tail=""):
    return f"/billing/deals/{deal.pk}/line-items/{tail}"


def edit_data(line, **changes):
    """The inline edit form as the browser posts it, with the line's current values."""
    data = {
        "quantity": str(line.quantity.normalize()),
        "unit_price": f"{line.unit_price.normalize():f}",
        "discount_type": line.discount_type,
        "discount_value": f"{line.discount_value.normalize():f}" if line.discount_type else "",
        "tax_rate": str(line.tax_rate_id or ""),
        "frequency": line.frequency,
        "term": str(line.term_months or line.term_weeks or ""),
        "billing_start": line.billing_start,
        "billing_start_date": "",
        "billing_start_delay": "",
        "unit_cost": "",
    } | changes
    return {f"line{line.pk}-{key}": value for key, value in data.items()}


def metric(html: str, name: str) -> str:
    match = re.search(rf'data-metric="{name}">([^<]*)<', html)
    return match.group(1) if match else ""


# --- adding from the library ------------------------------------------------------------------------------------------


def test_adding_a_library_product_copies_its_values_in_the_deal_currency(admin_client, deal, vat21):
    product = product_make(
        prices={"EUR": "199.99", "NOK": "2290"},
        description="Rugged handheld scanner",
        unit_cost=Decimal("120.5"),
        cost_currency="EUR",
        billing_frequency="monthly",
        term_months=12,
        tax_rate=vat21,
    )
    response = admin_client.post(editor_url(deal, "library/"), {"product": [product.pk]}, **HTMX)
    assert response.status_code == 200
    line = LineItem.objects.get(deal=deal)
    assert (line.name, line.sku, line.description) == ("Scanner", "SCN-1", "Rugged handheld scanner")
    assert (line.unit_price, line.currency, line.unit_cost) == (Decimal("199.99"), "EUR", Decimal("120.5"))
    assert (line.frequency, line.term_months, line.tax_rate_id, line.product_id) == (
        "monthly",
        12,
        vat21.pk,
        product.pk,
    )
    assert line.quantity == 1
    assert 'id="line-editor"' in response.content.decode()


def test_editing_a_copied_line_leaves_the_product_alone(admin_client, deal, vat21):
    product = product_make(tax_rate=vat21)
    admin_client.post(editor_url(deal, "library/"), {"product": [product.pk]})
    line = LineItem.objects.get(deal=deal)
    response = admin_client.post(
        editor_url(deal, f"{line.pk}/edit/"), edit_data(line, quantity="5", unit_price="150"), **HTMX
    )
    assert response.status_code == 200
    line.refresh_from_db()
    assert (line.quantity, line.unit_price) == (Decimal(5), Decimal(150))
    assert ProductPrice.objects.get(product=product, currency="EUR").unit_price == Decimal("199.99")
    product.refresh_from_db()
    assert product.name == "Scanner"


def test_a_nok_deal_refuses_a_product_priced_only_in_eur(admin_client, stage):
    deal = deal_make(stage, currency="NOK")
    product = product_make(prices={"EUR": "199.99"})
    response = admin_client.post(editor_url(deal, "library/"), {"product": [product.pk]}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#line-slot"
    assert "This product has no price in NOK" in response.content.decode()
    assert not LineItem.objects.filter(deal=deal).exists()


def test_one_refused_product_adds_none_of_the_batch(admin_client, stage):
    deal = deal_make(stage, currency="NOK")
    good = product_make(name="Support", sku="SUP", prices={"NOK": "990"})
    bad = product_make(name="Scanner", sku="SCN", prices={"EUR": "199.99"})
    response = admin_client.post(editor_url(deal, "library/"), {"product": [good.pk, bad.pk]})
    assert response.status_code == 400
    assert "This product has no price in NOK" in response.content.decode()
    assert not LineItem.objects.filter(deal=deal).exists()


def test_tiered_products_copy_the_tiers_of_the_deal_currency(admin_client, deal):
    product = product_make(name="Seats", sku="SEAT", pricing_model="graduated")
    for position, (up_to, price) in enumerate([("10", "5"), (None, "4")]):
        PriceTier.objects.create(
            product=product,
            currency="EUR",
            up_to=up_to and Decimal(up_to),
            unit_price=Decimal(price),
            position=position,
        )
    admin_client.post(editor_url(deal, "library/"), {"product": [product.pk]})
    line = LineItem.objects.get(deal=deal)
    assert line.tiers == [
        {"up_to": "10", "unit_price": "5", "flat_fee": "0"},
        {"up_to": None, "unit_price": "4", "flat_fee": "0"},
    ]
    line.quantity = Decimal(12)
    assert pricing.line_result(line_input(line)).net == Decimal("58.00")


def test_a_bundle_priced_by_its_parts_adds_at_the_sum_of_their_prices(admin_client, stage):
    from billing.models import BundleComponent

    scanner = product_make(name="Scanner", sku="SCN", prices={"EUR": "10", "NOK": "110"})
    cradle = product_make(name="Cradle", sku="CRD", prices={"EUR": "5"})
    bundle = Product.objects.create(name="Starter kit", sku="KIT", is_bundle=True, bundle_pricing="sum")
    BundleComponent.objects.create(bundle=bundle, component=scanner, quantity=Decimal(2))
    BundleComponent.objects.create(bundle=bundle, component=cradle, quantity=Decimal(1))
    eur_deal = deal_make(stage)
    admin_client.post(editor_url(eur_deal, "library/"), {"product": [bundle.pk]})
    assert LineItem.objects.get(deal=eur_deal).unit_price == Decimal("25")
    nok_deal = deal_make(stage, currency="NOK", name="Fjord")
    response = admin_client.post(editor_url(nok_deal, "library/"), {"product": [bundle.pk]})
    assert "This product has no price in NOK" in response.content.decode()
    assert not LineItem.objects.filter(deal=nok_deal).exists()


def test_library_search_filters_by_text_and_shows_prices_in_the_deal_currency(admin_client, deal):
    product_make(name="Scanner", sku="SCN-1", prices={"EUR": "199.99"})
    product_make(name="Fjord licence", sku="LIC-NO", prices={"NOK": "990"}, billing_frequency="annual")
    page = text_of(admin_client.get(editor_url(deal, "library/"), {"q": "scan"}, **HTMX))
    assert "Scanner" in page and "€199.99" in page
    assert "Fjord licence" not in page
    page = text_of(admin_client.get(editor_url(deal, "library/"), {"frequency": "annual"}, **HTMX))
    assert "Fjord licence" in page and "Not sold in EUR" in page and "Scanner" not in page


# --- custom line items ------------------------------------------------------------------------------------------------


def custom_data(**changes):
    data = {
        "name": "Installation day",
        "sku": "",
        "description": "On site",
        "quantity": "2",
        "unit_price": "650",
        "discount_type": "",
        "discount_value": "",
        "tax_rate": "",
        "frequency": "one_time",
        "term": "",
        "billing_start": "checkout",
        "billing_start_date": "",
        "billing_start_delay": "",
        "unit_cost": "",
    } | changes
    return {f"custom-{key}": value for key, value in data.items()}


def test_sales_creates_a_custom_line_item(deal):
    client = client_for(Role.SALES)
    assert "Custom line item" in client.get(editor_url(deal)).content.decode()
    response = client.post(editor_url(deal, "custom/"), custom_data(), **HTMX)
    assert response.status_code == 200
    line = LineItem.objects.get(deal=deal)
    assert (line.name, line.quantity, line.unit_price, line.product_id) == (
        "Installation day",
        Decimal(2),
        Decimal(650),
        None,
    )
    # Sales cannot manage products, so the option to save it to the library is not offered.
    assert "save_to_library" not in client.get(editor_url(deal, "custom/")).content.decode()


def test_read_only_users_cannot_create_custom_line_items(deal):
    client = client_for(Role.READ_ONLY)
    page = client.get(editor_url(deal)).content.decode()
    assert "Custom line item" not in page and "Add from library" not in page
    assert client.get(editor_url(deal, "custom/")).status_code == 403
    assert client.post(editor_url(deal, "custom/"), custom_data()).status_code == 403
    assert not LineItem.objects.exists()


def test_a_custom_line_can_be_saved_to_the_library(admin_client, deal, vat21):
    data = custom_data(sku="INST-DAY", tax_rate=str(vat21.pk), save_to_library="on")
    assert admin_client.post(editor_url(deal, "custom/"), data).status_code == 302
    product = Product.objects.get(sku="INST-DAY")
    assert product.name == "Installation day"
    assert product.prices.get().unit_price == Decimal(650)
    assert LineItem.objects.get(deal=deal).product_id == product.pk


def test_saving_to_the_library_needs_a_unique_sku(admin_client, deal):
    product_make(sku="INST-DAY")
    response = admin_client.post(editor_url(deal, "custom/"), custom_data(sku="inst-day", save_to_library="on"))
    assert response.status_code == 400
    assert "Another product already uses the SKU" in response.context["form"].errors["sku"][0]
    assert not LineItem.objects.exists()


# --- inline edit ------------------------------------------------------------------------------------------------------


def test_inline_edit_recomputes_the_totals_with_the_engine(admin_client, deal, vat21):
    line = line_make(deal, unit_price=Decimal("199.99"), tax_rate=vat21)
    data = edit_data(line, quantity="3", discount_type="percent", discount_value="10")
    # The preview prices the form as it stands and saves nothing.
    preview = text_of(admin_client.post(editor_url(deal, f"{line.pk}/preview/"), data, **HTMX))
    assert 'data-figure="net">€539.97<' in preview
    assert 'data-figure="tax">€113.39<' in preview
    line.refresh_from_db()
    assert line.quantity == 1
    response = admin_client.post(editor_url(deal, f"{line.pk}/edit/"), data, **HTMX)
    html = text_of(response)
    line.refresh_from_db()
    summary = pricing.document_summary([line_input(line)], currency="EUR")
    assert (summary.subtotal, summary.vat_total, summary.total) == (
        Decimal("539.97"),
        Decimal("113.39"),
        Decimal("653.36"),
    )
    assert metric(html, "subtotal") == "€539.97"
    assert metric(html, "tax") == "€113.39"
    assert metric(html, "total") == "€653.36"
    assert metric(html, "discount") == "€60.00"
    assert 'data-summary="total">€653.36<' in html
    assert OutboxEvent.objects.filter(name="deal.line_items_changed", payload={"id": deal.pk}).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quantity": "-1"}, "quantity", "The quantity cannot be negative."),
        ({"quantity": "1.1234567"}, "quantity", "Use at most 6 decimals."),
        ({"unit_price": "10.1234567"}, "unit_price", "Use at most 6 decimals."),
        ({"unit_price": "ten"}, "unit_price", "“ten” is not a number."),
        ({"quantity": "NaN"}, "quantity", "“NaN” is not a number."),
        (
            {"discount_type": "amount", "discount_value": "150"},
            "discount_value",
            "The discount is more than the price.",
        ),
        (
            {"discount_type": "percent", "discount_value": "120"},
            "discount_value",
            "A percentage discount cannot be more than 100%.",
        ),
        ({"frequency": "quarterly", "term": "2"}, "term", "The term is shorter than one billing period."),
        ({"frequency": "annual", "term": "6"}, "term", "The term is shorter than one billing period."),
        ({"billing_start": "date"}, "billing_start_date", "Enter the date billing starts."),
        ({"billing_start": "delay_days"}, "billing_start_delay", "Enter the delay."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(admin_client, deal, changes, field, message):
    line = line_make(deal)
    response = admin_client.post(editor_url(deal, f"{line.pk}/edit/"), edit_data(line, **changes), **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#line-{line.pk}"
    assert response.context["form"].errors[field] == [message]
    html = response.content.decode()
    assert f'id="id_line{line.pk}-{field}-errors"' in html and message in html
    fresh = LineItem.objects.get(pk=line.pk)
    assert (fresh.quantity, fresh.unit_price, fresh.frequency, fresh.billing_start) == (
        Decimal(1),
        Decimal(100),
        "one_time",
        "checkout",
    )
    # The live preview shows the same message in the field's error slot.
    preview = admin_client.post(editor_url(deal, f"{line.pk}/preview/"), edit_data(line, **changes), **HTMX)
    assert re.search(
        rf'id="id_line{line.pk}-{field}-errors"[^>]*hx-swap-oob="true"><small class="field-error">{re.escape(message)}',
        preview.content.decode(),
    )


def test_billing_start_is_saved_as_a_date_or_a_delay(admin_client, deal):
    line = line_make(deal, frequency="monthly")
    admin_client.post(
        editor_url(deal, f"{line.pk}/edit/"),
        edit_data(line, billing_start="delay_months", billing_start_delay="2", billing_start_date="2026-05-01"),
    )
    line.refresh_from_db()
    assert (line.billing_start, line.billing_start_delay, line.billing_start_date) == ("delay_months", 2, None)
    admin_client.post(
        editor_url(deal, f"{line.pk}/edit/"), edit_data(line, billing_start="date", billing_start_date="2026-05-01")
    )
    line.refresh_from_db()
    assert (line.billing_start, line.billing_start_delay, line.billing_start_date) == ("date", None, date(2026, 5, 1))


def test_weekly_terms_are_kept_in_weeks(admin_client, deal):
    line = line_make(deal)
    admin_client.post(editor_url(deal, f"{line.pk}/edit/"), edit_data(line, frequency="weekly", term="26"))
    line.refresh_from_db()
    assert (line.term_weeks, line.term_months) == (26, None)


def test_edit_form_and_cancel_render_in_place(admin_client, deal):
    line = line_make(deal)
    form = admin_client.get(editor_url(deal, f"{line.pk}/edit/"), **HTMX).content.decode()
    assert form.startswith(f'<tr id="line-{line.pk}"') and 'name="line' in form
    row = admin_client.get(editor_url(deal, f"{line.pk}/"), **HTMX).content.decode()
    assert row.lstrip().startswith(f'<tr id="line-{line.pk}"') and "Edit" in row


# --- clone, delete, reorder -------------------------------------------------------------------------------------------


def test_clone_puts_a_copy_right_below(admin_client, deal):
    first, second = line_make(deal, name="A", position=0), line_make(deal, name="B", position=1)
    admin_client.post(editor_url(deal, f"{first.pk}/clone/"), **HTMX)
    assert list(LineItem.objects.filter(deal=deal).values_list("name", "position")) == [
        ("A", 0),
        ("A", 1),
        ("B", 2),
    ]
    assert LineItem.objects.get(pk=second.pk).position == 2


def test_delete_asks_first_then_removes_the_line(admin_client, deal):
    line = line_make(deal, name="Old scanner")
    page = admin_client.get(editor_url(deal, f"{line.pk}/delete/")).content.decode()
    assert "Remove “Old scanner” from the line items?" in page
    assert LineItem.objects.filter(pk=line.pk).exists()
    editor = admin_client.get(editor_url(deal)).content.decode()
    assert 'data-confirm="Remove “Old scanner” from the line items?"' in editor
    admin_client.post(editor_url(deal, f"{line.pk}/delete/"), **HTMX)
    assert not LineItem.objects.filter(pk=line.pk).exists()


def test_reorder_persists_positions_in_one_statement(admin_client, deal):
    a, b, c = (line_make(deal, name=n, position=i) for i, n in enumerate("ABC"))
    owner = owner_for("deal", deal)
    with CaptureQueriesContext(connection) as queries:
        services.line_items_reorder(owner=owner, ids=[c.pk, a.pk, b.pk], actor=None)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(writes) == 1 and writes[0].startswith('UPDATE "billing_lineitem" SET "position" = CASE')
    assert list(LineItem.objects.filter(deal=deal).values_list("name", flat=True)) == ["C", "A", "B"]
    admin_client.post(editor_url(deal, "reorder/"), {"order": f"{b.pk},{c.pk},{a.pk}"}, **HTMX)
    assert list(LineItem.objects.filter(deal=deal).values_list("name", flat=True)) == ["B", "C", "A"]
    admin_client.post(editor_url(deal, f"{a.pk}/move/"), {"direction": "up"}, **HTMX)
    assert list(LineItem.objects.filter(deal=deal).values_list("name", flat=True)) == ["B", "A", "C"]


def test_reorder_with_a_stale_list_changes_nothing(admin_client, deal):
    line_make(deal, name="A", position=0)
    b = line_make(deal, name="B", position=1)
    response = admin_client.post(editor_url(deal, "reorder/"), {"order": f"{b.pk}"}, **HTMX)
    assert "The line items changed while you were sorting them." in response.content.decode()
    assert list(LineItem.objects.filter(deal=deal).values_list("name", flat=True)) == ["A", "B"]


def test_lines_of_another_deal_are_not_found(admin_client, deal, stage):
    other = deal_make(stage, name="Other")
    line = line_make(other)
    assert admin_client.post(editor_url(deal, f"{line.pk}/delete/")).status_code == 404
    assert admin_client.get(editor_url(deal, f"{line.pk}/edit/")).status_code == 404
    assert LineItem.objects.filter(pk=line.pk).exists()


def test_visible_columns_are_remembered_per_user(admin_client, deal, vat21):
    line_make(deal, sku="SCN-9", tax_rate=vat21)
    assert "SCN-9" not in admin_client.get(editor_url(deal)).content.decode()
    admin_client.post(editor_url(deal, "columns/"), {"column": ["sku", "margin"]})
    page = admin_client.get(editor_url(deal)).content.decode()
    assert "SCN-9" in page and 'data-cell="margin"' in page and 'data-cell="tax"' not in page


# --- metrics ----------------------------------------------------------------------------------------------------------


def test_metrics_of_a_mixed_deal(admin_client, deal, vat21):
    line_make(deal, name="Setup", unit_price=Decimal("500"), tax_rate=vat21, position=0)
    line_make(
        deal,
        name="Licence",
        unit_price=Decimal("100"),
        unit_cost=Decimal("40"),
        frequency="monthly",
        term_months=12,
        tax_rate=vat21,
        position=1,
    )
    summary = pricing.document_summary(
        [line_input(line) for line in LineItem.objects.filter(deal=deal).select_related("tax_rate")], currency="EUR"
    )
    assert (summary.mrr, summary.arr, summary.tcv, summary.acv) == (
        Decimal("100.00"),
        Decimal("1200.00"),
        Decimal("1700.00"),
        Decimal("1700.00"),
    )
    html = text_of(admin_client.get(editor_url(deal)))
    assert metric(html, "mrr") == "€100.00"
    assert metric(html, "arr") == "€1,200.00"
    assert metric(html, "tcv") == "€1,700.00"
    assert metric(html, "acv") == "€1,700.00"
    assert metric(html, "margin") == "€560.00"
    deal_page = text_of(admin_client.get(f"/crm/deals/{deal.pk}/"))
    assert metric(deal_page, "tcv") == "€1,700.00"
    assert "Setup" in deal_page and "Licence" in deal_page


def test_a_longer_term_spreads_acv_over_its_years(admin_client, deal):
    line_make(deal, name="Licence", unit_price=Decimal("100"), frequency="monthly", term_months=36)
    html = text_of(admin_client.get(editor_url(deal)))
    assert (metric(html, "arr"), metric(html, "tcv"), metric(html, "acv")) == ("€1,200.00", "€3,600.00", "€1,200.00")


# --- one-time adjustments and the deal amount -------------------------------------------------------------------------


def adjustment_data(**changes):
    data = {"kind": "discount", "label": "Launch discount", "mode": "percent", "value": "10"} | changes
    return {f"adjustment-{key}": value for key, value in data.items()}


def test_one_time_adjustments_change_the_total_not_the_metrics(admin_client, deal, vat21):
    line_make(deal, unit_price=Decimal("1000"), tax_rate=vat21)
    response = admin_client.post(editor_url(deal).replace("line-items/", "adjustments/new/"), adjustment_data(), **HTMX)
    html = text_of(response)
    assert DocumentAdjustment.objects.get(deal=deal).percent == Decimal(10)
    # 1000 - 10% = 900, VAT 21% on 900 = 189: total 1089; TCV stays 1000.
    assert metric(html, "total") == "€1,089.00"
    assert metric(html, "tcv") == "€1,000.00"
    assert "−€100.00" in html


def test_an_adjustment_above_the_subtotal_is_refused(admin_client, deal):
    line_make(deal, unit_price=Decimal("100"))
    url = f"/billing/deals/{deal.pk}/adjustments/new/"
    response = admin_client.post(url, adjustment_data(mode="amount", value="150"), **HTMX)
    assert response["HX-Retarget"] == "#adjustment-form"
    assert "The discount is more than the subtotal." in response.content.decode()
    assert not DocumentAdjustment.objects.exists()


def test_adjustments_are_edited_and_removed(admin_client, deal):
    line_make(deal, unit_price=Decimal("100"))
    adjustment = DocumentAdjustment.objects.create(deal=deal, kind="fee", label="Shipping", amount=Decimal("25"))
    url = f"/billing/deals/{deal.pk}/adjustments/{adjustment.pk}/"
    changes = {"kind": "fee", "label": "Freight", "mode": "amount", "value": "30"}
    admin_client.post(url, {f"adjustment{adjustment.pk}-{key}": value for key, value in changes.items()})
    adjustment.refresh_from_db()
    assert (adjustment.label, adjustment.amount, adjustment.percent) == ("Freight", Decimal(30), None)
    admin_client.post(f"{url}delete/")
    assert not DocumentAdjustment.objects.exists()


def test_save_offers_the_lines_tcv_as_deal_amount_and_ignores_adjustments(admin_client, stage, vat21):
    deal = deal_make(stage, amount=Decimal("5000"))
    line_make(deal, name="Setup", unit_price=Decimal("500"), tax_rate=vat21)
    line_make(deal, name="Licence", unit_price=Decimal("100"), frequency="monthly", term_months=12, position=1)
    DocumentAdjustment.objects.create(deal=deal, kind="discount", label="Launch", percent=Decimal(10))
    DocumentAdjustment.objects.create(deal=deal, kind="fee", label="Shipping", amount=Decimal(50))
    page = text_of(admin_client.get(editor_url(deal, "save/")))
    assert "Update deal amount to €1,700.00" in page
    assert "Keep €5,000.00" in page
    response = admin_client.post(editor_url(deal, "save/"), {"update": "yes"})
    assert response.status_code == 302 and response["Location"] == f"/crm/deals/{deal.pk}/"
    deal.refresh_from_db()
    assert (deal.amount.amount, str(deal.amount.currency)) == (Decimal("1700.00"), "EUR")
    assert OutboxEvent.objects.filter(name="deal.updated").exists()
    # Nothing more to ask once the amount matches.
    assert admin_client.get(editor_url(deal, "save/"))["Location"] == f"/crm/deals/{deal.pk}/"


def test_save_can_keep_the_deal_amount(admin_client, stage):
    deal = deal_make(stage, amount=Decimal("5000"))
    line_make(deal, unit_price=Decimal("100"))
    admin_client.post(editor_url(deal, "save/"), {"update": "no"})
    deal.refresh_from_db()
    assert deal.amount.amount == Decimal("5000")


# --- currency and the deal panel --------------------------------------------------------------------------------------


def test_a_deal_without_currency_uses_the_company_currency(admin_client, stage):
    OrganizationProfile.objects.filter(pk=1).update(default_currency="NOK")
    organization_profile_forget()
    deal = deal_make(stage, currency="")
    assert owner_for("deal", deal).currency == "NOK"
    product = product_make(prices={"EUR": "199.99", "NOK": "2290"})
    admin_client.post(editor_url(deal, "library/"), {"product": [product.pk]})
    line = LineItem.objects.get(deal=deal)
    assert (line.currency, line.unit_price) == ("NOK", Decimal("2290"))


def test_the_deal_panel_shows_the_total_in_the_company_currency(admin_client, stage):
    deal = deal_make(stage, currency="NOK")
    line_make(deal, unit_price=Decimal("10000"), currency="NOK")
    ExchangeRate.objects.create(base="EUR", quote="NOK", rate=Decimal("11.68"), valid_from=date(2020, 1, 1))
    page = text_of(admin_client.get(f"/crm/deals/{deal.pk}/"))
    assert "≈ €856.16 at 1 NOK = 0.0856 EUR" in page
    assert metric(page, "total") == "NOK10,000.00"


def test_the_deal_panel_says_when_no_rate_is_known(admin_client, stage):
    deal = deal_make(stage, currency="NOK")
    line_make(deal, unit_price=Decimal("10000"), currency="NOK")
    page = text_of(admin_client.get(f"/crm/deals/{deal.pk}/"))
    assert "No exchange rate from NOK to EUR yet" in page


def test_read_only_users_see_the_lines_but_cannot_change_them(deal):
    line = line_make(deal, name="Scanner")
    client = client_for(Role.READ_ONLY)
    page = client.get(editor_url(deal)).content.decode()
    assert "Scanner" in page and "Save line items" not in page and 'draggable="true"' not in page
    assert client.post(editor_url(deal, f"{line.pk}/edit/"), edit_data(line, quantity="9")).status_code == 403
    assert client.post(editor_url(deal, f"{line.pk}/delete/")).status_code == 403
    assert client.post(editor_url(deal, "reorder/"), {"order": str(line.pk)}).status_code == 403
    assert client.get(editor_url(deal, "save/")).status_code == 403
    assert LineItem.objects.get(pk=line.pk).quantity == 1


def test_the_editor_reads_a_deal_in_a_fixed_number_of_queries(admin_client, deal, vat21, django_assert_max_num_queries):
    for i in range(3):
        line_make(deal, name=f"Line {i}", tax_rate=vat21, position=i)
    admin_client.get(editor_url(deal))
    for i in range(3, 20):
        line_make(deal, name=f"Line {i}", tax_rate=vat21, position=i)
    with django_assert_max_num_queries(25):
        assert admin_client.get(editor_url(deal)).status_code == 200


def test_every_form_has_a_page_of_its_own_without_javascript(admin_client, deal):
    line = line_make(deal, name="Scanner")
    adjustment = DocumentAdjustment.objects.create(deal=deal, kind="fee", label="Shipping", amount=Decimal("25"))
    for tail, text in [
        ("library/", "Add from the product library"),
        ("custom/", "Custom line item"),
        (f"{line.pk}/edit/", "Edit “Scanner”"),
        (f"{line.pk}/delete/", "Remove “Scanner” from the line items?"),
    ]:
        response = admin_client.get(editor_url(deal, tail))
        assert response.status_code == 200, tail
        assert text in response.content.decode() and "hx-disable" in response.content.decode(), tail
    response = admin_client.get(f"/billing/deals/{deal.pk}/adjustments/{adjustment.pk}/")
    assert response.status_code == 200 and 'value="Shipping"' in response.content.decode()
    response = admin_client.post(editor_url(deal, f"{line.pk}/edit/"), edit_data(line, quantity="4"))
    assert response.status_code == 302 and response["Location"] == editor_url(deal)
    response = admin_client.post(editor_url(deal, f"{line.pk}/edit/"), edit_data(line, quantity="-4"))
    assert response.status_code == 400


def test_editing_crm_records_is_not_enough_for_a_custom_line_item(deal, tenant_alpha):
    """A user who may edit deals and their lines, but lacks the custom line item permission, gets 403."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    from tests.conftest import user_make

    user = user_make(Role.READ_ONLY)
    user.user_permissions.add(Permission.objects.get(codename="edit_crm"))
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user)
    page = client.get(editor_url(deal))
    assert page.status_code == 200 and "Custom line item" not in page.content.decode()
    assert client.post(editor_url(deal, "custom/"), custom_data()).status_code == 403
    assert not LineItem.objects.exists()


def test_an_absurd_line_is_refused_and_the_deal_page_still_opens(admin_client, deal):
    response = admin_client.post(
        editor_url(deal, "custom/"),
        custom_data(quantity="999999999999", unit_price="999999999999", frequency="weekly", term_weeks="1200"),
    )
    assert response.status_code in (200, 302, 400)
    assert admin_client.get(f"/crm/deals/{deal.pk}/").status_code == 200
    assert admin_client.get(editor_url(deal)).status_code == 200
