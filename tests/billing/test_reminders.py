"""Payment reminders on a moved clock, and late fee invoices.

The invoices here are due on Tuesday 2026-12-15 (issued 2026-12-01 with the default 14-day terms). The default
schedule reminds 3 days before (Saturday 12-12), on the due date, and 7 and 14 days after.
"""

import threading
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing.documents import invoice_settings_get
from billing.models import Invoice, InvoiceEvent, InvoiceSettings, ReminderSent, ReminderStep
from billing.services import reminders
from billing.services.invoice_payments import invoice_mark_uncollectible, invoice_record_payment, invoice_void
from billing.services.invoices import invoice_create, invoice_finalize
from billing.services.reminders import late_fees_create, reminders_send
from commerce_hub.events.models import OutboxEvent, OutgoingEmail
from tests.billing.invoicing import buyer_make, draft_make, seller_ready

ISSUED = date(2026, 12, 1)
DUE = date(2026, 12, 15)
SATURDAY, SUNDAY, MONDAY = date(2026, 12, 12), date(2026, 12, 13), date(2026, 12, 14)


def open_invoice(*, email="kari@fjordline.example", language="en", issue_date=ISSUED, **kwargs) -> Invoice:
    """An open invoice of 242.00 EUR (2 x 100.00 + 21% VAT) due 2026-12-15, to one contact."""
    company, contact = buyer_make(name=f"Buyer {email}", email=email, language=language)
    draft = draft_make(company=company, contacts=[contact], **kwargs)
    invoice = invoice_finalize(invoice=draft, actor=None, issue_date=issue_date)
    Invoice.objects.filter(pk=invoice.pk).update(sent_at=timezone.now())  # reminders follow a sent invoice
    return invoice


def emails(to=None):
    rows = OutgoingEmail.objects.order_by("id")
    return list(rows.filter(to=to) if to else rows)


def sent_steps(invoice) -> list[int]:
    return list(
        ReminderSent.objects.filter(invoice=invoice).order_by("offset_days").values_list("offset_days", flat=True)
    )


@pytest.fixture
def seller(tenant_alpha):
    seller_ready()
    InvoiceSettings.objects.filter(pk=1).update(
        bank_account_holder="Alpha Handel B.V.", iban="NL91ABNA0417164300", bic="ABNANL2A"
    )
    return tenant_alpha


def test_the_schedule_sends_each_step_on_its_day_and_never_twice(seller):
    invoice = open_invoice()
    assert (invoice.due_date, DUE.weekday()) == (DUE, 1)  # a Tuesday
    expected = {
        date(2026, 12, 11): [],
        SATURDAY: [],  # the -3 step's day, but weekends are skipped
        SUNDAY: [],
        MONDAY: [-3],  # Monday catches up
        DUE: [-3, 0],
        date(2026, 12, 21): [-3, 0],
        date(2026, 12, 22): [-3, 0, 7],
        date(2026, 12, 29): [-3, 0, 7, 14],
        date(2027, 1, 12): [-3, 0, 7, 14],
    }
    for today, steps in expected.items():
        reminders_send(today=today)
        count = len(emails())
        assert reminders_send(today=today) == 0, today
        assert len(emails()) == count, f"{today}: the second run sent again"
        assert sent_steps(invoice) == steps, today
    assert [e.to for e in emails()] == ["kari@fjordline.example"] * 4
    assert list(InvoiceEvent.objects.filter(invoice=invoice, kind="reminder_sent").values_list("data", flat=True)) == [
        {"offset_days": offset, "kind": kind, "recipients": ["kari@fjordline.example"]}
        for offset, kind in [(-3, "upcoming"), (0, "upcoming"), (7, "reminder"), (14, "final_notice")]
    ]
    assert OutboxEvent.objects.filter(name="invoice.reminder_sent", payload__id=invoice.pk).count() == 4


def test_without_weekend_skipping_the_saturday_step_goes_out_on_saturday(seller):
    InvoiceSettings.objects.filter(pk=1).update(skip_weekends=False)
    invoice = open_invoice()
    assert reminders_send(today=SATURDAY) == 1
    assert sent_steps(invoice) == [-3]


def test_disabled_reminders_send_nothing(seller):
    InvoiceSettings.objects.filter(pk=1).update(reminders_enabled=False)
    open_invoice()
    assert reminders_send(today=DUE) == 0
    assert emails() == []


