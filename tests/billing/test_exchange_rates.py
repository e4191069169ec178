"""Exchange rates: admins enter them under Settings; reports convert with the latest rate valid on a date, entered
either way round."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from billing.models import ExchangeRate
from billing.selectors.exchange_rates import convert, exchange_rate_on
from commerce_hub.accounts.models import AuditEntry, Role
from tests.conftest import user_make

URL = "/billing/settings/exchange-rates/"


def _rate(base, quote, rate, valid_from):
    return ExchangeRate.objects.create(base=base, quote=quote, rate=Decimal(rate), valid_from=valid_from)


def test_convert_uses_the_latest_direct_rate_valid_on_the_date(tenant_alpha):
    _rate("EUR", "NOK", "11.50", date(2026, 1, 1))
    _rate("EUR", "NOK", "11.70", date(2026, 3, 1))
    assert convert(Decimal("100"), "EUR", "NOK", date(2026, 2, 28)) == Decimal("1150.00")
    assert convert(Decimal("100"), "EUR", "NOK", date(2026, 3, 1)) == Decimal("1170.00")
    assert convert(Decimal("100"), "EUR", "NOK", date(2027, 1, 1)) == Decimal("1170.00")


def test_convert_before_the_first_rate_or_without_any_gives_none(tenant_alpha):
    _rate("EUR", "NOK", "11.50", date(2026, 1, 1))
    assert convert(Decimal("100"), "EUR", "NOK", date(2025, 12, 31)) is None
    assert convert(Decimal("100"), "EUR", "USD", date(2026, 6, 1)) is None


def test_convert_uses_the_inverse_of_a_rate_entered_the_other_way(tenant_alpha):
    _rate("EUR", "NOK", "11.68", date(2026, 1, 1))
    # 10,000 NOK / 11.68 = 856.1643... EUR, rounded once at the end.
    assert convert(Decimal("10000"), "NOK", "EUR", date(2026, 5, 1)) == Decimal("856.16")
    quote = exchange_rate_on("NOK", "EUR", date(2026, 5, 1))
    assert quote.inverse
    assert quote.display() == "1 NOK = 0.0856 EUR"


def test_the_newer_rate_wins_whichever_way_it_was_entered(tenant_alpha):
    _rate("EUR", "NOK", "11.00", date(2026, 1, 1))
    _rate("NOK", "EUR", "0.08", date(2026, 2, 1))  # 1 EUR = 12.5 NOK from February
    assert convert(Decimal("2"), "EUR", "NOK", date(2026, 1, 31)) == Decimal("22.00")
    assert convert(Decimal("2"), "EUR", "NOK", date(2026, 2, 1)) == Decimal("25.00")
    # On the same day both ways round, the direct rate is the one used.
    _rate("EUR", "NOK", "12.00", date(2026, 2, 1))
    assert convert(Decimal("2"), "EUR", "NOK", date(2026, 2, 1)) == Decimal("24.00")
    assert convert(Decimal("100"), "NOK", "EUR", date(2026, 2, 1)) == Decimal("8.00")


def test_same_currency_converts_to_itself(tenant_alpha):
    assert convert(Decimal("12.345"), "EUR", "EUR", date(2026, 1, 1)) == Decimal("12.35")


def test_admin_adds_a_rate_and_sees_it_listed(admin_client):
    response = admin_client.post(URL, {"base": "NOK", "quote": "EUR", "rate": "0.0856", "valid_from": "2026-01-01"})
    assert response.status_code == 302
    row = ExchangeRate.objects.get()
    assert (row.base, row.quote, row.rate, row.valid_from) == ("NOK", "EUR", Decimal("0.0856"), date(2026, 1, 1))
    assert AuditEntry.objects.filter(action="billing.exchange_rate_created").count() == 1
    page = admin_client.get(URL).content.decode()
    assert "1 NOK = 0.0856 EUR" in page
    assert "Exchange rates" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"rate": "0"}, "rate", "Enter a rate above 0."),
        ({"rate": "-1.5"}, "rate", "Enter a rate above 0."),
        ({"rate": "abc"}, "rate", "“abc” is not a number."),
        ({"rate": "NaN"}, "rate", "“NaN” is not a number."),
        ({"rate": "0.123456789"}, "rate", "Use at most 8 decimals."),
        ({"quote": "NOK"}, "quote", "Pick two different currencies."),
        ({"valid_from": ""}, "valid_from", "This field is required."),
    ],
)
def test_bad_rates_are_refused_next_to_the_field(admin_client, data, field, message):
    response = admin_client.post(
        URL, {"base": "NOK", "quote": "EUR", "rate": "0.0856", "valid_from": "2026-01-01"} | data
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert not ExchangeRate.objects.exists()


def test_a_second_rate_for_the_same_pair_and_day_is_refused(admin_client):
    _rate("NOK", "EUR", "0.0856", date(2026, 1, 1))
    response = admin_client.post(URL, {"base": "NOK", "quote": "EUR", "rate": "0.09", "valid_from": "2026-01-01"})
    assert response.status_code == 400
    assert response.context["form"].errors["valid_from"] == ["There is already a rate for NOK → EUR from 2026-01-01."]
    assert ExchangeRate.objects.get().rate == Decimal("0.0856")


def test_admin_edits_and_deletes_a_rate(admin_client):
    row = _rate("NOK", "EUR", "0.0856", date(2026, 1, 1))
    response = admin_client.post(
        f"{URL}{row.pk}/", {"base": "NOK", "quote": "EUR", "rate": "0.0861", "valid_from": "2026-01-02"}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.rate, row.valid_from) == (Decimal("0.0861"), date(2026, 1, 2))
    assert "Delete the rate 1 NOK = 0.0861 EUR?" in admin_client.get(f"{URL}{row.pk}/delete/").content.decode()
    assert admin_client.post(f"{URL}{row.pk}/delete/").status_code == 302
    assert not ExchangeRate.objects.exists()


@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE, Role.READ_ONLY])
def test_only_admins_manage_rates(tenant_alpha, role):
    row = _rate("NOK", "EUR", "0.0856", date(2026, 1, 1))
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, {"base": "EUR", "quote": "USD", "rate": "1.1", "valid_from": "2026-01-01"}).status_code == 403
    )
    assert client.post(f"{URL}{row.pk}/delete/").status_code == 403
    assert ExchangeRate.objects.count() == 1
