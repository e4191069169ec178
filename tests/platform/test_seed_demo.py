from django.core.management import call_command
from django_tenants.utils import schema_context

from commerce_hub.accounts.models import User
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.tenancy.models import Domain, Tenant
from crm.models import Company, Contact, Deal, DealStageChange, Stage


def test_seed_demo_creates_a_realistic_tenant_once(db, capsys):
    call_command("seed_demo", "--subdomain", "demo-test", "--no-progress")
    assert Domain.objects.get(tenant__schema_name="t_demo_test").domain == "demo-test.localhost"
    with schema_context("t_demo_test"):
        assert sorted(User.objects.values_list("role", flat=True)) == [
            "admin",
            "finance",
            "read_only",
            "sales",
        ]
        assert Company.objects.filter(country="NL").count() == 12
        assert Company.objects.filter(country="NO").count() == 12
        assert set(Company.objects.filter(country="NO").values_list("currency", flat=True)) == {"NOK"}
        assert Contact.objects.count() == 48
        assert Deal.objects.count() == 36
        # Deals are spread over every stage, won and lost included.
        assert Deal.objects.values("stage").distinct().count() == Stage.objects.count() == 7
        assert DealStageChange.objects.filter(from_stage__isnull=True).count() == 36
        assert OrganizationProfile.objects.get().vat_number == "NL725763863B01"
    call_command("seed_demo", "--subdomain", "demo-test", "--if-missing", "--no-progress")
    assert "leaving it as it is" in capsys.readouterr().out
    with schema_context("t_demo_test"):
        assert Company.objects.count() == 24
    assert Tenant.objects.filter(schema_name="t_demo_test").count() == 1


def test_seed_demo_scale_adds_n_of_each_with_copy(db):
    call_command("seed_demo", "--subdomain", "scale-test", "--no-progress")
    call_command("seed_demo", "--subdomain", "scale-test", "--scale", "2500", "--no-progress")
    with schema_context("t_scale_test"):
        assert Company.objects.count() == 24 + 2500
        assert Contact.objects.count() == 48 + 2500
        assert Deal.objects.count() == 36 + 2500
        assert Contact.objects.filter(company__isnull=True).count() == 0
        # Norwegian demo companies (index 12..23) have 1 + i % 2 deals each: 18; every odd scaled deal is NOK.
        assert Deal.objects.filter(amount_currency="NOK").count() == 18 + 1250


def test_seed_demo_includes_a_product_library_and_deals_with_line_items(db):
    from billing.models import LineItem, Product

    call_command("seed_demo", "--subdomain", "demo-billing", "--no-progress")
    with schema_context("t_demo_billing"):
        assert Product.objects.count() == 6
        assert set(Product.objects.get(sku="HUB-PRO").prices.values_list("currency", flat=True)) == {"EUR", "NOK"}
        assert Product.objects.get(sku="API-CALLS").tiers.count() == 4
        lines = LineItem.objects.filter(deal__isnull=False)
        assert lines.count() == 7
        # Each line is in its deal's currency.
        assert all(line.currency == line.deal.amount_currency for line in lines.select_related("deal"))
