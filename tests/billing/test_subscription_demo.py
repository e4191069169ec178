"""The demo subscriptions: EUR and NOK, every state the index has a view for, billed by the real billing run."""

from decimal import Decimal as D

from django.utils import timezone

from billing import demo_data, demo_subscriptions
from billing.models import Invoice, Subscription
from commerce_hub.demo import SeedContext
from crm.models import Company, Contact
from tests.billing.invoicing import seller_ready
from tests.conftest import user_make


def test_the_demo_has_a_subscription_in_every_state_with_invoices_from_the_billing_run(tenant_alpha):
    seller_ready()
    user_make("admin")
    for index, country in enumerate(["NL", "NL", "NO", "NO"]):
        company = Company.objects.create(name=f"Demo {index} {country}", country=country)
        Contact.objects.create(
            first_name="Demo", last_name=str(index), email=f"demo{index}@example.com", company=company
        )
    ctx = SeedContext(scale=0, progress=False, stdout=lambda text: None)
    demo_data.seed(ctx)
    demo_subscriptions.seed(ctx)
    by_name = {s.name: s for s in Subscription.objects.all()}
    states = {name: (s.status, s.currency, s.cancel_at_period_end) for name, s in by_name.items()}
    assert states["Professional, 8 users"] == ("active", "EUR", False)
    assert states["Enterprise, 5 users"] == ("active", "NOK", False)
    assert states["Professional, 4 brukere"][0] == "paused"
    assert states["Priority support"] == ("active", "EUR", True)
    assert states["Professional, 12 users"][0] == "past_due"
    assert states["Professional pilot, 2 users"][0] == "ended"
    trial = by_name["Professional trial, 3 users"]
    assert trial.status == "active" and trial.trial_end > timezone.localdate()
    monthly = by_name["Professional, 8 users"]
    invoices = list(Invoice.objects.filter(subscription=monthly).order_by("period_start"))
    assert len(invoices) == 4 and all(i.total == D("474.32") for i in invoices)  # 8 x 49.00 + 21% VAT
    assert monthly.mrr == D("392.00")
    assert Invoice.objects.filter(subscription=by_name["Professional pilot, 2 users"]).count() == 3
    demo_subscriptions.seed(ctx)  # a second run adds nothing
    assert Subscription.objects.count() == len(by_name)
