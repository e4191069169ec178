"""Stripe, through the official SDK, with the tenant's own account (its secret key from PaymentSettings).

Every call is made outside any database transaction (base.outside_transaction_required) with a client of its own
(StripeClient: the tenant's key, the API base from settings.STRIPE_API_BASE). What comes back is turned into our
terms here and nowhere else:
- amounts: Decimal in our records, integer minor units only in the request and response bodies (to_minor and
  from_minor, which follow Stripe's currency rules);
- errors: no answer (a network error, a timeout, a 5xx, a rate limit, an idempotency conflict) is
  ProcessorUnreachable, and the attempt is resolved later by asking; a definite no (a card error, an invalid
  request, a refused key) is ProcessorDeclined.

Idempotency: a PaymentIntent is created with the attempt row's key. Stripe keeps keys for 24 hours, so a retry of an
attempt older than that would create a second PaymentIntent; such a retry, and any question about an attempt whose
answer was lost, first finds the PaymentIntent by the metadata `payment` (our public id) that every create sets.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import stripe
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from commerce_hub.money import quantize
from payments.models import MethodKind, PaymentStatus, ProcessorKey, RefundStatus
from payments.processors.base import (
    PaymentRequest,
    PaymentResult,
    Processor,
    ProcessorDeclined,
    ProcessorUnreachable,
    RefundResult,
    SetupResult,
    outside_transaction_required,
)

DEFAULT_API_BASE = stripe.DEFAULT_API_BASE

# Stripe forgets an idempotency key after 24 hours; an attempt older than this is looked up before any create.
# The hour of margin covers clock skew and a call that was slow to leave.
LOOKUP_BEFORE_CREATE_AFTER = timedelta(hours=23)
# Where a lost PaymentIntent is searched for when search finds nothing (search lags by up to a minute): its create
# left between the attempt's crash marker and the last retry of the call.
LIST_WINDOW_BEFORE = timedelta(minutes=5)
LIST_WINDOW_AFTER = timedelta(hours=1)

PAYMENT_KEY_PREFIX = "commerce-hub-payment-"
_PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{1,60}$")

# Stripe's currency rules (docs.stripe.com/currencies): amounts are integers in the currency's minor unit, where
# these currencies have none ...
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
# ... these have three decimals whose last digit must be 0 ...
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# ... and every other currency has two, including those ISO (and Babel) give none but Stripe still counts in
# hundredths (ISK, HUF: an amount of 500 is 5 whole units, and it must be a multiple of 100).

_METHOD_TYPES = {
    MethodKind.CARD: "card",
    MethodKind.SEPA_DEBIT: "sepa_debit",
    MethodKind.ACH_DEBIT: "us_bank_account",
    MethodKind.IDEAL: "ideal",
    MethodKind.VIPPS_MOBILEPAY: "mobilepay",
}
_METHOD_KINDS = {value: key for key, value in _METHOD_TYPES.items()}
_REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
_REFUND_STATUS = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}
_EXPAND_CHARGE = ["latest_charge.balance_transaction"]


class StripeAmountError(ValueError):
    pass


def stripe_exponent(currency: str) -> int:
    currency = currency.upper()
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount as Stripe takes it: an integer of the currency's minor unit. Refuses what Stripe would round (more
    decimals than the currency has, a last digit in a three-decimal currency), never rounds money itself."""
    amount = Decimal(amount)
    if not amount.is_finite() or quantize(amount, currency) != amount:
        raise StripeAmountError(f"{amount} has more decimals than {currency} has")
    minor = amount.scaleb(stripe_exponent(currency))
    if minor != minor.to_integral_value():
        raise StripeAmountError(f"{amount} {currency} is finer than Stripe's unit")
    minor = int(minor)
    if currency.upper() in THREE_DECIMAL and minor % 10:
        raise StripeAmountError(f"{amount} {currency}: Stripe takes three-decimal amounts in multiples of 0.010")
    return minor


def from_minor(minor: int, currency: str) -> Decimal:
    return quantize(Decimal(int(minor)).scaleb(-stripe_exponent(currency)), currency)


