"""Hostile input on a payment link's buyer page: absurd quantities, NUL bytes, huge fields and a link edited while
the buyer is on the page never give a 500 and never bill an amount the server did not price."""

from decimal import Decimal

import pytest

from billing.models import Invoice, LineItem, PaymentLinkPurchase
from tests.billing.payment_link_data import buyer_form, hosted_url, link_make
from tests.payments.checkout_helpers import buyer

ABSURD = ["10" + "0" * 30, "-1", "0", "1e5", "abc", "1.5", "", " ", "\x00", "9" * 5000, "0x10"]


@pytest.mark.parametrize("quantity", ABSURD)
def test_an_absurd_quantity_on_the_page_prices_the_minimum(tenant_alpha, quantity):
    link = link_make(adjustable_quantity=True, min_quantity=1, max_quantity=10)
    response = buyer().get(hosted_url(link), {"quantity": quantity})
    assert response.status_code == 200
    assert "181.50" in response.content.decode()  # 121.00 + 60.50 for the minimum quantity
    response = buyer().get(hosted_url(link), {"quantity": quantity}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200


@pytest.mark.parametrize("quantity", ABSURD)
def test_an_absurd_quantity_posted_buys_nothing(tenant_alpha, quantity):
    link = link_make(adjustable_quantity=True, min_quantity=1, max_quantity=10)
    response = buyer().post(hosted_url(link), buyer_form(quantity=quantity))
    assert response.status_code == 422
    assert not PaymentLinkPurchase.objects.exists() and not Invoice.objects.exists()


@pytest.mark.parametrize("quantity", ["10" + "0" * 30, "-1", "abc", "5"])
def test_a_quantity_on_a_fixed_link_is_ignored(tenant_alpha, quantity):
    link = link_make()
    assert buyer().get(hosted_url(link), {"quantity": quantity}).status_code == 200
    response = buyer().post(hosted_url(link), buyer_form(quantity=quantity))
    assert response.status_code == 302
    assert PaymentLinkPurchase.objects.get().quantity == 1
    assert Invoice.objects.get().total == Decimal("181.50")


@pytest.mark.parametrize("field", ["email", "name", "company_name", "idempotency_key"])
@pytest.mark.parametrize("value", ["a\x00b", "x" * (10 * 1024 * 1024)])
def test_nul_bytes_and_huge_fields_are_refused_inline(tenant_alpha, field, value):
    link = link_make()
    response = buyer().post(hosted_url(link), buyer_form(**{field: value}))
    assert response.status_code in (400, 413, 422)
    assert not PaymentLinkPurchase.objects.exists()


def test_a_nul_byte_in_the_address_is_refused(tenant_alpha):
    link = link_make(collect_billing_address=True, collect_phone=True)
    form = buyer_form(line1="Main\x00 1", postal_code="1011", city="Oslo", country="NO", phone="+47\x00")
    response = buyer().post(hosted_url(link), form)
    assert response.status_code == 422
    assert not PaymentLinkPurchase.objects.exists()


def test_a_price_changed_while_the_buyer_is_on_the_page_is_billed_as_the_server_prices_it(tenant_alpha):
    link = link_make()
    client = buyer()
    assert "181.50" in client.get(hosted_url(link)).content.decode()
    LineItem.objects.filter(payment_link=link, name="Setup").update(unit_price=Decimal("200.00"))
    response = client.post(hosted_url(link), buyer_form())
    assert response.status_code == 302
    assert Invoice.objects.get().total == Decimal("302.50")  # 242.00 + 60.50, never a price the buyer posted


def test_posted_prices_are_ignored(tenant_alpha):
    link = link_make()
    response = buyer().post(hosted_url(link), buyer_form(total="0.01", unit_price="0", amount="0.01"))
    assert response.status_code == 302
    assert Invoice.objects.get().total == Decimal("181.50")
