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
        # 36 deals of the CRM's own, and two created with their quotes.
        assert Deal.objects.count() == 38
        # Deals are spread over every stage, won and lost included.
        assert Deal.objects.values("stage").distinct().count() == Stage.objects.count() == 7
        assert DealStageChange.objects.filter(from_stage__isnull=True).count() == 38
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
        assert Deal.objects.count() == 38 + 2500  # two made with their demo quotes
        assert Contact.objects.filter(company__isnull=True).count() == 0
        # Norwegian demo companies (index 12..23) have 1 + i % 2 deals each: 18; every odd scaled deal is NOK.
        assert Deal.objects.filter(amount_currency="NOK").count() == 19 + 1250  # one made with a demo quote


def test_seed_demo_includes_a_product_library_and_deals_with_line_items(db):
    from billing.models import LineItem, Product

    call_command("seed_demo", "--subdomain", "demo-billing", "--no-progress")
    with schema_context("t_demo_billing"):
        assert Product.objects.count() == 6
        assert set(Product.objects.get(sku="HUB-PRO").prices.values_list("currency", flat=True)) == {"EUR", "NOK"}
        assert Product.objects.get(sku="API-CALLS").tiers.count() == 4
        lines = LineItem.objects.filter(deal__isnull=False)
        # 7 lines of the CRM deals, and the 3 of the two quotes made from scratch (a quote's lines are its deal's).
        assert lines.count() == 10
        # Each line is in its deal's currency.
        assert all(line.currency == line.deal.amount_currency for line in lines.select_related("deal"))


def test_seed_demo_includes_quotes_in_every_state_and_a_subscription_from_a_paid_one(db):
    from billing.models import Invoice, PaymentLink, PaymentLinkPurchase, Quote, QuoteSigner, Subscription

    call_command("seed_demo", "--subdomain", "demo-quotes", "--no-progress")
    with schema_context("t_demo_quotes"):
        assert list(Quote.objects.order_by("pk").values_list("number", "status")) == [
            ("Q-1001", "paid"),
            ("Q-1002", "viewed"),
            (None, "draft"),
            ("Q-1003", "published"),
            ("Q-1004", "declined"),
        ]
        paid = Quote.objects.get(number="Q-1001")
        assert Invoice.objects.get(pk=paid.checkout_invoice_id).status == "paid"
        signer = QuoteSigner.objects.get(publication__quote=paid)
        assert signer.signed_at is not None and signer.pdf_sha256 == paid.publication.pdf_sha256
        assert paid.publication.signed_pdf_path
        subscription = Subscription.objects.get(source_quote__isnull=False)
        assert (subscription.source_quote_id, subscription.status, subscription.frequency) == (
            paid.pk,
            "active",
            "monthly",
        )
        # The demo payment links: the monthly plan's three paid purchases each started a subscription.
        assert dict(PaymentLink.objects.values_list("name", "active")) == {
            "Commerce Hub Professional, monthly": True,
            "Training day on site": True,
            "Onboarding package (spring offer)": False,
        }
        assert PaymentLinkPurchase.objects.filter(status="paid").count() == 6
        assert Subscription.objects.filter(source_purchase__isnull=False, frequency="monthly").count() == 3
        # And the subscriptions started by hand, one in each state, after the links' ones.
        by_hand = Subscription.objects.filter(source_quote__isnull=True, source_purchase__isnull=True)
        assert sorted(by_hand.values_list("status", flat=True)) == [
            "active",
            "active",
            "active",
            "active",
            "ended",
            "past_due",
            "paused",
        ]
        assert Quote.objects.get(number="Q-1003").installments.count() == 2
