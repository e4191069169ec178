"""What finance staff read about payments: the payments index (default and saved views, filters, search, sort, keyset
pages, CSV rows) and a payment's record page (figures, refunds, disputes, receipt, timeline).

As in the invoices index (billing/selectors/invoice_index.py) a view's whole state lives in its query string: a saved
view is a saved query string and the CSV export walks exactly the rows on screen. No COUNT(*) runs: pages are keyset
pages. A row's refunded amount and open dispute come from correlated subqueries on indexed foreign keys, so a page of
fifty rows costs one query whatever the table's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from commerce_hub.saved_views import SavedViewIndex
from commerce_hub.saved_views.models import SavedView
from commerce_hub.saved_views.selectors import saved_views_for
from commerce_hub.text import clean_search, is_id
from crm.models import Company, Contact, Deal
from payments.filters import RECORD_FILTERS, PaymentFilter
from payments.models import (
    DISPUTE_OPEN,
    PAYMENT_ACTIVE,
    Dispute,
    MethodKind,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Receipt,
    Refund,
    RefundStatus,
)
from payments.selectors.checkout import IDEAL_BANKS

PAYMENT_VIEWS = SavedViewIndex(name="payments.payment", share_perm="accounts.manage_payments", audit_prefix="payment")

DEFAULT_VIEWS = [
    ("all", gettext_lazy("All")),
    ("succeeded", gettext_lazy("Succeeded")),
    ("in_progress", gettext_lazy("In progress")),
    ("failed", gettext_lazy("Failed")),
    ("refunded", gettext_lazy("Refunded")),
    ("disputed", gettext_lazy("Disputed")),
]
VIEW_KEYS = {key for key, _label in DEFAULT_VIEWS}
# Both sort columns are NOT NULL, as keyset pagination needs; the id breaks ties.
SORTS = {"date": ("created_at", gettext_lazy("Date")), "amount": ("amount", gettext_lazy("Amount"))}
DEFAULT_SORT = "-date"

# What a row's badge says: the processor's status, refined by what happened to the money since.
DISPLAY_LABELS = {
    "refunded": gettext_lazy("Refunded"),
    "partially_refunded": gettext_lazy("Partially refunded"),
    "disputed": gettext_lazy("Disputed"),
}
BADGES = {
    PaymentStatus.SUCCEEDED: "badge-ok",
    PaymentStatus.FAILED: "badge-danger",
    PaymentStatus.CANCELED: "badge-muted",
    PaymentStatus.CREATED: "stage-open",
    PaymentStatus.REQUIRES_ACTION: "stage-open",
    PaymentStatus.PROCESSING: "stage-open",
    "refunded": "badge-muted",
    "partially_refunded": "",
    "disputed": "badge-danger",
}
BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "jcb": "JCB",
    "diners": "Diners Club",
    "unionpay": "UnionPay",
    "card": gettext_lazy("Card"),
}
_MONEY_OUTPUT = {"max_digits": MONEY_MAX_DIGITS, "decimal_places": MONEY_DECIMAL_PLACES}
ZERO = Decimal(0)


def payment_saved_views(user) -> QuerySet[SavedView]:
    return saved_views_for(index=PAYMENT_VIEWS, user=user)


# --- what a row shows ------------------------------------------------------------------------------------------------


def method_text(method: str, details: dict | None) -> str:
    """How a payment's method reads on screen, in a CSV and on a receipt: "Visa •••• 4242", "SEPA Direct Debit
    •••• 4300", "iDEAL (ING)". Only what the processor reported and the buyer may see again."""
    details = details or {}
    if method == MethodKind.CARD:
        brand = str(details.get("brand", "") or "card").lower()
        name = str(BRANDS.get(brand, brand.title()))
        last4 = details.get("last4")
        return f"{name} •••• {last4}" if last4 else name
    try:
        label = str(MethodKind(method).label)
    except ValueError:
        label = method
    last4 = details.get("iban_last4") or details.get("account_last4")
    if last4:
        return f"{label} •••• {last4}"
    if details.get("bank"):
        return f"{label} ({dict(IDEAL_BANKS).get(details['bank'], details['bank'])})"
    return label


