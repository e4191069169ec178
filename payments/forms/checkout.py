"""The checkout's forms, one per payment method. Each turns what the buyer typed into the processor's method data
(`method_data()`); the amount and currency are never fields: the server computes them from the invoice.

Card numbers and security codes only pass through: they go to the processor call and are stored nowhere (the CVC
is never even rendered back into the page)."""

from __future__ import annotations

import re
import secrets

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from payments.models import MethodKind
from payments.processors.builtin import aba_routing_valid, luhn_valid
from payments.selectors.checkout import IDEAL_BANKS

# Vipps MobilePay's countries: calling code -> digits of a national mobile number.
_WALLET_COUNTRIES = {"47": 8, "45": 8, "358": (6, 10)}
# The calling code assumed for a number typed without one, by the invoice's currency.
_WALLET_DEFAULT_CODE = {"NOK": "47", "DKK": "45", "EUR": "358"}
# A SEPA mandate reference: up to 35 characters of the SEPA character set (we use letters, digits and '-').
_MANDATE_REFERENCE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,34}$")


def _digits(value: str) -> str:
    return "".join(ch for ch in value if not ch.isspace() and ch not in "-./")


class CheckoutForm(forms.Form):
    """What every method asks: where the confirmation goes.

    Every instance of a method's form has the same fields, labels and widgets (payments.templatetags.checkout reuses
    a blank field's markup on that premise): what differs per buyer goes in `initial`, never in a field."""

    method: str = ""
    email = forms.EmailField(
        label=gettext_lazy("Email for the confirmation"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, invoice=None, **kwargs):
        # Each method's fields get ids of their own: the page shows every method's form at once.
        kwargs.setdefault("auto_id", f"id_{self.method}_%s")
        super().__init__(*args, **kwargs)
        self.invoice = invoice

    def buyer_name(self) -> str:
        return self.cleaned_data.get("name", "")

    def method_data(self) -> dict:
        raise NotImplementedError


class CardForm(CheckoutForm):
    method = MethodKind.CARD
    name = forms.CharField(
        label=gettext_lazy("Name on card"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "cc-name"})
    )
    number = forms.CharField(
        label=gettext_lazy("Card number"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "placeholder": "1234 1234 1234 1234"}
        ),
    )
    expiry = forms.CharField(
        label=gettext_lazy("Expiry date (MM/YY)"),
        max_length=9,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "inputmode": "numeric", "placeholder": "MM/YY"}),
    )
    # Never rendered back into the page: a form shown again with errors asks for it again.
    cvc = forms.CharField(
        label=gettext_lazy("Security code (CVC)"),
        max_length=4,
        widget=forms.PasswordInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric", "placeholder": "123"}),
    )

    def clean_number(self) -> str:
        number = _digits(self.cleaned_data["number"])
        if not (number.isascii() and number.isdigit()) or not (12 <= len(number) <= 19) or not luhn_valid(number):
            raise forms.ValidationError(_("This card number is not valid. Check the digits and try again."))
        return number

    def clean_expiry(self) -> tuple[int, int]:
        match = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*", self.cleaned_data["expiry"])
        if match is None:
            raise forms.ValidationError(_("Enter the expiry date as MM/YY, for example 04/29."))
        month, year = int(match.group(1)), int(match.group(2))
        year += 2000 if year < 100 else 0
        if not 1 <= month <= 12:
            raise forms.ValidationError(_("The month must be between 01 and 12."))
        today = timezone.localdate()
        # A card is valid through the last day of its expiry month.
        if (year, month) < (today.year, today.month):
            raise forms.ValidationError(_("This card has expired."))
        if year > today.year + 20:
            raise forms.ValidationError(_("Check the expiry year."))
        return month, year

    def clean_cvc(self) -> str:
        cvc = self.cleaned_data["cvc"].strip()
        if not (cvc.isascii() and cvc.isdigit()) or len(cvc) not in (3, 4):
            raise forms.ValidationError(_("The security code is the 3 or 4 digits on your card."))
        return cvc

    def method_data(self) -> dict:
        month, year = self.cleaned_data["expiry"]
        return {
            "number": self.cleaned_data["number"],
            "exp_month": f"{month:02d}",
            "exp_year": str(year),
            "cvc": self.cleaned_data["cvc"],
            "name": self.cleaned_data["name"],
        }


def mandate_reference_new(invoice) -> str:
    """A one-off mandate's reference, unique for the seller: the invoice number and 40 random bits."""
    prefix = re.sub(r"[^A-Z0-9-]", "", (invoice.number or "").upper())[:24]
    return f"{prefix}-{secrets.token_hex(5).upper()}".lstrip("-")


