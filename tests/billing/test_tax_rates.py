"""The tax rates library: the defaults every tenant starts with, adding, editing, archiving and locking rates."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import TaxRate
from billing.selectors.tax_rates import tax_rates_active
from billing.services.tax_rates import tax_rates_lock
from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.events.models import OutboxEvent
from tests.conftest import user_make

LIST = "/billing/settings/tax-rates/"
LOCKED = "This rate is on a finalized document; archive it and add a new one"


def rates():
    return list(TaxRate.objects.order_by("country", "position").values_list("name", "rate", "category", "country"))


def add(client, **data):
    form = {"new-name": "", "new-rate": "", "new-category": "standard", "new-country": "NL"}
    form.update({f"new-{key}": value for key, value in data.items()})
    return client.post(LIST, form)


def test_tenants_start_with_the_dutch_and_norwegian_vat_rates(tenant_alpha):
    assert rates() == [
        ("EU reverse charge", Decimal("0.00"), "reverse_charge", ""),
        ("BTW 21%", Decimal("21.00"), "standard", "NL"),
        ("BTW 9%", Decimal("9.00"), "reduced", "NL"),
        ("BTW 0%", Decimal("0.00"), "zero", "NL"),
        ("MVA 25%", Decimal("25.00"), "standard", "NO"),
        ("MVA 15%", Decimal("15.00"), "reduced", "NO"),
        ("MVA 12%", Decimal("12.00"), "reduced", "NO"),
        ("MVA 0%", Decimal("0.00"), "zero", "NO"),
    ]


def test_the_settings_page_lists_rates_by_country(admin_client):
    response = admin_client.get(LIST)
    assert response.status_code == 200
    groups = [(code, [r.name for r in group]) for code, _name, group in response.context["groups"]]
    assert groups == [
        ("NL", ["BTW 21%", "BTW 9%", "BTW 0%"]),
        ("NO", ["MVA 25%", "MVA 15%", "MVA 12%", "MVA 0%"]),
        ("", ["EU reverse charge"]),
    ]
    body = response.content.decode()
    assert "Netherlands" in body and "Norway" in body and "Any country" in body
    assert 'aria-current="page">Tax rates</a>' in body


def test_admin_adds_a_rate_in_their_own_notation(admin_client, admin_user):
    admin_user.language = "nl"
    admin_user.save(update_fields=["language"])
    response = add(admin_client, name="BTW 10,5%", rate="10,5", category="reduced", country="NL", **{})
    assert response.status_code == 302
    rate = TaxRate.objects.get(name="BTW 10,5%")
    assert (rate.rate, rate.category, rate.country, rate.position) == (Decimal("10.50"), "reduced", "NL", 3)
    assert AuditEntry.objects.filter(action="tax_rate.created", object_id=str(rate.pk)).exists()
    assert OutboxEvent.objects.filter(name="tax_rate.created", payload={"id": rate.pk}).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Zero but not", "rate": "5", "category": "zero"}, "rate", "A zero rate is 0%."),
        (
            {"name": "Exempt 5", "rate": "5", "category": "exempt"},
            "rate",
            "An exempt rate is 0%: no VAT is charged.",
        ),
        (
            {"name": "RC 5", "rate": "5", "category": "reverse_charge"},
            "rate",
            "A reverse-charge rate is 0%: the buyer accounts for the VAT.",
        ),
        ({"name": "Too high", "rate": "100.01"}, "rate", "Enter a rate from 0 to 100."),
        ({"name": "Negative", "rate": "-1"}, "rate", "Enter a rate from 0 to 100."),
        ({"name": "Precise", "rate": "12.345"}, "rate", "Use at most 2 decimals."),
        ({"name": "Words", "rate": "twenty"}, "rate", "“twenty” is not a number."),
        ({"name": "btw 21%", "rate": "21"}, "name", "Another active rate is called “btw 21%”."),
        ({"name": "Somewhere", "rate": "10", "country": "XX"}, "country", "Select a valid choice."),
    ],
)
def test_bad_rates_are_refused_next_to_the_field(admin_client, data, field, message):
    before = rates()
    response = add(admin_client, **data)
    assert response.status_code == 400
    errors = response.context["form"].errors[field]
    assert any(e.startswith(message) for e in errors), errors
    assert rates() == before


def test_an_unlocked_rate_can_be_edited(admin_client):
    rate = TaxRate.objects.get(name="MVA 12%")
    response = admin_client.post(
        f"{LIST}{rate.pk}/", {"name": "MVA 12% (transport)", "rate": "12", "category": "reduced", "country": "NO"}
    )
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.name == "MVA 12% (transport)"
    entry = AuditEntry.objects.get(action="tax_rate.updated", object_id=str(rate.pk))
    assert (entry.before["name"], entry.after["name"]) == ("MVA 12%", "MVA 12% (transport)")


def test_a_locked_rate_cannot_be_edited_only_archived(admin_client):
    rate = TaxRate.objects.get(name="BTW 21%")
    assert tax_rates_lock(tax_rate_ids=[rate.pk]) == 1
    assert tax_rates_lock(tax_rate_ids=[rate.pk]) == 0  # locking twice changes nothing

    page = admin_client.get(f"{LIST}{rate.pk}/")
    assert LOCKED in page.content.decode()
    assert page.context["form"].fields["rate"].disabled

    response = admin_client.post(f"{LIST}{rate.pk}/", {"name": "BTW 22%", "rate": "22", "category": "standard"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [LOCKED]
    rate.refresh_from_db()
    assert (rate.name, rate.rate) == ("BTW 21%", Decimal("21.00"))

    response = admin_client.post(f"{LIST}{rate.pk}/archive/", {"archived": "1"})
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.is_archived
    assert rate not in tax_rates_active()
    # And a new rate may now take the old name.
    assert add(admin_client, name="BTW 21%", rate="21", category="standard").status_code == 302


def test_the_service_refuses_a_locked_rate_too(tenant_alpha):
    from django.core.exceptions import ValidationError

    from billing.services.tax_rates import tax_rate_update

    rate = TaxRate.objects.get(name="BTW 9%")
    TaxRate.objects.filter(pk=rate.pk).update(locked_at=timezone.now())
    with pytest.raises(ValidationError) as exc:
        tax_rate_update(tax_rate=rate, name="BTW 9%", rate=Decimal("8"), category="reduced", country="NL", actor=None)
    assert exc.value.messages == [LOCKED]


def test_archive_and_unarchive(admin_client):
    rate = TaxRate.objects.get(name="MVA 15%")
    admin_client.post(f"{LIST}{rate.pk}/archive/", {"archived": "1"})
    assert [r.name for r in tax_rates_active().filter(country="NO")] == ["MVA 25%", "MVA 12%", "MVA 0%"]
    admin_client.post(f"{LIST}{rate.pk}/archive/", {"archived": "0"})
    assert [r.name for r in tax_rates_active().filter(country="NO")] == ["MVA 25%", "MVA 15%", "MVA 12%", "MVA 0%"]
    assert list(
        AuditEntry.objects.filter(object_id=str(rate.pk), object_type="billing.taxrate")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["tax_rate.archived", "tax_rate.unarchived"]


def test_unarchiving_refuses_a_name_an_active_rate_took(admin_client):
    rate = TaxRate.objects.get(name="BTW 9%")
    admin_client.post(f"{LIST}{rate.pk}/archive/", {"archived": "1"})
    add(admin_client, name="BTW 9%", rate="9", category="reduced")
    response = admin_client.post(f"{LIST}{rate.pk}/archive/", {"archived": "0"}, follow=True)
    assert "Another active rate is called “BTW 9%”; rename one of them first." in response.content.decode()
    rate.refresh_from_db()
    assert rate.is_archived


@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE, Role.READ_ONLY])
def test_only_settings_managers_reach_tax_rates(tenant_alpha, role):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    rate = TaxRate.objects.get(name="BTW 21%")
    assert client.get(LIST).status_code == 403
    assert add(client, name="Sneaky", rate="1").status_code == 403
    assert client.post(f"{LIST}{rate.pk}/", {"name": "x", "rate": "1", "category": "standard"}).status_code == 403
    assert client.post(f"{LIST}{rate.pk}/archive/", {"archived": "1"}).status_code == 403
    assert not TaxRate.objects.filter(name="Sneaky").exists()
    rate.refresh_from_db()
    assert (rate.name, rate.is_archived) == ("BTW 21%", False)