def payment_rows() -> QuerySet[Payment]:
    """Payments with what an index row or a record page shows, in one query: the customer, contact, deal and invoice
    joined (the invoice's snapshot left unread: it can be large), the amount refunded and whether a dispute is open."""
    refunded = (
        Refund.objects.filter(payment=OuterRef("pk"), status=RefundStatus.SUCCEEDED)
        .order_by()
        .values("payment")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return (
        Payment.objects.select_related("invoice", "company", "contact", "deal")
        .defer("invoice__snapshot", "next_action")
        .annotate(
            refunded_total=Coalesce(Subquery(refunded), Value(ZERO), output_field=Payment._meta.get_field("amount")),
            dispute_open=Exists(Dispute.objects.filter(payment=OuterRef("pk"), status__in=DISPUTE_OPEN)),
        )
    )


def display_status(payment: Payment) -> str:
    refunded = getattr(payment, "refunded_total", ZERO) or ZERO
    if getattr(payment, "dispute_open", False):
        return "disputed"
    if payment.status == PaymentStatus.SUCCEEDED and refunded > 0:
        return "refunded" if refunded >= payment.amount else "partially_refunded"
    return payment.status


def _status_label(status: str) -> str:
    if status in DISPLAY_LABELS:
        return str(DISPLAY_LABELS[status])
    try:
        return str(PaymentStatus(status).label)
    except ValueError:
        return status


def payment_rows_decorate(rows: list[Payment]) -> list[Payment]:
    """What a row prints besides its loaded columns (no query per row): status label and badge, the customer and
    the method."""
    for row in rows:
        row.display_status = display_status(row)
        row.status_label = _status_label(row.display_status)
        row.badge = BADGES.get(row.display_status, "")
        row.method_text = method_text(row.method, row.method_details)
        if row.company_id:
            row.customer_name, row.customer_kind, row.customer_id = row.company.name, "company", row.company_id
        elif row.contact_id:
            row.customer_name, row.customer_kind, row.customer_id = row.contact.full_name, "contact", row.contact_id
        else:
            row.customer_name, row.customer_kind, row.customer_id = row.buyer_name or row.buyer_email, "", None
    return rows


# --- the index -------------------------------------------------------------------------------------------------------


def _view_condition(view: str) -> Q:
    if view == "succeeded":
        return Q(status=PaymentStatus.SUCCEEDED)
    if view == "in_progress":
        return Q(status__in=PAYMENT_ACTIVE)
    if view == "failed":
        return Q(status__in=[PaymentStatus.FAILED, PaymentStatus.CANCELED])
    if view == "refunded":
        return Q(Exists(Refund.objects.filter(payment=OuterRef("pk"), status=RefundStatus.SUCCEEDED)))
    if view == "disputed":
        return Q(Exists(Dispute.objects.filter(payment=OuterRef("pk"))))
    return Q()


@dataclass
class PaymentIndex:
    filterset: PaymentFilter
    queryset: QuerySet  # filters, search and view applied, ready for keyset_page
    ordering: list[str]
    sort: str
    view: str  # the tab: a default view's key or a saved view's id
    base: str  # the default view whose rows apply
    params: QueryDict
    search: str
    active_filters: int
    notice: str = ""
    scope: list[tuple[str, str]] = field(default_factory=list)

    @property
    def save_query(self) -> str:
        params = self.params.copy()
        for key in ("after", "view", "base"):
            params.pop(key, None)
        if self.base != "all":
            params["base"] = self.base
        return params.urlencode()

    @property
    def filtered(self) -> bool:
        return bool(self.search or self.active_filters or self.scope or self.base != "all")


def _normalise_view(params: QueryDict, user) -> tuple[QueryDict, str, str, str]:
    """A saved view's query string is the base and explicit parameters win; see billing's invoice index."""
    view = params.get("view", "all") or "all"
    notice = ""
    merged = QueryDict(mutable=True)
    if is_id(view):
        saved = payment_saved_views(user).filter(pk=view).first()
        if saved is None:
            view, notice = "all", _("That saved view does not exist (any more); showing all payments.")
        else:
            merged.update(QueryDict(saved.query))
    elif view not in VIEW_KEYS:
        view, notice = "all", _("There is no such view; showing all payments.")
    for key in params:
        if key not in ("view", "after"):
            merged.setlist(key, params.getlist(key))
    base = view if view in VIEW_KEYS else merged.get("base", "all")
    return merged, view, (base if base in VIEW_KEYS else "all"), notice


def _is_set(params: QueryDict, name: str) -> bool:
    return any(params.get(key) for key in (name, f"{name}_after", f"{name}_before", f"{name}_min", f"{name}_max"))


def _scope(filterset: PaymentFilter) -> list[tuple[str, str]]:
    """Name the records the id filters point at, so the page says whose payments it shows."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    data, found = filterset.form.cleaned_data, []
    if data.get("company_id"):
        name = Company.objects.filter(pk=data["company_id"]).values_list("name", flat=True).first()
        found.append((_("Company"), name or _("(deleted)")))
    if data.get("contact_id"):
        contact = Contact.objects.filter(pk=data["contact_id"]).first()
        found.append((_("Contact"), contact.full_name if contact else _("(deleted)")))
    if data.get("deal_id"):
        name = Deal.objects.filter(pk=data["deal_id"]).values_list("name", flat=True).first()
        found.append((_("Deal"), name or _("(deleted)")))
    if data.get("invoice_id"):
        from billing.models import Invoice

        number = Invoice.objects.filter(pk=data["invoice_id"]).values_list("number", flat=True).first()
        found.append((_("Invoice"), number or _("(deleted)")))
    return found


def payment_index_query(*, params: QueryDict, user) -> PaymentIndex:
    params, view, base, notice = _normalise_view(params, user)
    qs = payment_rows().filter(_view_condition(base))
    search = clean_search(params.get("q", ""))
    if search:
        qs = qs.filter(
            Q(invoice__number__icontains=search)
            | Q(company__name__icontains=search)
            | Q(buyer_email__icontains=search)
            | Q(buyer_name__icontains=search)
            | Q(public_id=search)
            | Q(processor_reference=search)
        )
    filterset = PaymentFilter(params, queryset=qs)
    # A filter that cannot be applied (a bad date, an absurd amount, a forged id) shows nothing rather than
    # everything: an export must never widen silently. The form says why.
    qs = filterset.qs if filterset.is_valid() else qs.none()
    sort = params.get("sort", "") or DEFAULT_SORT
    if sort.lstrip("-") not in SORTS:
        sort = DEFAULT_SORT
    column = SORTS[sort.lstrip("-")][0]
    qs = qs.annotate(_sort_value=F(column))
    ordering = ["-_sort_value", "-id"] if sort.startswith("-") else ["_sort_value", "id"]
    active = sum(1 for name in filterset.filters if name not in RECORD_FILTERS and _is_set(params, name))
    return PaymentIndex(
        filterset=filterset,
        queryset=qs,
        ordering=ordering,
        sort=sort,
        view=view,
        base=base,
        params=params,
        search=search,
        active_filters=active,
        notice=notice,
        scope=_scope(filterset),
    )


# --- the record page -------------------------------------------------------------------------------------------------


@dataclass
class PaymentPage:
    payment: Payment
    status: str
    status_label: str
    badge: str
    method_text: str
    net: Decimal | None
    refunded: Decimal
    refund_pending: Decimal
    refundable: Decimal
    refunds: list[Refund]
    disputes: list[Dispute]
    events: list[PaymentEvent]
    receipt: Receipt | None


def payment_page(payment: Payment, *, refundable: Decimal) -> PaymentPage:
    """Everything the record page shows, in a handful of queries whatever the payment's history. `refundable` is
    payments.services.refunds.payment_refundable's answer: the one definition of what is left to refund."""
    refunds = list(Refund.objects.filter(payment=payment).select_related("credit_note", "created_by"))
    refunded = sum((r.amount for r in refunds if r.status == RefundStatus.SUCCEEDED), ZERO)
    pending = sum((r.amount for r in refunds if r.status == RefundStatus.PENDING), ZERO)
    refundable = refundable if payment.status == PaymentStatus.SUCCEEDED else ZERO
    payment_rows_decorate([payment])
    return PaymentPage(
        payment=payment,
        status=payment.display_status,
        status_label=payment.status_label,
        badge=payment.badge,
        method_text=payment.method_text,
        net=payment.net,
        refunded=refunded,
        refund_pending=pending,
        refundable=max(refundable, ZERO),
        refunds=refunds,
        disputes=list(payment.disputes.order_by("-opened_at", "-id")),
        events=list(PaymentEvent.objects.filter(payment=payment).select_related("actor").order_by("created_at", "id")),
        receipt=Receipt.objects.filter(payment=payment).first(),
    )


def receipt_document_get(receipt: Receipt) -> dict:
    """What a receipt prints, as it was fixed when it was issued (kept on its "receipt_issued" timeline row)."""
    row = (
        PaymentEvent.objects.filter(payment_id=receipt.payment_id, kind="receipt_issued", data__number=receipt.number)
        .order_by("id")
        .first()
    )
    if row is None or not row.data.get("document"):
        raise ValueError(f"Receipt {receipt.number} has no document.")
    return row.data["document"]
