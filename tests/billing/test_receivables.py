"""The receivables ledger: every invoice figure is one sum over its entries, received money is never refused,
customer credit pays later invoices, a mistaken payment can be reversed, and the ledger cannot be edited."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.http import QueryDict
from django.utils import timezone

from billing.documents import invoice_settings_get
from billing.models import EntryKind, InvoicePayment, InvoiceStatus, ReceivableEntry
from billing.selectors.invoice_index import invoice_index_query, invoice_rows_decorate
from billing.selectors.receivables import credit_available, credit_balances, invoice_account, invoice_figures
from billing.services.credit_notes import AmountCredit, credit_note_create
from billing.services.invoice_payments import (
    invoice_apply_credit,
    invoice_mark_uncollectible,
    invoice_record_payment,
    invoice_void,
    payment_reverse,
)
from billing.services.invoices import invoice_send
from billing.services.receivables import customer_credit_add
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from tests.billing.invoicing import buyer_make, finalized_make, seller_ready
from tests.conftest import user_make

TODAY = timezone.localdate
EUR = "EUR"


@pytest.fixture
def invoice(tenant_alpha, admin_user):
    """2 x 100.00 at 21% and 3 x 12.50 at 9% = 282.88 EUR."""
    return finalized_make(
        actor=admin_user, lines=(("Consulting", "2", "100.00", "BTW 21%"), ("Book", "3", "12.50", "BTW 9%"))
    )


def pay(invoice, amount, actor=None, **extra):
    return invoice_record_payment(
        invoice=invoice, amount=Decimal(amount), paid_on=TODAY(), method="bank_transfer", actor=actor, **extra
    )


def test_every_figure_is_one_sum_over_the_ledger(invoice, admin_user):
    """Each kind of entry moves the figure it belongs to: drop any term from the definition and this fails."""
    account = invoice_account(invoice)
    customer_credit_add(account=account, currency=EUR, amount=Decimal("20.00"), reason="Goodwill", actor=admin_user)
    pay(invoice, "100.00", admin_user)
    mistaken = pay(invoice, "30.00", admin_user)
    payment_reverse(payment=mistaken, reason="Booked on the wrong invoice", actor=admin_user)
    assert invoice_apply_credit(invoice=invoice, actor=admin_user) == Decimal("20.00")
    credit_note_create(invoice=invoice, actor=admin_user, amounts=[AmountCredit("Discount", Decimal("50.00"), 0)])

    figures = invoice_figures(invoice)
    assert (figures.total, figures.paid, figures.credited, figures.written_off, figures.due) == (
        Decimal("282.88"),
        Decimal("120.00"),  # 100 + 30 - 30 reversed + 20 of credit
        Decimal("60.50"),  # 50.00 + 21% VAT
        Decimal("0"),
        Decimal("102.38"),
    )
    assert figures.status == "partially_paid"
    assert credit_available(account, EUR) == Decimal("0")

    # The index shows the same figures through the same definition.
    index = invoice_index_query(params={}, user=admin_user)
    (row,) = invoice_rows_decorate(list(index.queryset.filter(pk=invoice.pk)), today=TODAY())
    assert (row.paid_amount, row.credited_amount, row.balance_due, row.display_status) == (
        Decimal("120.00"),
        Decimal("60.50"),
        Decimal("102.38"),
        "partially_paid",
    )

    invoice_mark_uncollectible(invoice=invoice, actor=admin_user)
    figures = invoice_figures(invoice)
    assert (figures.written_off, figures.due, figures.status) == (Decimal("102.38"), Decimal("0"), "uncollectible")


def test_an_overpayment_pays_the_invoice_and_keeps_the_rest_as_credit(invoice, admin_user):
    payment = pay(invoice, "300.00", admin_user)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice_figures(invoice).paid == Decimal("282.88")
    assert credit_balances(invoice_account(invoice)) == {EUR: Decimal("17.12")}
    entries = ReceivableEntry.objects.filter(payment=payment).order_by("id")
    assert [(e.kind, e.amount, e.invoice_id) for e in entries] == [
        (EntryKind.PAYMENT_RECEIVED, Decimal("-300.0000"), None),
        (EntryKind.PAYMENT_APPLIED, Decimal("-282.8800"), invoice.pk),
        (EntryKind.PAYMENT_APPLIED, Decimal("282.8800"), None),
    ]
    assert OutboxEvent.objects.filter(name="customer_credit.added").count() == 1


def test_credit_pays_the_next_invoice_of_the_same_currency_when_it_is_finalized(invoice, admin_user):
    pay(invoice, "300.00", admin_user)  # 17.12 EUR of credit
    company = invoice.company
    contacts = list(invoice.contacts.all())
    nok = finalized_make(actor=admin_user, company=company, contacts=contacts, currency="NOK")
    assert invoice_figures(nok).paid == 0  # credit is per currency
    second = finalized_make(actor=admin_user, company=company, contacts=contacts)  # 242.00
    second.refresh_from_db()
    assert invoice_figures(second).paid == Decimal("17.12")
    assert invoice_figures(second).due == Decimal("224.88")
    assert credit_available(invoice_account(invoice), EUR) == 0


def test_credit_covering_a_whole_new_invoice_settles_it_at_once(invoice, admin_user):
    customer_credit_add(
        account=invoice_account(invoice), currency=EUR, amount=Decimal("500"), reason="Prepaid", actor=admin_user
    )
    second = finalized_make(actor=admin_user, company=invoice.company, contacts=list(invoice.contacts.all()))
    second.refresh_from_db()
    assert second.status == InvoiceStatus.PAID
    assert credit_available(invoice_account(invoice), EUR) == Decimal("258.00")


def test_with_automatic_credit_off_finance_applies_it_by_hand(invoice, admin_user):
    settings = invoice_settings_get()
    settings.credit_auto_apply = False
    settings.save(update_fields=["credit_auto_apply"])
    pay(invoice, "300.00", admin_user)
    second = finalized_make(actor=admin_user, company=invoice.company, contacts=list(invoice.contacts.all()))
    assert invoice_figures(second).paid == 0
    assert invoice_apply_credit(invoice=second, actor=admin_user) == Decimal("17.12")
    assert invoice_figures(second).due == Decimal("224.88")
    with pytest.raises(ValidationError, match="no credit in EUR"):
        invoice_apply_credit(invoice=second, actor=admin_user)


def test_a_reversed_payment_reopens_a_paid_invoice(invoice, admin_user):
    payment = pay(invoice, "282.88", admin_user)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    payment_reverse(payment=payment, reason="Bank returned the transfer", actor=admin_user)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_at) == (InvoiceStatus.OPEN, None)
    assert invoice_figures(invoice).due == Decimal("282.88")
    assert OutboxEvent.objects.filter(name="invoice.payment_reversed").count() == 1
    with pytest.raises(ValidationError, match="reversed already"):
        payment_reverse(payment=payment, reason="Again", actor=admin_user)


def test_a_reversal_needs_a_reason_and_is_refused_for_processor_payments(invoice, admin_user):
    manual = pay(invoice, "10.00", admin_user)
    with pytest.raises(ValidationError) as exc:
        payment_reverse(payment=manual, reason="  ", actor=admin_user)
    assert exc.value.message_dict["reason"] == ["Say why this payment is reversed."]
    card = pay(invoice, "10.00", source="stripe", external_id="pi_1")
    with pytest.raises(ValidationError, match="refunded, not reversed"):
        payment_reverse(payment=card, reason="Mistake", actor=admin_user)


def test_a_reversal_is_refused_when_the_credit_it_left_was_spent(invoice, admin_user):
    overpaid = pay(invoice, "300.00", admin_user)  # 17.12 kept as credit
    finalized_make(actor=admin_user, company=invoice.company, contacts=list(invoice.contacts.all()))  # spends it
    with pytest.raises(ValidationError, match="kept as customer credit and has been used since"):
        payment_reverse(payment=overpaid, reason="Mistake", actor=admin_user)
    assert not ReceivableEntry.objects.filter(kind=EntryKind.PAYMENT_REVERSED).exists()


def test_an_external_reference_is_unique_per_source_only(invoice):
    stripe = pay(invoice, "10.00", source="stripe", external_id="ref-1")
    bank = pay(invoice, "10.00", source="bank_import", external_id="ref-1")
    assert stripe.pk != bank.pk
    assert pay(invoice, "10.00", source="stripe", external_id="ref-1").pk == stripe.pk
    assert InvoicePayment.objects.count() == 2


def test_manual_credit_is_checked(tenant_alpha, admin_user):
    company, _contact = buyer_make()
    account = invoice_account_of_company(company)
    for amount, field in (("0", "amount"), ("NaN", "amount"), ("1e12", "amount"), ("1.001", "amount")):
        with pytest.raises(ValidationError) as exc:
            customer_credit_add(account=account, currency=EUR, amount=Decimal(amount), reason="x", actor=admin_user)
        assert field in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        customer_credit_add(account=account, currency="ABC", amount=Decimal("1"), reason="", actor=admin_user)
    assert set(exc.value.message_dict) == {"currency", "reason"}
    customer_credit_add(account=account, currency="KWD", amount=Decimal("1.125"), reason="Refund", actor=admin_user)
    assert credit_balances(account) == {"KWD": Decimal("1.125")}


def invoice_account_of_company(company):
    from billing.selectors.receivables import Account

    return Account(company_id=company.pk)


# --- the database's own guards ---------------------------------------------------------------------------------------


def test_ledger_entries_cannot_be_changed_or_deleted(invoice):
    entry = ReceivableEntry.objects.filter(invoice=invoice).first()
    for sql in (
        "UPDATE billing_receivableentry SET amount = 1 WHERE id = %s",
        "DELETE FROM billing_receivableentry WHERE id = %s",
    ):
        refused = pytest.raises(DatabaseError, match="cannot be changed or deleted")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])


def test_a_finalized_invoice_freezes_columns_that_are_not_on_the_allow_list(invoice):
    # source_quote_id was never named by the old trigger's list of frozen columns: the allow-list freezes it.
    with pytest.raises(DatabaseError, match="is finalized"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE billing_invoice SET source_quote_id = 7 WHERE id = %s", [invoice.pk])
    with connection.cursor() as cursor:  # the state and its timestamps may move
        cursor.execute("UPDATE billing_invoice SET sent_at = now(), overdue_at = now() WHERE id = %s", [invoice.pk])


# --- pages ------------------------------------------------------------------------------------------------------------


def _client_for(role):
    from django.test import Client

    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    return client


def test_finance_reverses_a_payment_with_a_reason_and_sales_cannot(invoice, admin_user):
    payment = pay(invoice, "50.00", admin_user)
    url = f"/billing/payments/{payment.pk}/reverse/"
    assert _client_for(Role.SALES).get(url).status_code == 403
    finance = _client_for(Role.FINANCE)
    page = finance.get(url).content.decode()
    assert "Reverse this payment?" in page
    empty = finance.post(url, {"reason": "", "idempotency_key": "a" * 20})
    assert empty.status_code == 400
    done = finance.post(url, {"reason": "Wrong invoice", "idempotency_key": "b" * 20})
    assert done.status_code == 302
    assert invoice_figures(invoice).paid == 0
    detail = finance.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert "Reversed" in detail


def test_the_company_page_shows_credit_and_finance_can_add_it(invoice, admin_user):
    pay(invoice, "300.00", admin_user)
    finance = _client_for(Role.FINANCE)
    company_url = f"/crm/companies/{invoice.company_id}/"
    page = finance.get(company_url).content.decode()
    assert "Customer credit" in page and "€17.12" in page
    new = f"/billing/credit/company/{invoice.company_id}/new/"
    bad = finance.post(new, {"amount": "-1", "currency": "EUR", "reason": "", "idempotency_key": "c" * 20})
    assert bad.status_code == 400
    ok = finance.post(new, {"amount": "2.88", "currency": "EUR", "reason": "Goodwill", "idempotency_key": "d" * 20})
    assert ok.status_code == 302
    assert credit_available(invoice_account(invoice), EUR) == Decimal("20.00")
    assert _client_for(Role.SALES).get(new).status_code == 403
    assert finance.get("/billing/credit/deal/1/new/").status_code == 404


def test_the_invoice_page_offers_credit_to_apply(invoice, admin_user):
    settings = invoice_settings_get()
    settings.credit_auto_apply = False
    settings.save(update_fields=["credit_auto_apply"])
    customer_credit_add(
        account=invoice_account(invoice), currency=EUR, amount=Decimal("10"), reason="Goodwill", actor=admin_user
    )
    finance = _client_for(Role.FINANCE)
    page = finance.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert "This customer has €10.00 of credit." in page
    response = finance.post(f"/billing/invoices/{invoice.pk}/apply-credit/", {"idempotency_key": "e" * 20})
    assert response.status_code == 302
    assert invoice_figures(invoice).paid == Decimal("10.00")
    assert "€10.00 of credit applied." in finance.get(response.url).content.decode()


def test_another_tenants_payment_cannot_be_reversed(invoice, admin_user, tenant_bravo):
    from django.test import Client

    payment = pay(invoice, "10.00", admin_user)
    seller_ready()
    connection.set_tenant(tenant_bravo)
    other = user_make(Role.ADMIN)
    client = Client(HTTP_HOST="bravo.localhost")
    client.force_login(other)
    assert client.get(f"/billing/payments/{payment.pk}/reverse/").status_code == 404


def test_an_invoice_whose_only_payment_was_reversed_can_be_voided(invoice, admin_user):
    payment = pay(invoice, "50.00", admin_user)
    payment_reverse(payment=payment, reason="Wrong customer", actor=admin_user)
    invoice_void(invoice=invoice, actor=admin_user, reason="Duplicate")
    invoice.refresh_from_db()
    figures = invoice_figures(invoice)
    assert (invoice.status, figures.written_off, figures.due, figures.status) == (
        InvoiceStatus.VOID,
        Decimal("282.88"),
        0,
        "void",
    )


def test_the_invoice_email_says_what_is_left_to_pay_after_credit(invoice, admin_user):
    from commerce_hub.events.models import OutgoingEmail

    customer_credit_add(
        account=invoice_account(invoice), currency=EUR, amount=Decimal("40.00"), reason="Goodwill", actor=admin_user
    )
    second = finalized_make(actor=admin_user, company=invoice.company, contacts=list(invoice.contacts.all()))
    invoice_send(invoice=second, actor=admin_user)
    email = OutgoingEmail.objects.filter(subject__contains=second.number).get()
    assert "€40.00 of it is paid or credited already; €202.00 is left to pay." in email.text


def test_an_invoice_settled_by_credit_notes_alone_reads_credited(invoice, admin_user):
    credit_note_create(invoice=invoice, actor=admin_user, whole=True, reason="Cancelled order")
    invoice.refresh_from_db()
    assert (invoice.status, invoice_figures(invoice).status) == (InvoiceStatus.PAID, "credited")
    assert OutboxEvent.objects.filter(name="invoice.credited").count() == 1
    assert not OutboxEvent.objects.filter(name="invoice.paid").exists()
    index = invoice_index_query(params=QueryDict("view=paid"), user=admin_user)
    assert not index.queryset.filter(pk=invoice.pk).exists()
    credited = invoice_index_query(params=QueryDict("status=credited"), user=admin_user)
    assert list(credited.queryset.values_list("pk", flat=True)) == [invoice.pk]