class SepaDebitForm(CheckoutForm):
    method = MethodKind.SEPA_DEBIT
    name = forms.CharField(
        label=gettext_lazy("Account holder"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    iban = forms.CharField(
        label=gettext_lazy("IBAN"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "NL91 ABNA 0417 1643 00"}),
    )
    # Rendered with the mandate text the buyer reads; checked again here, so a reference typed in by hand is refused.
    mandate_reference = forms.CharField(max_length=35, widget=forms.HiddenInput)
    mandate_accepted = forms.BooleanField(
        label=gettext_lazy("I accept the SEPA Direct Debit mandate above."),
        error_messages={"required": gettext_lazy("Accept the mandate to pay by direct debit.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.invoice is not None:
            self.initial.setdefault("mandate_reference", mandate_reference_new(self.invoice))

    @property
    def mandate_reference_shown(self) -> str:
        """The reference the mandate text names: the one its hidden field carries."""
        return self["mandate_reference"].value() or ""

    def clean_iban(self) -> str:
        try:
            iban = IBAN(self.cleaned_data["iban"])
        except SchwiftyException:
            raise forms.ValidationError(_("This IBAN is not valid. Check it on your bank card or statement.")) from None
        if not iban.in_sepa_zone:
            raise forms.ValidationError(_("SEPA Direct Debit needs an account in the SEPA area."))
        return iban.compact

    def clean_mandate_reference(self) -> str:
        reference = self.cleaned_data["mandate_reference"]
        prefix = re.sub(r"[^A-Z0-9-]", "", (self.invoice.number or "").upper())[:24] if self.invoice else ""
        if not _MANDATE_REFERENCE.match(reference) or not reference.startswith(prefix):
            raise forms.ValidationError(_("The mandate could not be read. Reload the page and try again."))
        return reference

    def method_data(self) -> dict:
        return {
            "iban": self.cleaned_data["iban"],
            "name": self.cleaned_data["name"],
            "mandate_accepted": True,
            "mandate_reference": self.cleaned_data["mandate_reference"],
            "mandate_accepted_at": timezone.now().isoformat(),
        }


class AchDebitForm(CheckoutForm):
    method = MethodKind.ACH_DEBIT
    name = forms.CharField(
        label=gettext_lazy("Account holder"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    routing_number = forms.CharField(
        label=gettext_lazy("Routing number"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "110000000"}),
    )
    account_number = forms.CharField(
        label=gettext_lazy("Account number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_type = forms.ChoiceField(
        label=gettext_lazy("Account type"),
        choices=[
            ("checking", pgettext_lazy("bank account type", "Checking")),
            ("savings", pgettext_lazy("bank account type", "Savings")),
        ],
        initial="checking",
    )
    mandate_accepted = forms.BooleanField(
        label=gettext_lazy("I authorize this debit, as described above."),
        error_messages={"required": gettext_lazy("Authorize the debit to pay from your bank account.")},
    )

    def clean_routing_number(self) -> str:
        routing = _digits(self.cleaned_data["routing_number"])
        if not aba_routing_valid(routing):
            raise forms.ValidationError(_("A routing number has 9 digits; these do not form a valid one."))
        return routing

    def clean_account_number(self) -> str:
        account = _digits(self.cleaned_data["account_number"])
        if not (account.isascii() and account.isdigit()) or not 4 <= len(account) <= 17:
            raise forms.ValidationError(_("An account number has 4 to 17 digits."))
        return account

    def method_data(self) -> dict:
        return {
            "routing_number": self.cleaned_data["routing_number"],
            "account_number": self.cleaned_data["account_number"],
            "account_type": self.cleaned_data["account_type"],
            "name": self.cleaned_data["name"],
            "mandate_accepted": True,
            "mandate_accepted_at": timezone.now().isoformat(),
        }


class IdealForm(CheckoutForm):
    method = MethodKind.IDEAL
    bank = forms.ChoiceField(label=gettext_lazy("Your bank"), choices=[("", "—"), *IDEAL_BANKS])

    def method_data(self) -> dict:
        return {"bank": self.cleaned_data["bank"]}


class VippsMobilePayForm(CheckoutForm):
    method = MethodKind.VIPPS_MOBILEPAY
    phone = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=25,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "+47 912 34 567"}),
        help_text=gettext_lazy("The number your Vipps or MobilePay app is registered with."),
    )

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        digits = _digits(raw.replace("(", "").replace(")", ""))
        if digits.startswith("+"):
            digits = digits[1:]
        elif digits.startswith("00"):
            digits = digits[2:]
        else:
            code = _WALLET_DEFAULT_CODE.get(self.invoice.currency if self.invoice else "", "47")
            digits = code + digits
        if not (digits.isascii() and digits.isdigit()):
            raise forms.ValidationError(_("Enter a mobile number, for example +47 912 34 567."))
        for code, length in _WALLET_COUNTRIES.items():
            if digits.startswith(code):
                national = digits[len(code) :]
                low, high = (length, length) if isinstance(length, int) else length
                if low <= len(national) <= high:
                    return f"+{digits}"
        raise forms.ValidationError(
            _("Vipps MobilePay works with Norwegian, Danish and Finnish mobile numbers, for example +47 912 34 567.")
        )

    def method_data(self) -> dict:
        return {"phone": self.cleaned_data["phone"]}


class StripeCardForm(CheckoutForm):
    """A card entered in Stripe.js (templates/payments/checkout/_stripe.html): the card details went straight to
    Stripe, and only the id of the PaymentMethod Stripe made for them reaches us."""

    method = MethodKind.CARD
    payment_method = forms.CharField(
        max_length=255,
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy("Enter your card details."),
            "max_length": gettext_lazy("The card could not be read. Enter it again."),
        },
    )

    def clean_payment_method(self) -> str:
        value = self.cleaned_data["payment_method"]
        if not re.fullmatch(r"pm_[A-Za-z0-9_]{1,250}", value):
            raise forms.ValidationError(_("The card could not be read. Enter it again."))
        return value

    def method_data(self) -> dict:
        return {"payment_method": self.cleaned_data["payment_method"]}


FORMS: dict[str, type[CheckoutForm]] = {
    form.method: form for form in (CardForm, SepaDebitForm, AchDebitForm, IdealForm, VippsMobilePayForm)
}
