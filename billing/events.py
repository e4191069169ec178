"""Billing's domain events: names, payload fields and versions (see commerce_hub.events.catalogue)."""

from commerce_hub.events.catalogue import event_declare

APP = "billing"
_INVOICE = ("id", "number")

# Invoices. Changes recorded through invoice_change_record carry the change's data as optional fields.
INVOICE_FINALIZED = event_declare("invoice.finalized", app=APP, fields=_INVOICE, optional=("total", "currency"))
INVOICE_VIEWED = event_declare("invoice.viewed", app=APP, fields=_INVOICE)
INVOICE_SENT = event_declare("invoice.sent", app=APP, fields=_INVOICE, optional=("recipients",))
INVOICE_PAID = event_declare("invoice.paid", app=APP, fields=_INVOICE, optional=("via",))
INVOICE_REOPENED = event_declare("invoice.reopened", app=APP, fields=_INVOICE, optional=("via",))
INVOICE_VOIDED = event_declare("invoice.voided", app=APP, fields=_INVOICE, optional=("reason",))
INVOICE_UNCOLLECTIBLE = event_declare("invoice.uncollectible", app=APP, fields=_INVOICE)
INVOICE_CREDITED = event_declare("invoice.credited", app=APP, fields=("id",), optional=("number", "via"))
INVOICE_OVERDUE = event_declare("invoice.overdue", app=APP, fields=(*_INVOICE, "due_date"))
INVOICE_REMINDER_SENT = event_declare(
    "invoice.reminder_sent", app=APP, fields=(*_INVOICE, "offset_days", "kind", "recipients")
)
INVOICE_PAYMENT_RECORDED = event_declare(
    "invoice.payment_recorded", app=APP, fields=("id", "payment_id", "amount", "currency")
)
INVOICE_PAYMENT_REVERSED = event_declare(
    "invoice.payment_reversed", app=APP, fields=("id", "payment_id", "amount", "currency"), optional=("reason",)
)
INVOICE_PAYMENT_REFUNDED = event_declare(
    "invoice.payment_refunded",
    app=APP,
    fields=("id", "payment_id", "amount", "currency"),
    optional=("mode", "credit_note", "reason"),
)
INVOICE_PAYMENT_CHARGED_BACK = event_declare(
    "invoice.payment_charged_back", app=APP, fields=("id", "payment_id", "amount", "currency")
)
INVOICE_LINE_ITEMS_CHANGED = event_declare("invoice.line_items_changed", app=APP, fields=("id",))

# invoice_change_record(event=...) takes the constant; the lookup by change kind serves callers that pass the
# kind of an invoice state change (paid, reopened, voided, ...).
INVOICE_CHANGES = {
    event.name.removeprefix("invoice."): event
    for event in (
        INVOICE_FINALIZED,
        INVOICE_VIEWED,
        INVOICE_SENT,
        INVOICE_PAID,
        INVOICE_REOPENED,
        INVOICE_VOIDED,
        INVOICE_UNCOLLECTIBLE,
        INVOICE_CREDITED,
        INVOICE_PAYMENT_REVERSED,
        INVOICE_PAYMENT_REFUNDED,
        INVOICE_PAYMENT_CHARGED_BACK,
    )
}

CREDIT_NOTE_ISSUED = event_declare("credit_note.issued", app=APP, fields=("id", "invoice_id", "number"))

# Customer credit (receivables ledger). Amounts are decimal strings in the currency's precision.
CUSTOMER_CREDIT_ADDED = event_declare(
    "customer_credit.added", app=APP, fields=("account", "currency", "amount", "entry_id")
)
CUSTOMER_CREDIT_APPLIED = event_declare(
    "customer_credit.applied", app=APP, fields=("account", "currency", "amount", "invoice_id")
)

# Dunning (billing.services.subscription_dunning): a failed automatic charge makes a subscription past due; paying
# the invoice (or voiding it) makes it active again.
SUBSCRIPTION_PAST_DUE = event_declare(
    "subscription.past_due", app=APP, fields=("id",), optional=("invoice_id", "since")
)
SUBSCRIPTION_RECOVERED = event_declare("subscription.recovered", app=APP, fields=("id",), optional=("invoice_id",))

# Line items, by the kind of document that owns them (billing.editor.OwnerKind.kind).
DEAL_LINE_ITEMS_CHANGED = event_declare("deal.line_items_changed", app=APP, fields=("id",))
LINE_ITEMS_CHANGED = {"deal": DEAL_LINE_ITEMS_CHANGED, "invoice": INVOICE_LINE_ITEMS_CHANGED}

PRODUCT_CREATED = event_declare("product.created", app=APP, fields=("id",))
PRODUCT_UPDATED = event_declare("product.updated", app=APP, fields=("id", "fields"))
PRODUCT_BULK_CREATED = event_declare("product.bulk_created", app=APP, fields=("ids",), optional=("import",))

TAX_RATE_CREATED = event_declare("tax_rate.created", app=APP, fields=("id",))
TAX_RATE_UPDATED = event_declare("tax_rate.updated", app=APP, fields=("id",), optional=("fields",))

EXCHANGE_RATE_CREATED = event_declare("exchange_rate.created", app=APP, fields=("id",))
EXCHANGE_RATE_UPDATED = event_declare("exchange_rate.updated", app=APP, fields=("id",))
EXCHANGE_RATE_DELETED = event_declare("exchange_rate.deleted", app=APP, fields=("id",))

