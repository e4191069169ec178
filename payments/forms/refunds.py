"""The refund form of a payment's record page: how much, booked how, why. It checks what it can before the
confirmation step (an amount the currency can hold, no more than is left to refund, credit there is to refund); the
service checks again under the payment's lock, as the money moves."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.forms.fields import AmountField
from commerce_hub.money import money_amount_error, money_format
from payments.models import Payment, Refund, RefundMode

REASON_LABELS = {
    Refund.Reason.REQUESTED: gettext_lazy("Requested by the customer"),
    Refund.Reason.DUPLICATE: gettext_lazy("Duplicate payment"),
    Refund.Reason.FRAUDULENT: gettext_lazy("Fraudulent payment"),
    Refund.Reason.OTHER: gettext_lazy("Other"),
}
MODE_LABELS = {
    RefundMode.REOPEN: gettext_lazy("Reopen the invoice's balance"),
    RefundMode.CREDIT_NOTE: gettext_lazy("Issue a credit note"),
    RefundMode.CREDIT: gettext_lazy("Refund the customer's credit"),
}
MODE_HELP = {
    RefundMode.REOPEN: gettext_lazy("The money goes back and the invoice owes that amount again."),
    RefundMode.CREDIT_NOTE: gettext_lazy(
        "The money goes back and a credit note credits the goods or service, so the invoice stays settled."
    ),
    RefundMode.CREDIT: gettext_lazy(
        "Pays back credit the customer holds (an overpayment, say); the invoice stays as it is."
    ),
}


def reason_label(reason: str) -> str:
    return str(REASON_LABELS.get(reason, reason))


def mode_label(mode: str) -> str:
    return str(MODE_LABELS.get(mode, mode))


class _ModeSelect(forms.RadioSelect):
    """Radio buttons that carry their one-line explanation under each label."""

    option_template_name = "payments/refunds/_mode_option.html"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["help"] = MODE_HELP.get(value, "")
        return option


class RefundForm(forms.Form):
    amount = AmountField(label=gettext_lazy("Amount to refund"))
    mode = forms.ChoiceField(label=gettext_lazy("How it is booked"), widget=_ModeSelect)
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=list(REASON_LABELS.items()))
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("For your team; the buyer does not see it."),
    )

    def __init__(self, *args, payment: Payment, refundable: Decimal, credit: Decimal | None = None, **kwargs):
        kwargs.setdefault(
            "initial", {"amount": refundable, "mode": RefundMode.REOPEN, "reason": Refund.Reason.REQUESTED}
        )
        super().__init__(*args, **kwargs)
        self.payment, self.refundable, self.credit = payment, refundable, credit
        modes = [RefundMode.REOPEN, RefundMode.CREDIT_NOTE]
        if credit:
            modes.append(RefundMode.CREDIT)
        self.fields["mode"].choices = [(m.value, MODE_LABELS[m]) for m in modes]
        self.fields["amount"].help_text = _("Up to %(left)s.") % {"left": money_format(refundable, payment.currency)}

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        currency = self.payment.currency
        if error := money_amount_error(amount, currency):
            raise forms.ValidationError(error)
        if amount > self.refundable:
            raise forms.ValidationError(
                _("At most %(left)s is left to refund.") % {"left": money_format(self.refundable, currency)}
            )
        return amount

    def clean(self):
        data = super().clean()
        amount = data.get("amount")
        if data.get("mode") == RefundMode.CREDIT and amount is not None and amount > (self.credit or 0):
            self.add_error(
                "amount",
                _("The customer has %(credit)s of credit to refund.")
                % {"credit": money_format(self.credit or 0, self.payment.currency)},
            )
        return data