def _date_of(timestamp) -> date | None:
    return datetime.fromtimestamp(int(timestamp), tz=UTC).date() if timestamp else None


def _obj_id(value) -> str:
    """An expandable field: either the object's id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def public_id_of_key(idempotency_key: str) -> str:
    public_id = (idempotency_key or "").removeprefix(PAYMENT_KEY_PREFIX)
    if public_id == idempotency_key or not _PUBLIC_ID.match(public_id):
        return ""
    return public_id


# One HTTP client per process and timeout: it keeps a connection pool per thread, so calls reuse connections.
_http_clients: dict[int, stripe.RequestsClient] = {}
_http_lock = threading.Lock()


def _http_client(timeout: int) -> stripe.RequestsClient:
    with _http_lock:
        client = _http_clients.get(timeout)
        if client is None:
            client = _http_clients[timeout] = stripe.RequestsClient(timeout=timeout)
        return client


class StripeProcessor(Processor):
    key = ProcessorKey.STRIPE
    computes_payouts = False  # Stripe pays out on its own schedule and reports payouts as events

    def __init__(self, *, secret_key: str, api_base: str = "", timeout=None, retries=None):
        """timeout in seconds (settings.STRIPE_TIMEOUT), retries the SDK's own (settings.STRIPE_NETWORK_RETRIES)."""
        self._secret_key = secret_key
        self._api_base = api_base or settings.STRIPE_API_BASE or DEFAULT_API_BASE
        self._timeout = timeout or settings.STRIPE_TIMEOUT
        self._retries = retries if retries is not None else settings.STRIPE_NETWORK_RETRIES
        self.test_mode = secret_key.startswith(("sk_test_", "rk_test_"))

    @classmethod
    def for_tenant(cls) -> StripeProcessor:
        """The current tenant's Stripe account. Without a usable key every call is declined with a clear message
        (nothing can have been charged through an account we cannot reach)."""
        from payments.crypto import SecretUnreadable, secret_decrypt
        from payments.selectors.settings import payment_settings

        encrypted = payment_settings().stripe_secret_key_encrypted
        try:
            secret_key = secret_decrypt(encrypted) if encrypted else ""
        except SecretUnreadable:
            secret_key = ""
        return cls(secret_key=secret_key)

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _client(self) -> stripe.StripeClient:
        if not self._secret_key:
            raise ProcessorDeclined(_("Stripe is not connected: add the secret key in Settings."), code="not_connected")
        return stripe.StripeClient(
            self._secret_key,
            base_addresses={"api": self._api_base},
            http_client=_http_client(self._timeout),
            max_network_retries=self._retries,
        )

    def _call(self, fn):
        """Run one API call and translate its failure into ours; the answer as a plain dict."""
        outside_transaction_required("A payment processor")
        client = self._client()
        try:
            response = fn(client)
        except stripe.CardError as exc:
            error = exc.error
            code = (getattr(error, "decline_code", None) or exc.code or "card_declined") if error else "card_declined"
            raise ProcessorDeclined(exc.user_message or _("The card was declined."), code=code) from exc
        except stripe.IdempotencyError as exc:
            # The key was used with other parameters: whatever the first request did stands, so ask for it.
            raise ProcessorUnreachable(str(exc.user_message or exc), code="idempotency_error") from exc
        except stripe.InvalidRequestError as exc:
            raise ProcessorDeclined(exc.user_message or _("Stripe refused the request."), code=exc.code or "") from exc
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            raise ProcessorDeclined(
                _("Stripe refused the account's secret key. Check it in Settings."), code="processor_credentials"
            ) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise ProcessorUnreachable(str(exc.user_message or exc)[:300], code="unreachable") from exc
        except stripe.StripeError as exc:
            raise ProcessorUnreachable(str(exc.user_message or exc)[:300], code="unknown") from exc
        return response.to_dict() if hasattr(response, "to_dict") else response

    def _minor(self, amount: Decimal, currency: str) -> int:
        try:
            return to_minor(amount, currency)
        except StripeAmountError as exc:
            raise ProcessorDeclined(
                _("Stripe cannot take %(amount)s %(currency)s: the amount has more decimals than it accepts.")
                % {"amount": amount, "currency": currency},
                code="amount_precision",
            ) from exc

    # --- payments ---------------------------------------------------------------------------------------------

    def payment_create(self, request: PaymentRequest) -> PaymentResult:
        outside_transaction_required("A payment processor")
        method_type = _METHOD_TYPES.get(request.method)
        if method_type is None:
            raise ProcessorDeclined(_("This payment method is not supported."), code="payment_method_unsupported")
        amount = self._minor(request.amount, request.currency)
        public_id = str(request.metadata.get("payment", ""))
        if public_id and self._attempt_outlived_key(public_id):
            found = self._payment_lookup(public_id)
            if found is not None:
                return self.payment_result(found)
        params: dict = {
            "amount": amount,
            "currency": request.currency.lower(),
            "payment_method_types": [method_type],
            "description": request.description[:1000],
            "metadata": {str(k)[:40]: str(v)[:500] for k, v in request.metadata.items()},
            "expand": _EXPAND_CHARGE,
        }
        data = request.method_data or {}
        payment_method = request.saved_method_reference or str(data.get("payment_method") or "")
        if payment_method:
            # The buyer's method is known (Stripe.js created it, or it was saved): confirm here. Without one the
            # PaymentIntent waits for the checkout page to confirm it with Stripe.js (requires_action).
            params |= {"payment_method": payment_method, "confirm": True}
            if request.return_url:
                params["return_url"] = request.return_url
            if isinstance(data.get("mandate_data"), dict):
                params["mandate_data"] = data["mandate_data"]
        if data.get("customer"):
            params["customer"] = str(data["customer"])
        if request.off_session:
            params["off_session"] = True
        intent = self._call(
            lambda client: client.v1.payment_intents.create(params, {"idempotency_key": request.idempotency_key})
        )
        return self.payment_result(intent)

    def _attempt_outlived_key(self, public_id: str) -> bool:
        from payments.models import Payment

        started = Payment.objects.filter(public_id=public_id).values_list("called_at", "created_at").first()
        if started is None:
            return False
        first_call = started[0] or started[1]
        return first_call < timezone.now() - LOOKUP_BEFORE_CREATE_AFTER

    def _payment_lookup(self, public_id: str) -> dict | None:
        """The PaymentIntent created for our attempt `public_id`, found by its metadata: by search, and where search
        has not caught up yet, by listing the PaymentIntents created around the attempt's call (a list is exact)."""
        if not _PUBLIC_ID.match(public_id):
            return None
        found = self._call(
            lambda client: client.v1.payment_intents.search(
                {
                    "query": f"metadata['payment']:'{public_id}'",
                    "limit": 10,
                    "expand": [f"data.{path}" for path in _EXPAND_CHARGE],
                }
            )
        )
        candidates = [pi for pi in found.get("data", []) if (pi.get("metadata") or {}).get("payment") == public_id]
        if not candidates:
            candidates = self._payment_list_around(public_id)
        if not candidates:
            return None
        # One attempt makes one PaymentIntent; should there ever be two, the one that took money is the answer.
        candidates.sort(key=lambda pi: (pi.get("status") != "succeeded", pi.get("created", 0)))
        return candidates[0]

    def _payment_list_around(self, public_id: str) -> list[dict]:
        from payments.models import Payment

        started = Payment.objects.filter(public_id=public_id).values_list("called_at", "created_at").first()
        if started is None:
            return []
        first_call = started[0] or started[1]
        window = {
            "gte": int((first_call - LIST_WINDOW_BEFORE).timestamp()),
            "lte": int((first_call + LIST_WINDOW_AFTER).timestamp()),
        }
        matches: list[dict] = []
        starting_after = ""
        for _page in range(50):  # at most 5,000 PaymentIntents in the window: beyond that, ask again later
            params: dict = {"created": window, "limit": 100, "expand": [f"data.{p}" for p in _EXPAND_CHARGE]}
            if starting_after:
                params["starting_after"] = starting_after
            page = self._call(lambda client, params=params: client.v1.payment_intents.list(params))
            data = page.get("data", [])
            matches += [pi for pi in data if (pi.get("metadata") or {}).get("payment") == public_id]
            if not page.get("has_more") or not data:
                break
            starting_after = data[-1]["id"]
        return matches

    def payment_retrieve(self, *, reference: str = "", idempotency_key: str = "") -> PaymentResult | None:
        if reference:
            try:
                intent = self._call(
                    lambda client: client.v1.payment_intents.retrieve(reference, {"expand": _EXPAND_CHARGE})
                )
            except ProcessorDeclined as exc:
                if exc.code == "resource_missing":
                    return None
                raise
            return self.payment_result(intent)
        public_id = public_id_of_key(idempotency_key)
        if not public_id:
            return None
        intent = self._payment_lookup(public_id)
        return None if intent is None else self.payment_result(intent)

    def payment_cancel(self, *, reference: str) -> PaymentResult:
        try:
            intent = self._call(lambda client: client.v1.payment_intents.cancel(reference, {"expand": _EXPAND_CHARGE}))
        except ProcessorDeclined as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise
            # It moved on meanwhile (the buyer finished after all): what it is now is the answer.
            result = self.payment_retrieve(reference=reference)
            if result is None:
                raise
            return result
        return self.payment_result(intent)

    def payment_result(self, intent: dict) -> PaymentResult:
        """A PaymentIntent (a plain dict, latest_charge and its balance_transaction expanded where we asked) in our
        terms. Public: webhook processing reads PaymentIntents too."""
        currency = str(intent["currency"]).upper()
        amount = from_minor(intent["amount"], currency)
        charge = intent.get("latest_charge") if isinstance(intent.get("latest_charge"), dict) else {}
        status = intent["status"]
        error = intent.get("last_payment_error") or {}
        common = {
            "reference": intent["id"],
            "amount": amount,
            "currency": currency,
            "method_details": _method_details(charge, intent),
        }
        sdk_action = {"type": "stripe_sdk", "client_secret": intent.get("client_secret") or ""}
        if status in ("requires_payment_method", "requires_confirmation"):
            if error:
                return PaymentResult(
                    status=PaymentStatus.FAILED,
                    failure_code=str(error.get("decline_code") or error.get("code") or "declined")[:40],
                    failure_message=str(error.get("message") or _("The payment was declined."))[:300],
                    **common,
                )
            return PaymentResult(status=PaymentStatus.REQUIRES_ACTION, next_action=sdk_action, **common)
        if status == "requires_action":
            return PaymentResult(status=PaymentStatus.REQUIRES_ACTION, next_action=sdk_action, **common)
        if status in ("processing", "requires_capture"):
            return PaymentResult(status=PaymentStatus.PROCESSING, **common)
        if status == "canceled":
            return PaymentResult(status=PaymentStatus.CANCELED, **common)
        if status == "succeeded":
            balance = charge.get("balance_transaction") if isinstance(charge.get("balance_transaction"), dict) else {}
            fee = available_on = None
            if balance:
                fee = from_minor(balance.get("fee", 0), str(balance.get("currency") or currency).upper())
                available_on = _date_of(balance.get("available_on"))
            return PaymentResult(
                status=PaymentStatus.SUCCEEDED,
                fee=fee,
                available_on=available_on,
                balance_reference=_obj_id(charge.get("balance_transaction")),
                **common,
            )
        raise ProcessorUnreachable(f"unknown PaymentIntent status {status!r}", code="unknown_status")

    # --- refunds ----------------------------------------------------------------------------------------------

    def refund_create(
        self, *, payment_reference: str, amount: Decimal, currency: str, idempotency_key: str, reason: str
    ) -> RefundResult:
        params: dict = {
            "payment_intent": payment_reference,
            "amount": self._minor(amount, currency),
            # Stripe does not show the idempotency key on the object; the metadata lets a lost answer be found.
            "metadata": {"idempotency_key": idempotency_key},
        }
        if reason in _REFUND_REASONS:
            params["reason"] = reason
        refund = self._call(lambda client: client.v1.refunds.create(params, {"idempotency_key": idempotency_key}))
        return refund_result(refund)

    def refunds_of_payment(self, payment_reference: str) -> list[dict]:
        """Every refund of a PaymentIntent, oldest first (a charge.refunded event no longer lists them)."""
        refunds: list[dict] = []
        starting_after = ""
        for _page in range(20):
            params: dict = {"payment_intent": payment_reference, "limit": 100}
            if starting_after:
                params["starting_after"] = starting_after
            page = self._call(lambda client, params=params: client.v1.refunds.list(params))
            data = page.get("data", [])
            refunds += data
            if not page.get("has_more") or not data:
                break
            starting_after = data[-1]["id"]
        return sorted(refunds, key=lambda refund: (refund.get("created", 0), refund["id"]))

    def refund_retrieve(self, *, idempotency_key: str, payment_reference: str) -> RefundResult | None:
        if not payment_reference:
            return None  # the payment never reached Stripe, so neither did its refund
        for refund in self.refunds_of_payment(payment_reference):
            if (refund.get("metadata") or {}).get("idempotency_key") == idempotency_key:
                return refund_result(refund)
        return None

    # --- saved methods ----------------------------------------------------------------------------------------

    def setup_create(self, *, idempotency_key: str, method: str, method_data: dict, customer_email: str) -> SetupResult:
        method_type = _METHOD_TYPES.get(method)
        payment_method = str((method_data or {}).get("payment_method") or "")
        if method_type is None or not payment_method:
            raise ProcessorDeclined(_("Choose a card or bank account to save."), code="payment_method_missing")
        params: dict = {
            "payment_method": payment_method,
            "payment_method_types": [method_type],
            "usage": "off_session",
            "confirm": True,
            "metadata": {"idempotency_key": idempotency_key},
        }
        if method_data.get("customer"):
            params["customer"] = str(method_data["customer"])
        if isinstance(method_data.get("mandate_data"), dict):
            params["mandate_data"] = method_data["mandate_data"]
        if method_data.get("return_url"):
            params["return_url"] = str(method_data["return_url"])
        intent = self._call(lambda client: client.v1.setup_intents.create(params, {"idempotency_key": idempotency_key}))
        status = intent["status"]
        error = intent.get("last_setup_error") or {}
        kind = _METHOD_KINDS.get((intent.get("payment_method_types") or [method_type])[0], method)
        reference = _obj_id(intent.get("payment_method")) or payment_method
        if status == "succeeded":
            return SetupResult(reference=reference, status="succeeded", kind=kind)
        if status in ("requires_payment_method", "canceled") or error:
            return SetupResult(
                reference=reference,
                status="failed",
                kind=kind,
                failure_message=str(error.get("message") or _("The payment method could not be saved."))[:300],
            )
        return SetupResult(
            reference=reference,
            status="requires_action",
            kind=kind,
            next_action={"type": "stripe_sdk", "client_secret": intent.get("client_secret") or ""},
        )


def refund_result(refund: dict) -> RefundResult:
    currency = str(refund["currency"]).upper()
    return RefundResult(
        reference=refund["id"],
        status=_REFUND_STATUS.get(refund.get("status") or "pending", RefundStatus.PENDING),
        amount=from_minor(refund["amount"], currency),
        currency=currency,
        failure_message=str(refund.get("failure_reason") or "")[:300],
        balance_reference=_obj_id(refund.get("balance_transaction")),
    )


def _method_details(charge: dict, intent: dict) -> dict:
    """What the buyer may see again: the card's brand and last four digits, a bank account's last four."""
    details = charge.get("payment_method_details") or {}
    kind = details.get("type") or ""
    inner = details.get(kind) or {}
    if kind == "card":
        return {"brand": inner.get("brand", ""), "last4": inner.get("last4", "")}
    if kind == "sepa_debit":
        return {
            "iban_last4": inner.get("last4", ""),
            "bank_code": inner.get("bank_code", ""),
            "country": inner.get("country", ""),
        }
    if kind == "us_bank_account":
        return {"account_last4": inner.get("last4", ""), "routing_number": inner.get("routing_number", "")}
    if kind == "ideal":
        return {"bank": inner.get("bank", "")}
    return {}
