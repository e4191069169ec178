"""Money: every ISO 4217 precision (3-decimal KWD priced, stored, shown and printed to the fils), the one upper
bound of every amount (checked in forms, services and imports; a record already beyond it still opens), the late
fee's own currency, and django-money's Money at service boundaries."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from djmoney.money import Money

from billing import pdf, pricing
from billing.editor import owner_for
from billing.forms.invoices import PaymentForm
from billing.models import ExchangeRate, Invoice, InvoiceSettings, LateFeeMode, LineItem
from billing.services import line_items as line_services
from billing.services.invoice_settings import late_fee_settings_update
from billing.services.invoices import invoice_finalize, invoice_finalize_check
from billing.services.products import PriceInput, ProductInput, product_values_errors
from billing.services.reminders import late_fee_amount
from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX, MONEY_MAX_DIGITS, money, money_check, money_format
from crm.fields import parse_value, spec_map
from crm.forms import initial_value
from crm.models import Deal
from tests.billing.invoicing import draft_make, finalized_make, key, seller_ready
from tests.billing.test_invoice_pdf import bank, media, text_of  # noqa: F401
from tests.billing.test_line_items import custom_data, deal_make, editor_url, line_make, stage  # noqa: F401

TOO_LARGE = "Enter an amount below 1,000,000,000,000."


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode()).replace("\xa0", " ")


# --- every ISO 4217 precision -----------------------------------------------------------------------------------------


def test_a_kwd_invoice_prices_stores_and_shows_three_decimals(tenant_alpha, admin_user, admin_client):
    invoice = finalized_make(actor=admin_user, currency="KWD", lines=(("Survey", "3", "1.2345", "BTW 21%"),))

    # 3 x 1.2345 = 3.7035 -> 3.704 (half up, KWD has 3 decimals in Babel); VAT 21% of 3.704 = 0.77784 -> 0.778.
    line = invoice.snapshot["lines"][0]
    assert (line["unit_price"], line["net"]) == ("1.2345", "3.704")
    assert invoice.snapshot["vat_groups"][0] | {} == {
        "rate": "21.00",
        "label": "BTW 21%",
        "reverse_charge": False,
        "base": "3.704",
        "vat": "0.778",
    }
    assert (invoice.snapshot["subtotal"], invoice.snapshot["vat_total"], invoice.snapshot["total"]) == (
        "3.704",
        "0.778",
        "4.482",
    )
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("4.4820")  # numeric(20, 4): no fils lost

    page = page_text(admin_client.get(f"/billing/invoices/{invoice.pk}/"))
    assert "KWD1.2345" in page.replace(" ", "")  # the unit price with every decimal it has, not 1.235
    for amount in ("KWD3.704", "KWD0.778", "KWD4.482"):
        assert amount in page.replace(" ", "")
    assert "KWD1.235" not in page.replace(" ", "")


def test_a_kwd_invoice_pdf_prints_fils(media, bank, admin_user):  # noqa: F811
    invoice = finalized_make(actor=admin_user, currency="KWD", lines=(("Survey", "3", "1.2345", "BTW 21%"),))
    text = text_of(pdf.invoice_pdf_bytes(invoice)).replace(" ", "")

    assert "Survey3KWD1.234521%KWD3.704" in text
    assert "TotalKWD4.482" in text


def test_money_rounds_to_babels_precision_in_one_place():
    assert money(Decimal("3.7035"), "KWD") == Money("3.704", "KWD")
    assert money(Decimal("3.7035"), "EUR") == Money("3.70", "EUR")
    assert money(Decimal("3.5"), "JPY") == Money("4", "JPY")
    assert money(Decimal("1.23455"), "CLF") == Money("1.2346", "CLF")  # 4 decimals: the widest ISO 4217 unit
    assert money_format(Money("4.482", "KWD"), locale="en_IE").replace("\xa0", "") == "KWD4.482"


def test_deal_amounts_keep_three_decimals(tenant_alpha, stage):  # noqa: F811
    deal = deal_make(stage, currency="KWD", amount=Money("1234.567", "KWD"))
    deal.refresh_from_db()
    assert deal.amount == Money("1234.567", "KWD")
    # The edit box shows the currency's decimals, not the column's four.
    spec = spec_map("deal")["amount"]
    assert initial_value(deal, spec) == "1234.567"
    deal.amount = Money("1250.5", "EUR")
    assert initial_value(deal, spec) == "1250.50"
    deal.amount = Money("1250.5055", "EUR")
    assert initial_value(deal, spec) == "1250.5055"


# --- the upper bound --------------------------------------------------------------------------------------------------


def test_the_bound_fits_the_columns_with_room_for_ten_thousand_amounts():
    assert Decimal("999999999999.9999") == MONEY_MAX
    assert Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES) > MONEY_MAX * 10_000
    money_check(MONEY_MAX)
    with pytest.raises(ValidationError) as error:
        money_check(Decimal("1e12"))
    assert error.value.messages == [TOO_LARGE]


def test_the_engine_refuses_a_line_and_a_document_beyond_the_bound():
    line = pricing.LineInput(quantity=Decimal("1000000"), unit_price=Decimal("1000000"), currency="EUR")
    message = "This line comes to 1,000,000,000,000 or more; lower the quantity or the price."
    assert pricing.validate_line(line) == [("total", message)]
    just_below = pricing.LineInput(quantity=Decimal("1"), unit_price=Decimal("999999999999.99"), currency="EUR")
    assert pricing.validate_line(just_below) == []

    half = pricing.LineInput(quantity=Decimal("1"), unit_price=Decimal("600000000000"), currency="EUR")
    with pytest.raises(pricing.PricingError) as error:
        pricing.document_summary([half, half], currency="EUR")
    assert error.value.errors == [
        ("total", "The document comes to 1,000,000,000,000 or more; split it over several documents.")
    ]


def test_the_line_editor_refuses_a_line_beyond_the_bound_next_to_the_quantity(admin_client, stage):  # noqa: F811
    deal = deal_make(stage)
    response = admin_client.post(
        editor_url(deal, "custom/"), custom_data(quantity="9990000", unit_price="99999999999.99")
    )
    assert response.status_code == 400  # the editor's form answers with its errors
    assert "This line comes to 1,000,000,000,000 or more; lower the quantity or the price." in page_text(response)
    assert not LineItem.objects.exists()


def test_a_fee_cannot_carry_the_document_past_the_bound(tenant_alpha, stage):  # noqa: F811
    deal = deal_make(stage)
    line_make(deal, quantity=Decimal(1), unit_price=Decimal("999999999999"))
    values = line_services.AdjustmentValues(kind="fee", label="Handling", mode="amount", value=Decimal("5"))
    with pytest.raises(ValidationError) as error:
        line_services.adjustment_create(owner=owner_for("deal", deal), values=values, actor=None)
    assert error.value.message_dict == {
        "value": ["The document comes to 1,000,000,000,000 or more; split it over several documents."]
    }


def test_a_deal_amount_from_lines_beyond_the_bound_is_refused(tenant_alpha, stage):  # noqa: F811
    deal = deal_make(stage)
    # 100 billion a month for 5 years: each line fits, the contract value (6 trillion) does not.
    line_make(deal, unit_price=Decimal("100000000000"), frequency="monthly", term_months=60)
    with pytest.raises(ValidationError) as error:
        line_services.deal_amount_update_from_lines(owner=owner_for("deal", deal), actor=None)
    assert error.value.messages == [TOO_LARGE]
    assert Deal.objects.get(pk=deal.pk).amount is None


def test_deal_amount_update_takes_the_confirmed_amount_as_money(tenant_alpha, stage):  # noqa: F811
    deal = deal_make(stage, currency="EUR")
    line_make(deal, quantity=Decimal(3), unit_price=Decimal("1.235"), currency="EUR")
    owner = owner_for("deal", deal)
    with pytest.raises(ValidationError):
        line_services.deal_amount_update_from_lines(owner=owner, expected=Money("3.70", "EUR"), actor=None)
    line_services.deal_amount_update_from_lines(owner=owner, expected=Money("3.71", "EUR"), actor=None)
    assert Deal.objects.get(pk=deal.pk).amount == Money("3.71", "EUR")


def test_finalizing_beyond_the_bound_is_a_clear_error_not_an_overflow(tenant_alpha, admin_user, admin_client):
    seller_ready()
    invoice = draft_make(actor=admin_user, lines=(("Licence", "1", "1", None),))
    # Stored before the bound was checked: 1e18 does not fit numeric(20, 4), so finalizing it used to overflow.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_lineitem SET quantity = 1000000, unit_price = 999999999999 WHERE invoice_id = %s",
            [invoice.pk],
        )
    message = (
        "Some lines cannot be priced: lines[0].total: This line comes to 1,000,000,000,000 or more; "
        "lower the quantity or the price."
    )
    assert invoice_finalize_check(invoice) == [message]
    with pytest.raises(ValidationError) as error:
        invoice_finalize(invoice=invoice, actor=admin_user)
    assert error.value.messages == [message]

    # The draft, its line editor and the finalize page still open, and say what to fix.
    assert admin_client.get(f"/billing/invoices/{invoice.pk}/").status_code == 200
    editor = admin_client.get(f"/billing/invoices/{invoice.pk}/line-items/")
    assert editor.status_code == 200
    assert "This line comes to 1,000,000,000,000 or more" in page_text(editor)
    response = admin_client.post(f"/billing/invoices/{invoice.pk}/finalize/", key(), follow=True)
    assert response.status_code == 200
    assert "This line comes to 1,000,000,000,000 or more" in page_text(response)
    assert Invoice.objects.get(pk=invoice.pk).status == "draft"


def test_a_deal_already_holding_an_absurd_amount_and_line_still_opens(admin_client, stage):  # noqa: F811
    deal = deal_make(stage)
    line_make(deal, quantity=Decimal("999999"), unit_price=Decimal("999999999999"))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE crm_deal SET amount = 999999999999999.9999 WHERE id = %s", [deal.pk])

    page = admin_client.get(f"/crm/deals/{deal.pk}/")
    assert page.status_code == 200
    assert "too large: amounts stay below 1,000,000,000,000; correct it" in page_text(page)
    editor = admin_client.get(editor_url(deal))
    assert editor.status_code == 200
    assert "This line comes to 1,000,000,000,000 or more; lower the quantity or the price." in page_text(editor)


def test_forms_refuse_amounts_beyond_the_bound_next_to_the_field(tenant_alpha):
    form = PaymentForm({"amount": "1000000000000", "paid_on": "2026-12-01", "method": "bank_transfer"})
    assert form.errors == {"amount": [TOO_LARGE]}
    form = PaymentForm({"amount": "999999999999.99", "paid_on": "2026-12-01", "method": "bank_transfer"})
    assert form.is_valid()


def test_deal_amounts_are_bounded_in_edits_and_imports(tenant_alpha):
    spec = spec_map("deal")["amount"]
    assert parse_value(spec, "999999999999.9999") == Decimal("999999999999.9999")
    for raw, message in (
        ("1000000000000", TOO_LARGE),
        ("-1", "The amount cannot be negative."),
        ("1.23456", "Use at most 4 decimals."),
    ):
        with pytest.raises(ValidationError) as error:
            parse_value(spec, raw)
        assert error.value.messages == [message]


def test_product_prices_are_bounded_in_forms_and_imports(tenant_alpha):
    data = ProductInput(name="Turbine", sku="T-1", prices=[PriceInput(currency="EUR", unit_price=Decimal("1e12"))])
    assert product_values_errors(data)["prices.0.unit_price"] == ["Enter a number below 1,000,000,000,000."]


# --- the late fee's currency ------------------------------------------------------------------------------------------


def test_the_late_fee_keeps_its_currency_and_converts_for_other_invoices(tenant_alpha, admin_user):
    settings = late_fee_settings_update(
        actor=admin_user,
        late_fee_mode=LateFeeMode.FIXED,
        late_fee=Money("15", "EUR"),
        late_fee_interest_rate=Decimal("10.15"),
        late_fee_after_days=30,
    )
    settings = InvoiceSettings.objects.get(pk=settings.pk)
    assert settings.late_fee == Money("15.00", "EUR")
    today = date(2027, 1, 14)
    eur = Invoice(currency="EUR", due_date=date(2026, 12, 1))
    nok = Invoice(currency="NOK", due_date=date(2026, 12, 1))
    assert late_fee_amount(invoice=eur, due=Decimal(100), settings=settings, today=today) == Decimal("15.00")
    # No rate for EUR -> NOK: no fixed fee, rather than 15 NOK.
    assert late_fee_amount(invoice=nok, due=Decimal(100), settings=settings, today=today) == Decimal(0)
    ExchangeRate.objects.create(base="EUR", quote="NOK", rate=Decimal("11.6543"), valid_from=date(2027, 1, 1))
    assert late_fee_amount(invoice=nok, due=Decimal(100), settings=settings, today=today) == Decimal("174.81")


def test_the_late_fee_takes_the_decimals_of_its_currency(tenant_alpha, admin_user):
    values = {"late_fee_mode": "fixed", "late_fee_interest_rate": Decimal("10.15"), "late_fee_after_days": 30}
    settings = late_fee_settings_update(actor=admin_user, late_fee=Money("2.125", "KWD"), **values)
    assert InvoiceSettings.objects.get(pk=settings.pk).late_fee == Money("2.125", "KWD")
    with pytest.raises(ValidationError) as error:
        late_fee_settings_update(actor=admin_user, late_fee=Money("2.125", "EUR"), **values)
    assert error.value.message_dict == {"late_fee_amount": ["Use at most 2 decimals."]}


def test_imports_report_amounts_beyond_the_bound_by_row(admin_client, django_capture_on_commit_callbacks, eager_tasks):
    from tests.billing import test_product_import as products
    from tests.crm import test_import as crm

    job = products.check(
        admin_client, django_capture_on_commit_callbacks, "sku,name,price_EUR\nOK,Fine,10\nBIG,Turbine,1000000000000\n"
    )
    assert products.errors_of(job) == [(3, "price_EUR", "1000000000000", "Enter a number below 1,000,000,000,000.")]

    job = crm.validate(
        admin_client,
        django_capture_on_commit_callbacks,
        "deal",
        "Name,Amount,Stage\nFine,10,Contract sent\nBig,1000000000000,Contract sent\n",
    )
    assert crm.errors_of(job) == [(3, "Amount", "1000000000000", TOO_LARGE)]
