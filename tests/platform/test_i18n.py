from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from commerce_hub.money import money_format, quantize
from crm.models import Company


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Companies", "Invoices", "Settings", "Sign out"]),
        ("nl", ["Bedrijven", "Facturen", "Instellingen", "Uitloggen"]),
        ("nb", ["Selskaper", "Fakturaer", "Innstillinger", "Logg ut"]),
    ],
)
def test_the_shell_speaks_the_users_language(admin_client, admin_user, language, labels):
    admin_user.language = language
    admin_user.save(update_fields=["language"])
    body = admin_client.get("/").content.decode()
    assert f'<html lang="{language}"' in body
    for label in labels:
        assert label in body


def test_switching_language_is_saved_on_the_user(admin_client, admin_user):
    response = admin_client.post("/language/", {"language": "nb", "next": "/crm/companies/"})
    assert response["Location"] == "/crm/companies/"
    admin_user.refresh_from_db()
    assert admin_user.language == "nb"
    assert "Selskaper" in admin_client.get("/crm/companies/").content.decode()
    # Unknown languages and off-site redirects are ignored.
    admin_client.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    admin_user.refresh_from_db()
    assert admin_user.language == "nb"


def test_public_site_switches_language_by_cookie(db):
    client = Client(HTTP_HOST="localhost")
    client.post("/language/", {"language": "nl", "next": "/signup/"})
    body = client.get("/signup/").content.decode()
    assert '<html lang="nl"' in body and "Maak je werkruimte aan" in body


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("en", "1234.5", "EUR", "€1,234.50"),
        ("nl", "1234.5", "EUR", "€\xa01.234,50"),
        ("nb", "1234.5", "NOK", "1\xa0234,50\xa0kr"),
        ("nl", "0.005", "EUR", "€\xa00,01"),
        ("en", "1234.5", "JPY", "JP¥1,235"),
    ],
)
def test_money_follows_the_language_and_the_currency_precision(language, amount, currency, expected):
    with translation.override(language):
        assert money_format(Decimal(amount), currency) == expected


def test_quantize_rounds_half_up_at_the_currency_precision():
    assert quantize(Decimal("2.675"), "EUR") == Decimal("2.68")
    assert quantize(Decimal("-2.675"), "EUR") == Decimal("-2.68")
    assert quantize(Decimal("10.5"), "JPY") == Decimal("11")
    assert quantize(Decimal("1.0005"), "KWD") == Decimal("1.001")


def test_company_page_in_dutch_shows_dutch_dates_and_money(admin_client, admin_user):
    from crm.demo_data import default_pipeline_ensure
    from crm.models import Deal

    pipeline = default_pipeline_ensure()
    company = Company.objects.create(name="Tulpenveld", country="NL")
    Deal.objects.create(
        name="Bollen",
        amount=Decimal("12500.00"),
        amount_currency="EUR",
        pipeline=pipeline,
        stage=pipeline.stages.first(),
        company=company,
    )
    admin_user.language = "nl"
    admin_user.save(update_fields=["language"])
    body = admin_client.get(f"/crm/companies/{company.pk}/").content.decode()
    assert "€\xa012.500,00" in body
    assert "Nederland" in body
