"""After finalization: payments with their bounds, derived states, void and uncollectible, credit notes, sending,
and the trail every transition leaves."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.models import CreditNote, InvoiceEvent, InvoiceStatus
from billing.selectors.receivables import credit_available, invoice_account, invoice_figures
from billing.services.credit_notes import AmountCredit, LineCredit, credit_note_create
from billing.services.invoice_payments import (
    invoice_mark_uncollectible,
    invoice_record_payment,
    invoice_void,
    invoices_mark_overdue,
)
from billing.services.invoices import invoice_send
from commerce_hub.accounts.models import AuditEntry
from commerce_hub.events.models import OutboxEvent, OutgoingEmail
from tests.billing.invoicing import draft_make, finalized_make, seller_ready

TODAY = timezone.localdate


@pytest.fixture
def invoice(tenant_alpha, admin_user):
    """INV-1001: 2 x 100.00 at 21% and 3 x 12.50 at 9% = 242.00 + 40.88 = 282.88 EUR."""
    return finalized_make(
        actor=admin_user, lines=(("Consulting", "2", "100.00", "BTW 21%"), ("Book", "3", "12.50", "BTW 9%"))
    )


def pay(invoice, amount, actor, **extra):
    return invoice_record_payment(
        invoice=invoice,
        amount=Decimal(amount),
        paid_on=extra.pop("paid_on", TODAY()),
        method="bank_transfer",
        actor=actor,
        **extra,
    )


# --- payments ---------------------------------------------------------------------------------------------------------


def test_a_partial_payment_leaves_the_rest_due_and_reads_as_partially_paid(invoice, admin_user):
    pay(invoice, "100.00", admin_user, reference="NL12 transfer")
    invoice.refresh_from_db()
    assert invoice_figures(invoice).due == Decimal("182.88")
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice_figures(invoice).status == "partially_paid"


def test_paying_the_balance_marks_the_invoice_paid_with_its_event(invoice, admin_user):
    pay(invoice, "100.00", admin_user)
    pay(invoice, "182.88", admin_user)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice_figures(invoice).due == Decimal("0.00")
    assert OutboxEvent.objects.filter(name="invoice.paid", payload__id=invoice.pk).count() == 1
    kinds = list(InvoiceEvent.objects.filter(invoice=invoice).values_list("kind", flat=True))
    assert kinds == ["created", "finalized", "payment_recorded", "payment_recorded", "paid"]
    assert AuditEntry.objects.filter(action="invoice.paid", object_id=str(invoice.pk)).count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Enter an amount above zero."),
        ("-5", "Enter an amount above zero."),
        ("NaN", "Enter an amount above zero."),
        ("Infinity", "Enter an amount above zero."),
        ("10.001", "Use at most the currency's decimals."),
        ("1000000000000", "Enter an amount below 1,000,000,000,000."),
    ],
)
def test_absurd_payment_amounts_are_refused(invoice, admin_user, amount, message):
    with pytest.raises(ValidationError) as exc:
        pay(invoice, amount, admin_user)
    assert exc.value.message_dict["amount"] == [message]
    assert invoice_figures(invoice).paid == 0


def test_a_payment_in_the_future_is_refused(invoice, admin_user):
    with pytest.raises(ValidationError) as exc:
        pay(invoice, "10", admin_user, paid_on=TODAY() + timedelta(days=1))
    assert exc.value.message_dict["paid_on"] == ["The payment date cannot be in the future."]


def test_payments_on_drafts_are_refused(tenant_alpha, admin_user):
    seller_ready()
    draft = draft_make(actor=admin_user)
    with pytest.raises(ValidationError, match="only be recorded on finalized invoices"):
        pay(draft, "1", admin_user)


def test_money_received_for_a_paid_invoice_becomes_customer_credit(invoice, admin_user):
    pay(invoice, "282.88", admin_user)
    late = pay(invoice, "282.88", admin_user, reference="Paid twice by mistake")
    invoice.refresh_from_db()
    assert (invoice.status, invoice_figures(invoice).paid) == (InvoiceStatus.PAID, Decimal("282.88"))
    assert late.amount == Decimal("282.88")
    assert credit_available(invoice_account(invoice), "EUR") == Decimal("282.88")


def test_a_processor_payment_recorded_twice_counts_once(invoice, admin_user):
    first = pay(invoice, "50.00", None, source="stripe", external_id="pi_123")
    again = pay(invoice, "50.00", None, source="stripe", external_id="pi_123")
    assert first.pk == again.pk
    assert invoice_figures(invoice).paid == Decimal("50.00")


# --- void and uncollectible -------------------------------------------------------------------------------------------


def test_void_is_refused_once_the_invoice_has_payments(invoice, admin_user):
    pay(invoice, "10.00", admin_user)
    with pytest.raises(ValidationError) as exc:
        invoice_void(invoice=invoice, actor=admin_user)
    assert exc.value.messages == ["This invoice has payments, so it cannot be voided. Issue a credit note instead."]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN


def test_void_keeps_the_number_and_records_who_and_why(invoice, admin_user):
    invoice_void(invoice=invoice, actor=admin_user, reason="Sent to the wrong company")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (InvoiceStatus.VOID, "INV-1001")
    event = InvoiceEvent.objects.get(invoice=invoice, kind="voided")
    assert (event.from_status, event.to_status, event.data["reason"]) == ("open", "void", "Sent to the wrong company")
    assert OutboxEvent.objects.filter(name="invoice.voided").count() == 1
    with pytest.raises(ValidationError, match="Only open invoices can be voided."):
        invoice_void(invoice=invoice, actor=admin_user)


def test_money_for_an_uncollectible_invoice_is_kept_as_credit(invoice, admin_user):
    invoice_mark_uncollectible(invoice=invoice, actor=admin_user)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNCOLLECTIBLE
    assert invoice_figures(invoice).written_off == Decimal("282.88")
    pay(invoice, "100.00", admin_user)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNCOLLECTIBLE
    assert invoice_figures(invoice).due == 0
    assert credit_available(invoice_account(invoice), "EUR") == Decimal("100.00")


# --- overdue ----------------------------------------------------------------------------------------------------------


def test_overdue_is_derived_and_emitted_once(invoice, admin_user):
    assert invoice_figures(invoice, today=invoice.due_date).status == "open"
    assert invoice_figures(invoice, today=invoice.due_date + timedelta(days=1)).status == "overdue"
    later = invoice.due_date + timedelta(days=1)
    assert invoices_mark_overdue(today=later) == [invoice.pk]
    assert invoices_mark_overdue(today=later) == []
    assert OutboxEvent.objects.filter(name="invoice.overdue").count() == 1


# --- credit notes -----------------------------------------------------------------------------------------------------


def test_a_whole_credit_note_mirrors_the_invoice_and_settles_it(invoice, admin_user):
    note = credit_note_create(invoice=invoice, actor=admin_user, whole=True, reason="Cancelled order")
    assert note.number == "CN-1001"
    assert note.total == Decimal("282.88")
    assert [(g["rate"], g["base"], g["vat"]) for g in note.snapshot["vat_groups"]] == [
        ("21.00", "200.00", "42.00"),
        ("9.00", "37.50", "3.38"),
    ]
    invoice.refresh_from_db()
    assert invoice_figures(invoice).due == Decimal("0.00")
    assert invoice.status == InvoiceStatus.PAID


def test_crediting_part_of_a_line_and_an_amount(invoice, admin_user):
    note = credit_note_create(
        invoice=invoice,
        actor=admin_user,
        lines=[LineCredit(index=1, quantity=Decimal("1"))],  # one of the three books: 12.50 + 9%
        amounts=[AmountCredit(description="Goodwill", net=Decimal("10.00"), vat_group=0)],  # 10.00 + 21%
    )
    assert note.total == Decimal("12.50") + Decimal("1.13") + Decimal("10.00") + Decimal("2.10")
    assert invoice_figures(invoice).due == Decimal("282.88") - Decimal("25.73")
    with pytest.raises(ValidationError) as exc:
        credit_note_create(invoice=invoice, actor=admin_user, lines=[LineCredit(index=1, quantity=Decimal("3"))])
    assert exc.value.message_dict["line_1"] == ["At most 2 of this line is left to credit."]


def test_a_credit_note_above_the_balance_keeps_the_rest_as_customer_credit(invoice, admin_user):
    pay(invoice, "200.00", admin_user)
    note = credit_note_create(invoice=invoice, actor=admin_user, whole=True)
    assert note.total == Decimal("282.88")
    invoice.refresh_from_db()
    figures = invoice_figures(invoice)
    assert (figures.paid, figures.credited, figures.due) == (Decimal("200.00"), Decimal("82.88"), 0)
    assert (invoice.status, figures.status) == (InvoiceStatus.PAID, "paid")
    assert credit_available(invoice_account(invoice), "EUR") == Decimal("200.00")


def test_an_amount_credit_cannot_exceed_what_the_invoice_charged(invoice, admin_user):
    credit_note_create(invoice=invoice, actor=admin_user, amounts=[AmountCredit("Discount", Decimal("200"), 0)])
    with pytest.raises(ValidationError, match="more than what is left to credit"):
        credit_note_create(invoice=invoice, actor=admin_user, amounts=[AmountCredit("Again", Decimal("200"), 0)])
    assert CreditNote.objects.count() == 1


def test_credit_notes_refuse_bad_input(invoice, admin_user):
    with pytest.raises(ValidationError) as exc:
        credit_note_create(invoice=invoice, actor=admin_user, lines=[LineCredit(index=7, quantity=Decimal("1"))])
    assert exc.value.message_dict["lines"] == ["Choose lines of this invoice, each once."]
    with pytest.raises(ValidationError) as exc:
        credit_note_create(invoice=invoice, actor=admin_user, amounts=[AmountCredit("x", Decimal("-3"), vat_group=0)])
    assert exc.value.message_dict["amount_0"] == ["Enter an amount above zero."]
    with pytest.raises(ValidationError) as exc:
        credit_note_create(invoice=invoice, actor=admin_user)
    assert exc.value.message_dict["lines"] == ["Choose at least one line or amount to credit."]


def test_a_failed_credit_note_does_not_use_up_a_number(invoice, admin_user):
    with pytest.raises(ValidationError), transaction.atomic():
        credit_note_create(invoice=invoice, actor=admin_user, lines=[LineCredit(index=0, quantity=Decimal("9"))])
    assert credit_note_create(invoice=invoice, actor=admin_user, whole=True).number == "CN-1001"


# --- sending ----------------------------------------------------------------------------------------------------------


def test_send_queues_one_email_per_contact_with_the_pdf_and_a_resend_is_recorded(invoice, admin_user):
    to = invoice_send(invoice=invoice, actor=admin_user)
    assert to == [invoice.contacts.get().email]
    email = OutgoingEmail.objects.get(to=to[0])
    assert email.subject == "Invoice INV-1001 from Alpha Handel B.V."
    assert email.attachments == [{"provider": "billing.invoice_pdf", "id": invoice.pk}]
    assert f"/billing/i/{invoice.public_token}/" in email.text
    invoice_send(invoice=invoice, actor=admin_user)
    kinds = list(
        InvoiceEvent.objects.filter(invoice=invoice, kind__in=["sent", "resent"]).values_list("kind", flat=True)
    )
    assert kinds == ["sent", "resent"]
    assert OutboxEvent.objects.filter(name="invoice.sent").count() == 2


def test_send_in_dutch_uses_dutch_number_formats(tenant_alpha, admin_user):
    from tests.billing.invoicing import buyer_make

    seller_ready()
    company, contact = buyer_make(
        name="Molen B.V.", email="jan@molen.example", language="nl", country="NL", vat_number="NL000099998B57"
    )
    from billing.services.invoices import invoice_finalize

    invoice = invoice_finalize(invoice=draft_make(company=company, contacts=[contact]), actor=admin_user)
    assert invoice.language == "nl"
    invoice_send(invoice=invoice, actor=admin_user)
    text = OutgoingEmail.objects.get(to="jan@molen.example").text
    assert "Beste Kari Nordmann," in text
    assert "€\xa0242,00" in text


def test_send_without_email_addresses_says_what_to_do(tenant_alpha, admin_user):
    from billing.services.invoices import invoice_finalize
    from tests.billing.invoicing import buyer_make

    seller_ready()
    company, _contact = buyer_make(email="x@example.com")
    invoice = invoice_finalize(invoice=draft_make(company=company, contacts=[]), actor=admin_user)
    with pytest.raises(ValidationError) as exc:
        invoice_send(invoice=invoice, actor=admin_user)
    assert exc.value.messages == ["Add a contact with an email address to send the invoice to."]


def test_the_due_date_follows_custom_terms(tenant_alpha, admin_user):
    from billing.services.invoices import invoice_finalize

    seller_ready()
    draft = draft_make(actor=admin_user)
    draft.payment_terms_days = 30
    draft.save(update_fields=["payment_terms_days"])
    invoice = invoice_finalize(invoice=draft, actor=admin_user, issue_date=date(2026, 11, 1))
    assert invoice.due_date == date(2026, 12, 1)


def test_crediting_a_whole_invoice_with_fees_and_fine_prices_gives_back_exactly_its_total(tenant_alpha, admin_user):
    from billing.models import DocumentAdjustment
    from billing.services.invoices import invoice_finalize

    seller_ready()
    draft = draft_make(
        actor=admin_user,
        lines=(("Metered", "3", "0.333333", "BTW 21%"), ("Seats", "7", "12.345678", "BTW 9%")),
    )
    DocumentAdjustment.objects.create(invoice=draft, kind="fee", label="Handling", amount=Decimal("4.95"))
    DocumentAdjustment.objects.create(invoice=draft, kind="discount", label="Loyalty", percent=Decimal("10"))
    invoice = invoice_finalize(invoice=draft, actor=admin_user)
    note = credit_note_create(invoice=invoice, actor=admin_user, whole=True)
    assert note.total == invoice.total
    assert note.snapshot["vat_groups"] == invoice.snapshot["vat_groups"]
    invoice.refresh_from_db()
    assert invoice_figures(invoice).due == Decimal("0.00")


def test_crediting_a_paid_invoice_gives_the_customer_credit(invoice, admin_user):
    pay(invoice, "282.88", admin_user)
    credit_note_create(invoice=invoice, actor=admin_user, whole=True)
    invoice.refresh_from_db()
    figures = invoice_figures(invoice)
    assert (figures.paid, figures.credited, figures.due, figures.status) == (Decimal("282.88"), 0, 0, "paid")
    assert credit_available(invoice_account(invoice), "EUR") == Decimal("282.88")


def test_a_line_credited_in_thirds_gives_back_exactly_the_invoice(tenant_alpha, admin_user):
    seller_ready()
    invoice = finalized_make(actor=admin_user, lines=(("Licence", "3", "33.333333", "BTW 21%"),))  # 100.00 + 21.00
    nets = [
        credit_note_create(invoice=invoice, actor=admin_user, lines=[LineCredit(0, Decimal(1))]).lines.get().net
        for _ in range(3)
    ]
    assert nets == [Decimal("33.33"), Decimal("33.34"), Decimal("33.33")]
    invoice.refresh_from_db()
    assert invoice_figures(invoice).due == Decimal("0.00")
    assert invoice.status == InvoiceStatus.PAID


def test_void_is_refused_once_the_invoice_has_a_credit_note(invoice, admin_user):
    credit_note_create(invoice=invoice, actor=admin_user, lines=[LineCredit(0, Decimal(1))])
    with pytest.raises(ValidationError) as exc:
        invoice_void(invoice=invoice, actor=admin_user)
    assert exc.value.messages == ["This invoice has credit notes, so it cannot be voided. Credit the rest instead."]


def test_a_whole_credit_skips_free_lines(tenant_alpha, admin_user):
    seller_ready()
    invoice = finalized_make(
        actor=admin_user, lines=(("Onboarding (included)", "1", "0", "BTW 21%"), ("Licence", "1", "100", "BTW 21%"))
    )
    note = credit_note_create(invoice=invoice, actor=admin_user, whole=True)
    assert note.total == Decimal("121.00")
    assert list(note.lines.values_list("description", flat=True)) == ["Licence"]


def test_credit_quantities_keep_at_most_six_decimals(invoice, admin_user):
    with pytest.raises(ValidationError) as exc:
        credit_note_create(invoice=invoice, actor=admin_user, lines=[LineCredit(0, Decimal("0.0000004"))])
    assert exc.value.message_dict["line_0"] == ["Use at most 6 decimals."]