def test_paid_void_uncollectible_and_draft_invoices_get_no_reminder(seller):
    paid = open_invoice(email="paid@example.com")
    invoice_record_payment(invoice=paid, amount=Decimal("242.00"), paid_on=ISSUED, method="bank_transfer", actor=None)
    void = open_invoice(email="void@example.com")
    invoice_void(invoice=void, actor=None)
    written_off = open_invoice(email="uncollectible@example.com")
    invoice_mark_uncollectible(invoice=written_off, actor=None)
    company, contact = buyer_make(name="Draft buyer", email="draft@example.com")
    draft_make(company=company, contacts=[contact])
    partly = open_invoice(email="partly@example.com")
    invoice_record_payment(invoice=partly, amount=Decimal("42.00"), paid_on=ISSUED, method="bank_transfer", actor=None)
    for today in [MONDAY, DUE, date(2026, 12, 22), date(2026, 12, 29)]:
        reminders_send(today=today)
    assert {e.to for e in emails()} == {"partly@example.com"}
    assert len(emails()) == 4
    assert "The amount due is €200.00." in emails()[2].text
    assert ReminderSent.objects.exclude(invoice=partly).count() == 0


def test_a_step_older_than_the_catch_up_window_is_not_sent(seller):
    invoice = open_invoice()
    # Beat was down from before the due date until 2026-12-30: the +14 step (12-29) is still in the window, the
    # earlier ones are not sent after it.
    assert reminders_send(today=date(2026, 12, 30)) == 1
    assert sent_steps(invoice) == [14]
    late = open_invoice(email="late@example.com")
    # 2027-01-06 is 8 days after the +14 step's day: outside the 7-day window, so the invoice is left alone.
    assert reminders_send(today=date(2027, 1, 6)) == 0
    assert sent_steps(late) == []


def test_when_two_steps_are_due_only_the_later_one_goes_out(seller):
    invoice = open_invoice()
    # On 12-22 both the due-date step (7 days ago, in the window) and the +7 step are due.
    assert reminders_send(today=date(2026, 12, 22)) == 1
    assert sent_steps(invoice) == [7]
    assert "We have not yet received payment" in emails()[0].text


def test_a_new_early_step_never_fires_after_a_later_one(seller):
    invoice = open_invoice()
    reminders_send(today=date(2026, 12, 22))
    assert sent_steps(invoice) == [7]
    ReminderStep.objects.create(offset_days=3, kind=ReminderStep.Kind.REMINDER)  # 12-18: in the window on 12-23
    assert reminders_send(today=date(2026, 12, 23)) == 0
    assert sent_steps(invoice) == [7]


def test_the_reminder_email_states_amount_due_date_link_and_bank_details(seller):
    invoice = open_invoice()
    reminders_send(today=date(2026, 12, 22))
    email = emails()[0]
    assert email.subject == f"Payment reminder: invoice {invoice.number}"
    assert (
        f"We have not yet received payment of invoice {invoice.number}, which was due on 15 December 2026. "
        "The amount due is €242.00." in email.text
    )
    assert f"/billing/i/{invoice.public_token}/" in email.text
    assert "IBAN: NL91 ABNA 0417 1643 00" in email.text and "BIC: ABNANL2A" in email.text
    assert f"Please mention {invoice.number} as the payment reference." in email.text
    assert "&amp;" not in email.text and "&#x27;" not in email.text
    assert "<strong>€242.00</strong>" in email.html
    assert email.attachments == [{"provider": "billing.invoice_pdf", "id": invoice.pk}]


def test_upcoming_and_final_notice_texts(seller):
    invoice = open_invoice()
    reminders_send(today=MONDAY)
    reminders_send(today=DUE)
    reminders_send(today=date(2026, 12, 29))
    upcoming, due_today, final = emails()
    assert upcoming.subject == f"Invoice {invoice.number} is due on 15 December 2026"
    assert f"This is a friendly reminder that invoice {invoice.number} of €242.00 is due on 15 December 2026." in (
        upcoming.text
    )
    assert due_today.subject == f"Invoice {invoice.number} is due today"
    assert final.subject == f"Formal notice: invoice {invoice.number} is overdue"
    assert (
        "We hereby give you formal notice to pay the outstanding amount of €242.00 within 14 days of this notice, "
        "by 12 January 2027 at the latest." in final.text
    )
    assert "collection costs and statutory interest may be charged" in final.text


