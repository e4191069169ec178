"""Customer credit is spent once: invoices finalized, and credit applied, at the same moment by different workers
never spend more credit than there is."""

from decimal import Decimal

from django.core.exceptions import ValidationError

from billing.models import Invoice
from billing.selectors.receivables import Account, credit_available, invoice_figures
from billing.services.invoice_payments import invoice_apply_credit
from billing.services.invoices import invoice_finalize
from billing.services.receivables import customer_credit_add
from tests.billing.invoicing import buyer_make, draft_make, finalized_make, seller_ready
from tests.concurrency import in_threads


def test_drafts_finalized_at_once_share_the_credit_without_spending_it_twice(django_db_setup, live_tenant):
    seller_ready()
    company, contact = buyer_make()
    account = Account(company_id=company.pk)
    customer_credit_add(account=account, currency="EUR", amount=Decimal("300.00"), reason="Prepaid", actor=None)
    drafts = [draft_make(company=company, contacts=[contact]) for _ in range(4)]  # 242.00 each

    in_threads(4, lambda n: invoice_finalize(invoice=Invoice(pk=drafts[n].pk), actor=None))

    applied = sorted(invoice_figures(d).paid for d in drafts)
    assert applied == [Decimal("0"), Decimal("0"), Decimal("58.00"), Decimal("242.00")]
    assert credit_available(account, "EUR") == 0


def test_credit_applied_by_two_people_at_once_is_spent_once(django_db_setup, live_tenant):
    seller_ready()
    company, contact = buyer_make()
    first = finalized_make(company=company, contacts=[contact])
    second = finalized_make(company=company, contacts=[contact])
    account = Account(company_id=company.pk)
    customer_credit_add(account=account, currency="EUR", amount=Decimal("100.00"), reason="Goodwill", actor=None)
    invoices = [first, second] * 3

    def apply(n):
        try:
            return invoice_apply_credit(invoice=Invoice(pk=invoices[n].pk), actor=None)
        except ValidationError:
            return Decimal(0)

    spent = in_threads(6, apply)
    assert sum(spent) == Decimal("100.00")
    assert invoice_figures(first).paid + invoice_figures(second).paid == Decimal("100.00")
    assert credit_available(account, "EUR") == 0