# Quotes. Every state change of a quote emits one of these (billing.services.quote_records.quote_transition).
_QUOTE = ("id", "number")
_QUOTE_OPTIONAL = ("revision", "actor", "reason", "signer", "invoice_id", "comment")
QUOTE_CREATED = event_declare("quote.created", app=APP, fields=("id",), optional=("deal_id",))
QUOTE_APPROVAL_REQUESTED = event_declare("quote.approval_requested", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_APPROVED = event_declare("quote.approved", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_APPROVAL_REJECTED = event_declare("quote.approval_rejected", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_PUBLISHED = event_declare("quote.published", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_UNPUBLISHED = event_declare("quote.unpublished", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_VIEWED = event_declare("quote.viewed", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_SIGNATURE_ADDED = event_declare("quote.signature_added", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_SIGNED = event_declare("quote.signed", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_ACCEPTED = event_declare("quote.accepted", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_PAID = event_declare("quote.paid", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_DECLINED = event_declare("quote.declined", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_EXPIRED = event_declare("quote.expired", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_CONVERTED = event_declare("quote.converted", app=APP, fields=_QUOTE, optional=_QUOTE_OPTIONAL)
QUOTE_LINE_ITEMS_CHANGED = event_declare("quote.line_items_changed", app=APP, fields=("id",))
LINE_ITEMS_CHANGED["quote"] = QUOTE_LINE_ITEMS_CHANGED

SUBSCRIPTION_CREATED = event_declare(
    "subscription.created", app=APP, fields=("id",), optional=("quote_id", "deal_id", "frequency", "start_date")
)

# The billing run (billing.services.subscription_billing) and the test clock.
_RUN = ("invoice_id", "period_start", "period_end", "on", "to", "reason", "actor")
SUBSCRIPTION_INVOICED = event_declare(
    "subscription.invoiced", app=APP, fields=("id", "invoice_id", "period_start", "period_end"), optional=("number",)
)
SUBSCRIPTION_ACTIVATED = event_declare("subscription.activated", app=APP, fields=("id",), optional=_RUN)
SUBSCRIPTION_ENDED = event_declare("subscription.ended", app=APP, fields=("id",), optional=_RUN)
SUBSCRIPTION_CANCELED_AT_PERIOD_END = event_declare(
    "subscription.canceled_at_period_end", app=APP, fields=("id",), optional=_RUN
)
SUBSCRIPTION_RESUMED_ON_DATE = event_declare("subscription.resumed_on_date", app=APP, fields=("id",), optional=_RUN)
SUBSCRIPTION_TRIAL_ENDING = event_declare("subscription.trial_ending", app=APP, fields=("id", "trial_end"))
SUBSCRIPTION_CLOCK_ADVANCED = event_declare("subscription.clock_advanced", app=APP, fields=("id", "to"), optional=_RUN)

_SUBSCRIPTION_OPTIONAL = ("actor", "reason", "resume_on", "on", "coupon_id", "invoice_id", "credit", "charge")
SUBSCRIPTION_PAUSED = event_declare("subscription.paused", app=APP, fields=("id",), optional=_SUBSCRIPTION_OPTIONAL)
SUBSCRIPTION_RESUMED = event_declare("subscription.resumed", app=APP, fields=("id",), optional=_SUBSCRIPTION_OPTIONAL)
SUBSCRIPTION_CANCELED = event_declare("subscription.canceled", app=APP, fields=("id",), optional=_SUBSCRIPTION_OPTIONAL)
SUBSCRIPTION_CANCEL_SCHEDULED = event_declare(
    "subscription.cancel_scheduled", app=APP, fields=("id",), optional=_SUBSCRIPTION_OPTIONAL
)
SUBSCRIPTION_CANCEL_UNSCHEDULED = event_declare(
    "subscription.cancel_unscheduled", app=APP, fields=("id",), optional=_SUBSCRIPTION_OPTIONAL
)
SUBSCRIPTION_CHANGED = event_declare("subscription.changed", app=APP, fields=("id",), optional=_SUBSCRIPTION_OPTIONAL)
SUBSCRIPTION_COUPON_APPLIED = event_declare(
    "subscription.coupon_applied", app=APP, fields=("id",), optional=_SUBSCRIPTION_OPTIONAL
)
SUBSCRIPTION_COUPON_REMOVED = event_declare(
    "subscription.coupon_removed", app=APP, fields=("id",), optional=_SUBSCRIPTION_OPTIONAL
)
SUBSCRIPTION_LINE_ITEMS_CHANGED = event_declare("subscription.line_items_changed", app=APP, fields=("id",))
LINE_ITEMS_CHANGED["subscription"] = SUBSCRIPTION_LINE_ITEMS_CHANGED
COUPON_CREATED = event_declare("coupon.created", app=APP, fields=("id",))
COUPON_ARCHIVED = event_declare("coupon.archived", app=APP, fields=("id",))

# Payment links. Reactivating a link is an update (fields ["active"]); a purchase is emitted once it is paid.
PAYMENT_LINK_CREATED = event_declare("payment_link.created", app=APP, fields=("id",))
PAYMENT_LINK_UPDATED = event_declare("payment_link.updated", app=APP, fields=("id",), optional=("fields",))
PAYMENT_LINK_DEACTIVATED = event_declare("payment_link.deactivated", app=APP, fields=("id",))
PAYMENT_LINK_PURCHASED = event_declare(
    "payment_link.purchased",
    app=APP,
    fields=("id", "purchase_id"),
    optional=("invoice_id", "amount", "currency", "contact_id", "company_id"),
)
PAYMENT_LINK_LINE_ITEMS_CHANGED = event_declare("payment_link.line_items_changed", app=APP, fields=("id",))
LINE_ITEMS_CHANGED["payment_link"] = PAYMENT_LINK_LINE_ITEMS_CHANGED