def test_a_dutch_buyer_reads_the_amount_in_dutch_notation(seller):
    open_invoice(language="nl")
    reminders_send(today=date(2026, 12, 22))
    email = emails()[0]
    # The Dutch sentences come with the translations; the amount and the date follow the language already.
    assert "€\xa0242,00" in email.text
    assert "15 december 2026" in email.text


def test_a_worker_killed_halfway_leaves_nothing_of_the_step_and_the_rerun_sends_each_once(seller):
    first, second = open_invoice(email="first@example.com"), open_invoice(email="second@example.com")
    real = reminders.invoice_email_queue

    def flaky(*, invoice, **kwargs):
        if invoice.pk == second.pk:
            raise RuntimeError("worker lost")
        return real(invoice=invoice, **kwargs)

    with mock.patch.object(reminders, "invoice_email_queue", side_effect=flaky), pytest.raises(RuntimeError):
        reminders_send(today=DUE)
    assert ReminderSent.objects.count() == 0
    assert emails() == []
    assert not InvoiceEvent.objects.filter(kind="reminder_sent").exists()
    assert not OutboxEvent.objects.filter(name="invoice.reminder_sent").exists()
    assert reminders_send(today=DUE) == 2
    assert reminders_send(today=DUE) == 0
    assert sorted(e.to for e in emails()) == ["first@example.com", "second@example.com"]
    assert (sent_steps(first), sent_steps(second)) == ([0], [0])


def _ensure_defaults():
    # The live tenant is emptied after each test that uses it; put back what the settings migration creates.
    invoice_settings_get()
    for offset, kind in [(-3, "upcoming"), (0, "upcoming"), (7, "reminder"), (14, "final_notice")]:
        ReminderStep.objects.get_or_create(offset_days=offset, kind=kind)


def _run_in_threads(tenant, fn, count=2):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def work():
        try:
            connection.set_tenant(tenant)
            barrier.wait()
            results.append(fn())
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def test_two_workers_at_the_same_moment_send_each_step_once(live_tenant):
    _ensure_defaults()
    invoices = [open_invoice(email=f"buyer{i}@example.com") for i in range(3)]
    results = _run_in_threads(live_tenant, lambda: reminders_send(today=date(2026, 12, 22)))
    assert sorted(results) == [0, 3]
    assert OutgoingEmail.objects.count() == 3
    assert [sent_steps(invoice) for invoice in invoices] == [[7], [7], [7]]


def test_two_workers_make_one_late_fee_invoice(live_tenant):
    _ensure_defaults()
    InvoiceSettings.objects.filter(pk=1).update(late_fee_mode="fixed", late_fee_amount=Decimal("15.00"))
    invoice = open_invoice()
    results = _run_in_threads(live_tenant, lambda: late_fees_create(today=date(2027, 1, 14)))
    assert sorted(results) == [0, 1]
    assert Invoice.objects.filter(late_fee_for=invoice).count() == 1


# --- late fees --------------------------------------------------------------------------------------------------------


def _late_fee_settings(**values):
    InvoiceSettings.objects.filter(pk=1).update(**values)


def test_a_fixed_late_fee_is_a_separate_finalized_invoice(seller):
    _late_fee_settings(late_fee_mode="fixed", late_fee_amount=Decimal("15.00"), late_fee_after_days=30)
    invoice = open_invoice()
    before = Invoice.objects.values("status", "total", "snapshot", "number", "due_date", "updated_at").get(
        pk=invoice.pk
    )
    assert late_fees_create(today=date(2027, 1, 13)) == 0  # 29 days overdue
    assert late_fees_create(today=date(2027, 1, 14)) == 1
    fee = Invoice.objects.get(late_fee_for=invoice)
    assert (fee.status, fee.total, fee.currency, fee.company_id, fee.language) == (
        "open",
        Decimal("15.00"),
        "EUR",
        invoice.company_id,
        "en",
    )
    assert fee.number == "INV-1002"
    assert list(fee.contacts.all()) == list(invoice.contacts.all())
    [line] = fee.snapshot["lines"]
    assert (line["name"], line["net"], line["tax_rate"]) == (f"Late fee for {invoice.number}", "15.00", "0")
    assert fee.snapshot["vat_total"] == "0.00" and fee.snapshot["late_fee_for"] == invoice.number
    after = Invoice.objects.values("status", "total", "snapshot", "number", "due_date", "updated_at").get(pk=invoice.pk)
    assert after == before
    assert [e.to for e in emails()] == ["kari@fjordline.example"] and fee.number in emails()[0].subject
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="late_fee_invoiced", data__late_fee_invoice=fee.number)
    # Never twice, and a late fee invoice is not charged a late fee of its own.
    assert late_fees_create(today=date(2027, 1, 15)) == 0
    assert late_fees_create(today=date(2027, 6, 1)) == 0
    assert Invoice.objects.filter(late_fee_for__isnull=False).count() == 1


