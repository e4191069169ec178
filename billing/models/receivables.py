"""The receivables ledger: what each customer account owes, per currency, as append-only entries.

A customer account is a company, or a contact where the invoice has no company. Every entry moves one of two
buckets of that account:
- an invoice's bucket (`invoice` set): what is still owed on that invoice;
- the account's credit bucket (`invoice` empty): money received and not applied, and credit granted. Its sum is
  zero or negative; its negation is the customer's credit.

Amounts are signed from the seller's point of view: positive raises what the customer owes, negative lowers it.
Moving money between buckets (a payment applied to an invoice, credit applied) is a pair of entries that add up to
zero, so the sum of every entry of an account and currency is always its open balances less its credit.

A database trigger refuses UPDATE and DELETE: a mistake is corrected by a new entry (a reversal), never by editing.
Every figure derived from these rows (an invoice's paid, credited and due amounts and its settlement status, a
customer's credit, aging) is defined once, in billing/selectors/receivables.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from crm.models import Company, Contact


class EntryKind(models.TextChoices):
    INVOICE_FINALIZED = "invoice_finalized", _("Invoice issued")
    CREDIT_NOTE_ISSUED = "credit_note_issued", _("Credit note")
    PAYMENT_RECEIVED = "payment_received", _("Payment received")
    PAYMENT_APPLIED = "payment_applied", _("Payment applied")
    PAYMENT_REVERSED = "payment_reversed", _("Payment reversed")
    REFUND = "refund", _("Refund")
    # A lost dispute: the buyer's bank took the payment back, so the invoice owes it again.
    CHARGEBACK = "chargeback", _("Chargeback")
    CREDIT_ADDED = "credit_added", _("Customer credit added")
    CREDIT_APPLIED = "credit_applied", _("Customer credit applied")
    WRITTEN_OFF = "written_off", _("Written off")
    VOIDED = "voided", _("Voided")


class ReceivableEntry(models.Model):
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    # The bucket: the invoice whose balance this moves, or none for the account's credit.
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    # The document that caused it (besides the invoice).
    payment = models.ForeignKey(
        "billing.InvoicePayment", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    credit_note = models.ForeignKey(
        "billing.CreditNote", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    effective_on = models.DateField(default=timezone.localdate)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Who or what caused it when no person did: "system", "processor:<name>", "import:<name>".
    caused_by = models.CharField(max_length=60, blank=True)
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Every invoice figure is a sum over the invoice's entries: an index-only scan per invoice.
            models.Index(
                fields=["invoice"],
                include=["kind", "amount"],
                condition=Q(invoice__isnull=False),
                name="billing_ledger_invoice",
            ),
            # A customer's credit per currency: the credit bucket of one account.
            models.Index(
                fields=["company", "currency"],
                include=["amount"],
                condition=Q(invoice__isnull=True),
                name="billing_ledger_company_credit",
            ),
            models.Index(
                fields=["contact", "currency"],
                include=["amount"],
                condition=Q(invoice__isnull=True),
                name="billing_ledger_contact_credit",
            ),
            models.Index(fields=["payment"], name="billing_ledger_payment", condition=Q(payment__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, contact__isnull=True)
                | Q(company__isnull=True, contact__isnull=False),
                name="billing_ledger_one_account",
            ),
            # One issue entry per invoice: it also fixes the invoice's account for every later entry.
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(kind="invoice_finalized"), name="billing_ledger_issued_once"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount} {self.currency}"
