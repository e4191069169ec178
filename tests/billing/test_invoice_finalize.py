"""Finalizing invoices: gap-free numbers under concurrency, the frozen snapshot, and immutability enforced by the
services and by the database."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from billing.editor import owner_for
from billing.models import Invoice, InvoiceEvent, InvoiceStatus, LineItem, NumberSeries, TaxRate
from billing.services import line_items as line_services
from billing.services.invoices import DraftValues, invoice_finalize, invoice_update_draft
from billing.services.numbering import number_series_update, number_take
from commerce_hub.accounts.models import AuditEntry
from commerce_hub.events.models import OutboxEvent
from commerce_hub.organization.models import OrganizationProfile
from tests.billing.invoicing import buyer_make, draft_make, finalized_make, seller_ready


@pytest.fixture
def seller(tenant_alpha):
    return seller_ready()


def test_finalize_assigns_the_first_number_and_totals_from_the_engine(seller, admin_user):
    invoice = finalized_make(
        actor=admin_user, lines=(("Consulting", "2", "100.00", "BTW 21%"), ("Book", "3", "12.50", "BTW 9%"))
    )
    assert invoice.number == "INV-1001"
    assert invoice.sequence == 1001
    assert invoice.status == InvoiceStatus.OPEN
    # 200.00 + 21% = 242.00; 37.50 + 9% (3.375 -> 3.38) = 40.88
    assert invoice.total == Decimal("282.88")
    assert [(g["rate"], g["base"], g["vat"]) for g in invoice.snapshot["vat_groups"]] == [
        ("21.00", "200.00", "42.00"),
        ("9.00", "37.50", "3.38"),
    ]
    assert invoice.issue_date == date.today()
    assert invoice.due_date == date.today() + timedelta(days=14)
    assert len(invoice.public_token) == 43  # 32 random bytes, URL-safe base64


def test_finalize_numbers_consecutively_and_leaves_drafts_unnumbered(seller, admin_user):
    numbers = [finalized_make(actor=admin_user).number for _ in range(3)]
    draft = draft_make(actor=admin_user)
    assert numbers == ["INV-1001", "INV-1002", "INV-1003"]
    assert draft.number is None
    assert NumberSeries.objects.get(key="invoice").next_number == 1004


def test_finalize_writes_timeline_audit_and_domain_event(seller, admin_user):
    invoice = finalized_make(actor=admin_user)
    event = InvoiceEvent.objects.get(invoice=invoice, kind="finalized")
    assert (event.from_status, event.to_status, event.actor) == ("draft", "open", admin_user)
    assert AuditEntry.objects.filter(action="invoice.finalized", object_id=str(invoice.pk)).count() == 1
    outbox = OutboxEvent.objects.get(name="invoice.finalized")
    assert outbox.payload["number"] == "INV-1001"


def test_finalize_refuses_an_empty_invoice_or_one_without_buyer(seller, admin_user):
    empty = draft_make(actor=admin_user, lines=())
    with pytest.raises(ValidationError) as exc:
        invoice_finalize(invoice=empty, actor=admin_user)
    assert "Add at least one line item." in exc.value.messages
    nobody = draft_make(actor=admin_user, company=None, contacts=[])
    with pytest.raises(ValidationError) as exc:
        invoice_finalize(invoice=nobody, actor=admin_user)
    assert "Choose the buyer: a company or a contact." in exc.value.messages
    assert NumberSeries.objects.get(key="invoice").last_used is None  # nothing was used up


def test_reverse_charge_needs_the_buyer_vat_number(seller, admin_user):
    company, contact = buyer_make(vat_number="")
    draft = draft_make(
        actor=admin_user, company=company, contacts=[contact], lines=(("Licence", "1", "500", "EU reverse charge"),)
    )
    with pytest.raises(ValidationError) as exc:
        invoice_finalize(invoice=draft, actor=admin_user)
    assert "Reverse-charge VAT needs the buyer's VAT number: add it to the company." in exc.value.messages


def test_finalizing_twice_is_refused(seller, admin_user):
    invoice = finalized_make(actor=admin_user)
    with pytest.raises(ValidationError) as exc:
        invoice_finalize(invoice=invoice, actor=admin_user)
    assert exc.value.messages == ["Invoice INV-1001 is finalized and cannot be edited."]


def test_the_snapshot_keeps_what_was_printed_when_seller_and_buyer_change(seller, admin_user):
    invoice = finalized_make(actor=admin_user)
    OrganizationProfile.objects.filter(pk=1).update(legal_name="Renamed B.V.")
    invoice.company.name = "Other AS"
    invoice.company.save()
    invoice.refresh_from_db()
    assert invoice.snapshot["seller"]["legal_name"] == "Alpha Handel B.V."
    assert invoice.snapshot["buyer"]["name"] == "Fjordline AS"
    assert invoice.snapshot["buyer"]["vat_number"] == "NO974760673MVA"


def test_a_finalized_invoice_keeps_its_logo_after_a_new_upload(seller, admin_user):
    profile = OrganizationProfile.objects.get(pk=1)
    profile.logo.save("logo-a.png", ContentFile(b"\x89PNG first logo"), save=True)
    invoice = finalized_make(actor=admin_user)
    profile.logo.save("logo-b.png", ContentFile(b"\x89PNG second logo"), save=True)
    invoice.refresh_from_db()
    with default_storage.open(invoice.logo_path, "rb") as fh:
        assert fh.read() == b"\x89PNG first logo"
    assert invoice.snapshot["logo_path"] == invoice.logo_path


# --- immutability -----------------------------------------------------------------------------------------------------


def test_services_refuse_to_edit_a_finalized_invoice(seller, admin_user):
    invoice = finalized_make(actor=admin_user)
    with pytest.raises(ValidationError):
        invoice_update_draft(invoice=invoice, values=DraftValues(company=None, currency="EUR"), actor=admin_user)
    owner = owner_for("invoice", invoice)
    line = LineItem.objects.get(invoice=invoice)
    with pytest.raises(ValidationError) as exc:
        line_services.line_item_delete(owner=owner, line=line, actor=admin_user)
    assert exc.value.messages == ["Invoice INV-1001 is finalized: its lines cannot change."]
    assert LineItem.objects.filter(invoice=invoice).count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"total": Decimal("1.00")},
        {"number": "INV-9999"},
        {"due_date": date(2030, 1, 1)},
        {"snapshot": {}},
        {"status": "draft"},
    ],
)
def test_the_database_refuses_changes_to_a_finalized_invoice(seller, admin_user, change):
    invoice = finalized_make(actor=admin_user)
    with pytest.raises(DatabaseError, match="finalized"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(**change)


def test_the_database_refuses_deleting_a_finalized_invoice_or_its_lines(seller, admin_user):
    invoice = finalized_make(actor=admin_user)
    with pytest.raises(DatabaseError, match="finalized"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).delete()
    with pytest.raises(DatabaseError, match="finalized"), transaction.atomic():
        LineItem.objects.filter(invoice=invoice).update(unit_price=Decimal("1"))
    with pytest.raises(DatabaseError, match="finalized"), transaction.atomic():
        LineItem.objects.create(invoice=invoice, name="Sneaked in", unit_price=Decimal("5"), currency="EUR")
    # State changes stay possible: that is how an invoice gets paid or voided.
    Invoice.objects.filter(pk=invoice.pk).update(status="void")


def test_a_locked_tax_rate_is_marked_by_finalization(seller, admin_user):
    finalized_make(actor=admin_user)
    assert TaxRate.objects.get(name="BTW 21%").locked_at is not None


# --- number settings --------------------------------------------------------------------------------------------------


def test_start_number_at_or_below_a_used_number_is_refused(seller, admin_user):
    finalized_make(actor=admin_user)
    with pytest.raises(ValidationError) as exc:
        number_series_update(key="invoice", prefix="INV", start_number=1001, actor=admin_user)
    assert exc.value.message_dict["start_number"] == ["Number 1001 is already used. Start at 1002 or higher."]
    number_series_update(key="invoice", prefix="F2027", start_number=5000, actor=admin_user)
    assert finalized_make(actor=admin_user).number == "F2027-5000"
    assert Invoice.objects.get(number="INV-1001").number == "INV-1001"


@pytest.mark.parametrize("typed", ["NLS-", "nls", " NLS/ ", "-NLS-"])
def test_a_prefix_with_its_own_separator_numbers_without_a_double_dash(seller, admin_user, typed):
    number_series_update(key="invoice", prefix=typed, start_number=5001, actor=admin_user)
    assert NumberSeries.objects.get(key="invoice").prefix == "NLS"
    assert finalized_make(actor=admin_user).number == "NLS-5001"


def test_a_series_saved_with_a_trailing_dash_still_numbers_with_one_dash(seller, admin_user):
    NumberSeries.objects.filter(key="invoice").update(prefix="NLS-", next_number=5001)
    assert finalized_make(actor=admin_user).number == "NLS-5001"


def test_no_two_series_share_a_prefix_whatever_its_separators(seller, admin_user):
    with pytest.raises(ValidationError) as exc:
        number_series_update(key="invoice", prefix="CN-", start_number=1001, actor=admin_user)
    assert exc.value.message_dict["prefix"] == ["Another document series already uses the prefix CN."]
    assert NumberSeries.objects.get(key="invoice").prefix == "INV"


def test_a_prefix_another_series_numbered_with_before_is_refused(seller, admin_user):
    from billing.models import CreditNote
    from billing.services.credit_notes import credit_note_create

    invoice = finalized_make(actor=admin_user)
    finalized_make(actor=admin_user)
    credit_note_create(invoice=invoice, actor=admin_user, whole=True)  # CN-1001
    number_series_update(key="credit_note", prefix="CRN", start_number=1002, actor=admin_user)
    with pytest.raises(ValidationError) as exc:
        number_series_update(key="invoice", prefix="CN", start_number=1003, actor=admin_user)
    assert exc.value.message_dict["prefix"] == [
        "Another document series was numbered with the prefix CN before, so its numbers would repeat. "
        "Choose another prefix."
    ]
    assert NumberSeries.objects.get(key="invoice").prefix == "INV"
    assert list(CreditNote.objects.values_list("number", flat=True)) == ["CN-1001"]


# --- concurrency ------------------------------------------------------------------------------------------------------


class _RollBack(Exception):
    pass


def test_fifty_parallel_finalizations_get_consecutive_numbers_even_when_some_roll_back(live_tenant):
    seller_ready()
    drafts = [draft_make().pk for _ in range(50)]
    rolled_back = set(drafts[3::5])  # ten of them fail after taking a number

    def finalize(pk):
        try:
            with schema_context("t_live"):
                try:
                    with transaction.atomic():
                        invoice = invoice_finalize(invoice=Invoice(pk=pk), actor=None)
                        if pk in rolled_back:
                            raise _RollBack
                        return invoice.number
                except _RollBack:
                    return None
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(finalize, drafts))
    numbers = sorted(int(n.removeprefix("INV-")) for n in results if n)
    assert numbers == list(range(1001, 1041))
    assert Invoice.objects.filter(status="open").count() == 40
    assert Invoice.objects.filter(status="draft", number__isnull=True).count() == 10
    assert NumberSeries.objects.get(key="invoice").next_number == 1041


def test_another_tenant_is_not_blocked_by_a_held_counter_lock(live_tenant):
    seller_ready()
    held = threading.Event()
    release = threading.Event()

    def hold_the_live_counter():
        try:
            with schema_context("t_live"), transaction.atomic():
                number_take(key="invoice")
                held.set()
                release.wait(10)
                raise _RollBack
        except _RollBack:
            pass
        finally:
            connection.close()

    def finalize_in_alpha():
        try:
            with schema_context("t_alpha"):
                try:
                    with transaction.atomic():
                        seller_ready()
                        number = invoice_finalize(invoice=draft_make(), actor=None).number
                        raise _RollBack(number)
                except _RollBack as done:
                    return done.args[0]
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_live_counter)
    holder.start()
    assert held.wait(10)
    with ThreadPoolExecutor(max_workers=1) as pool:
        number = pool.submit(finalize_in_alpha).result(timeout=8)  # would time out if it waited for t_live
    release.set()
    holder.join(10)
    assert number.startswith("INV-")


def test_raw_sql_cannot_delete_a_finalized_invoice(seller, admin_user):
    invoice = finalized_make(actor=admin_user)
    with pytest.raises(DatabaseError, match="cannot be deleted"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk])


def test_the_same_draft_finalized_twice_at_once_gets_one_number(live_tenant):
    seller_ready()
    pk = draft_make().pk
    start = threading.Barrier(2)

    def finalize(_n):
        try:
            with schema_context("t_live"):
                start.wait(5)
                try:
                    return invoice_finalize(invoice=Invoice(pk=pk), actor=None).number
                except ValidationError as exc:
                    return exc.messages[0]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(finalize, range(2)))
    assert results == ["INV-1001", "Invoice INV-1001 is finalized and cannot be edited."]
    assert NumberSeries.objects.get(key="invoice").next_number == 1002


def test_two_payments_at_once_apply_up_to_the_balance_and_keep_the_rest_as_credit(live_tenant):
    from billing.selectors.receivables import credit_available, invoice_account, invoice_figures
    from billing.services.invoice_payments import invoice_record_payment

    invoice = finalized_make()  # 242.00
    start = threading.Barrier(2)

    def pay(_n):
        try:
            with schema_context("t_live"):
                start.wait(5)
                try:
                    invoice_record_payment(
                        invoice=Invoice(pk=invoice.pk),
                        amount=Decimal("150.00"),
                        paid_on=date.today(),
                        method="bank_transfer",
                        actor=None,
                    )
                    return "paid"
                except ValidationError:
                    return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sorted(pool.map(pay, range(2))) == ["paid", "paid"]
    invoice.refresh_from_db()
    figures = invoice_figures(invoice)
    assert (invoice.status, figures.paid, figures.due) == (InvoiceStatus.PAID, Decimal("242.00"), 0)
    assert credit_available(invoice_account(invoice), "EUR") == Decimal("58.00")