def test_statutory_interest_on_the_balance_for_the_days_overdue(seller):
    _late_fee_settings(late_fee_mode="statutory", late_fee_interest_rate=Decimal("10.150"), late_fee_after_days=30)
    invoice = open_invoice()
    assert late_fees_create(today=date(2027, 1, 14)) == 1
    fee = Invoice.objects.get(late_fee_for=invoice)
    # 242.00 x 10.15% x 30 / 365 = 2.0188... -> 2.02
    assert fee.total == Decimal("2.02")
    assert fee.snapshot["lines"][0]["name"] == (
        f"Statutory interest on {invoice.number} from 15 December 2026 to 14 January 2027"
    )


def test_statutory_interest_counts_only_what_is_still_due(seller):
    _late_fee_settings(late_fee_mode="statutory", late_fee_interest_rate=Decimal("10.150"), late_fee_after_days=30)
    invoice = open_invoice()
    invoice_record_payment(invoice=invoice, amount=Decimal("142.00"), paid_on=ISSUED, method="card", actor=None)
    late_fees_create(today=date(2027, 1, 14))
    # 100.00 x 10.15% x 30 / 365 = 0.834... -> 0.83
    assert Invoice.objects.get(late_fee_for=invoice).total == Decimal("0.83")


def test_the_database_refuses_a_second_late_fee_invoice_and_the_run_recognises_it(seller):
    invoice = open_invoice()
    invoice_create(actor=None, company=invoice.company, late_fee_for=invoice)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        invoice_create(actor=None, company=invoice.company, late_fee_for=invoice)
    assert reminders.late_fee_conflict(refused.value)


def test_no_late_fee_when_none_is_set_paid_or_the_amount_rounds_to_zero(seller):
    invoice = open_invoice()
    assert late_fees_create(today=date(2027, 3, 1)) == 0  # mode "none" by default
    _late_fee_settings(late_fee_mode="statutory", late_fee_interest_rate=Decimal("0.001"), late_fee_after_days=1)
    assert late_fees_create(today=date(2026, 12, 16)) == 0  # 242 x 0.001% x 1 / 365 rounds to 0.00
    paid = open_invoice(email="paid@example.com")
    invoice_record_payment(invoice=paid, amount=Decimal("242.00"), paid_on=ISSUED, method="card", actor=None)
    _late_fee_settings(late_fee_mode="fixed", late_fee_amount=Decimal("10.00"))
    assert late_fees_create(today=date(2026, 12, 20)) == 1
    assert list(Invoice.objects.filter(late_fee_for__isnull=False).values_list("late_fee_for", flat=True)) == [
        invoice.pk
    ]


def test_an_unsent_invoice_or_one_due_on_receipt_gets_no_reminder(seller):
    unsent = open_invoice(email="post@example.com")
    Invoice.objects.filter(pk=unsent.pk).update(sent_at=None)  # handed over on paper
    on_receipt = open_invoice(email="now@example.com", issue_date=DUE)  # issued on its due date
    assert reminders_send(today=DUE) == 0
    assert sent_steps(unsent) == [] and sent_steps(on_receipt) == []


def test_late_fees_are_not_charged_for_long_forgotten_invoices(seller):
    _late_fee_settings(late_fee_mode="fixed", late_fee_amount=Decimal("15.00"), late_fee_after_days=30)
    open_invoice()
    # Due 2026-12-15: the fee falls due on 2027-01-14; switched on half a year later, it is not charged.
    assert late_fees_create(today=date(2027, 6, 1)) == 0
    assert Invoice.objects.filter(late_fee_for__isnull=False).count() == 0
