"""The built-in processor: a test-mode processor that runs inside the app, the default for every tenant.

It keeps its own books (payments.models.SimulatedObject) as a real processor would, and answers like one:
- cards: the test card numbers below decide the outcome (success, decline, insufficient funds, a card that needs an
  extra confirmation step, a card whose payment is later disputed);
- SEPA Direct Debit (an IBAN checked with schwifty, and the mandate accepted) and ACH debit stay processing and
  settle or fail later, when `builtin_tick` runs (a beat job);
- iDEAL and Vipps MobilePay send the buyer to a simulated bank or wallet page that approves or cancels.
Fees follow the tenant's fee schedule (PaymentSettings). Every write is its own short transaction, never the
caller's: from the app's side this is a remote system, which is what lets the tests lose its answers.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from billing.selectors.exchange_rates import convert
from commerce_hub.money import quantize
from payments.models import MethodKind, PaymentStatus, ProcessorKey, RefundStatus, SimulatedObject
from payments.processors.base import (
    PaymentRequest,
    PaymentResult,
    Processor,
    ProcessorDeclined,
    ProcessorEvent,
    RefundResult,
    SetupResult,
    outside_transaction_required,
)
from payments.selectors.settings import payment_settings

# Stripe's published test numbers, so a tester's habits carry over.
CARD_SUCCESS = "4242424242424242"
CARD_SUCCESS_MASTERCARD = "5555555555554444"
CARD_DECLINED = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CARD_AUTHENTICATION = "4000002500003155"
CARD_DISPUTED = "4000000000000259"
TEST_CARDS = {
    CARD_SUCCESS: ("visa", "succeeded"),
    CARD_SUCCESS_MASTERCARD: ("mastercard", "succeeded"),
    CARD_DECLINED: ("visa", "card_declined"),
    CARD_INSUFFICIENT_FUNDS: ("visa", "insufficient_funds"),
    CARD_AUTHENTICATION: ("visa", "authentication_required"),
    CARD_DISPUTED: ("visa", "disputed"),
}
# Debits from these accounts fail when they settle (valid numbers, so the mandate step accepts them).
SEPA_FAILING_IBANS = {"NL18RABO0123459876", "DE62370400440532013001"}
ACH_ROUTING_TEST = "110000000"
ACH_FAILING_ACCOUNT = "000111111116"

DEBIT_METHODS = (MethodKind.SEPA_DEBIT, MethodKind.ACH_DEBIT)
REDIRECT_METHODS = (MethodKind.IDEAL, MethodKind.VIPPS_MOBILEPAY)
# How long a disputed card's dispute waits for evidence before the bank decides.
DISPUTE_RESPONSE_DAYS = 7


def luhn_valid(number: str) -> bool:
    # ASCII only: str.isdigit() also passes superscripts (which int() refuses) and other scripts' digits.
    if not (number.isascii() and number.isdigit()):
        return False
    digits = [int(d) for d in number]
    checksum = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        checksum += digit
    return checksum % 10 == 0


def aba_routing_valid(number: str) -> bool:
    if len(number) != 9 or not (number.isascii() and number.isdigit()):
        return False
    d = [int(c) for c in number]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])) % 10 == 0


def fee_for(method: str, amount: Decimal, currency: str) -> Decimal:
    """The built-in fee schedule: cards a percentage plus a fixed part, debits a capped percentage, bank redirects
    and wallets a fixed part (plus an optional percentage)."""
    s = payment_settings()

    def in_currency(eur: Decimal) -> Decimal:
        # Fixed parts and the cap are set in euros, like a processor's price list, and charged in the payment's
        # currency at the tenant's exchange rate (as they are, when it has none).
        if currency == "EUR":
            return eur
        return convert(eur, "EUR", currency, timezone.localdate()) or eur

    if method == MethodKind.CARD:
        fee = amount * s.card_fee_percent / 100 + in_currency(s.card_fee_fixed)
    elif method in DEBIT_METHODS:
        fee = min(amount * s.debit_fee_percent / 100, in_currency(s.debit_fee_cap))
    else:
        fee = amount * s.redirect_fee_percent / 100 + in_currency(s.redirect_fee_fixed)
    return min(quantize(fee, currency), amount)


def _new_id(prefix: str) -> str:
    # 128 random bits: a payment's id names its simulated bank page, which approves it without a login.
    return f"bi_{prefix}_{secrets.token_hex(16)}"


def _touch(obj: SimulatedObject, **fields) -> None:
    fields["updated_at"] = timezone.now()
    SimulatedObject.objects.filter(pk=obj.pk).update(**fields)
    for name, value in fields.items():
        setattr(obj, name, value)


class BuiltinProcessor(Processor):
    key = ProcessorKey.BUILTIN
    test_mode = True
    computes_payouts = True

    # --- payments --------------------------------------------------------------------------------------------

    def payment_create(self, request: PaymentRequest) -> PaymentResult:
        outside_transaction_required("A payment processor")
        existing = SimulatedObject.objects.filter(idempotency_key=request.idempotency_key).first()
        if existing is not None:
            return self._payment_result(existing)
        status, details, data, due_at = self._decide(request)
        obj = SimulatedObject(
            object_id=_new_id("pay"),
            kind=SimulatedObject.Kind.PAYMENT,
            idempotency_key=request.idempotency_key,
            amount=request.amount,
            currency=request.currency,
            method=request.method,
            status=status,
            data={**data, "details": details, "return_url": request.return_url},
            due_at=due_at,
        )
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError:
            # The same key raced in from another worker: both get the one payment.
            return self._payment_result(SimulatedObject.objects.get(idempotency_key=request.idempotency_key))
        return self._payment_result(obj)

    def _decide(self, request: PaymentRequest):
        """(status, method details, private data, due time) for a new payment; raises ProcessorDeclined for input
        a processor refuses outright."""
        data = request.method_data or {}
        now = timezone.now()
        if request.method == MethodKind.CARD:
            if request.saved_method_reference:
                saved = SimulatedObject.objects.filter(
                    object_id=request.saved_method_reference, kind=SimulatedObject.Kind.SETUP
                ).first()
                if saved is None:
                    raise ProcessorDeclined(_("The saved card was not found."), code="resource_missing")
                number = saved.data.get("number", "")
            else:
                number = "".join(ch for ch in str(data.get("number", "")) if ch.isdigit())
            if not (12 <= len(number) <= 19) or not luhn_valid(number):
                raise ProcessorDeclined(_("The card number is not valid."), code="invalid_number")
            brand, outcome = TEST_CARDS.get(number, ("card", "test_mode_live_card"))
            details = {"brand": brand, "last4": number[-4:]}
            if outcome == "test_mode_live_card":
                return "failed", details, {"code": outcome, "message": _("Test mode: use one of the test cards.")}, None
            if outcome in ("card_declined", "insufficient_funds"):
                message = _("The card was declined.") if outcome == "card_declined" else _("Insufficient funds.")
                return "failed", details, {"code": outcome, "message": message}, None
            if outcome == "authentication_required" and not request.off_session:
                return "requires_action", details, {"then": "succeeded"}, None
            if outcome == "authentication_required":
                return (
                    "failed",
                    details,
                    {"code": "authentication_required", "message": _("Authentication needed.")},
                    None,
                )
            if outcome == "disputed":
                return "succeeded", details, {"dispute": True}, now
            return "succeeded", details, {}, None
        if request.method == MethodKind.SEPA_DEBIT:
            try:
                iban = IBAN(str(data.get("iban", "")))
            except SchwiftyException as exc:
                raise ProcessorDeclined(_("The IBAN is not valid."), code="invalid_iban") from exc
            if not data.get("mandate_accepted"):
                raise ProcessorDeclined(_("The mandate must be accepted."), code="mandate_required")
            details = {"iban_last4": iban.compact[-4:], "bank_code": iban.bank_code, "country": iban.country_code}
            if data.get("mandate_reference"):
                details["mandate_reference"] = str(data["mandate_reference"])[:35]
            then = "failed" if iban.compact in SEPA_FAILING_IBANS else "succeeded"
            return "processing", details, {"then": then}, now + self._debit_delay()
        if request.method == MethodKind.ACH_DEBIT:
            routing = str(data.get("routing_number", ""))
            account = str(data.get("account_number", ""))
            if not aba_routing_valid(routing) or not (4 <= len(account) <= 17) or not account.isdigit():
                raise ProcessorDeclined(_("The routing or account number is not valid."), code="invalid_account")
            if not data.get("mandate_accepted"):
                raise ProcessorDeclined(_("The debit authorization must be accepted."), code="mandate_required")
            then = "failed" if account == ACH_FAILING_ACCOUNT else "succeeded"
            details = {"account_last4": account[-4:], "routing_number": routing}
            return "processing", details, {"then": then}, now + self._debit_delay()
        if request.method in REDIRECT_METHODS:
            bank = str(data.get("bank", ""))[:40]
            return "requires_action", ({"bank": bank} if bank else {}), {"then": "decided_by_buyer"}, None
        raise ProcessorDeclined(_("This payment method is not supported."), code="payment_method_unsupported")

    @staticmethod
    def _debit_delay() -> timedelta:
        return timedelta(days=payment_settings().debit_processing_days)

    def _payment_result(self, obj: SimulatedObject) -> PaymentResult:
        status = obj.status
        next_action = {}
        if status == "requires_action":
            next_action = {"type": "redirect", "url": reverse("payments:simulator", args=[obj.object_id])}
        fee = fee_for(obj.method, obj.amount, obj.currency) if status == "succeeded" else None
        succeeded_on = (obj.data.get("succeeded_at") or obj.updated_at.isoformat())[:10]
        available_on = None
        if status == "succeeded":
            from datetime import date

            available_on = date.fromisoformat(succeeded_on) + timedelta(days=payment_settings().settlement_delay_days)
        return PaymentResult(
            reference=obj.object_id,
            status=status,
            amount=obj.amount,
            currency=obj.currency,
            fee=fee,
            available_on=available_on,
            next_action=next_action,
            method_details=obj.data.get("details", {}),
            failure_code=obj.data.get("code", "") if status == "failed" else "",
            failure_message=obj.data.get("message", "") if status == "failed" else "",
        )

    def payment_retrieve(self, *, reference: str = "", idempotency_key: str = "") -> PaymentResult | None:
        query = {"object_id": reference} if reference else {"idempotency_key": idempotency_key}
        obj = SimulatedObject.objects.filter(kind=SimulatedObject.Kind.PAYMENT, **query).first()
        return None if obj is None else self._payment_result(obj)

    def payment_cancel(self, *, reference: str) -> PaymentResult:
        obj = SimulatedObject.objects.get(object_id=reference, kind=SimulatedObject.Kind.PAYMENT)
        SimulatedObject.objects.filter(pk=obj.pk, status="requires_action").update(
            status=PaymentStatus.CANCELED, updated_at=timezone.now()
        )
        obj.refresh_from_db()
        return self._payment_result(obj)

    # --- the simulated bank, wallet and card-confirmation page ------------------------------------------------

    def simulator_decide(self, *, reference: str, approve: bool) -> PaymentResult:
        """The buyer approved or cancelled on the simulated page. Deciding twice changes nothing."""
        with transaction.atomic():
            obj = SimulatedObject.objects.select_for_update().get(
                object_id=reference, kind=SimulatedObject.Kind.PAYMENT
            )
            if obj.status == "requires_action":
                if approve:
                    _touch(obj, status="succeeded", data={**obj.data, "succeeded_at": timezone.now().isoformat()})
                else:
                    message = _("The payment was cancelled.")
                    _touch(obj, status="failed", data={**obj.data, "code": "canceled_by_buyer", "message": message})
        return self._payment_result(obj)

    def simulator_object(self, reference: str) -> SimulatedObject | None:
        return SimulatedObject.objects.filter(object_id=reference, kind=SimulatedObject.Kind.PAYMENT).first()

    # --- refunds ------------------------------------------------------------------------------------------------

    def refund_create(
        self, *, payment_reference: str, amount: Decimal, currency: str, idempotency_key: str, reason: str
    ) -> RefundResult:
        outside_transaction_required("A payment processor")
        with transaction.atomic():
            existing = SimulatedObject.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return self._refund_result(existing)
            payment = (
                SimulatedObject.objects.select_for_update()
                .filter(object_id=payment_reference, kind=SimulatedObject.Kind.PAYMENT)
                .first()
            )
            if payment is None or payment.status != "succeeded":
                raise ProcessorDeclined(_("Only a succeeded payment can be refunded."), code="charge_not_refundable")
            if currency != payment.currency:
                raise ProcessorDeclined(_("The refund's currency must be the payment's."), code="currency_mismatch")
            refunded = sum(
                (
                    r.amount
                    for r in SimulatedObject.objects.filter(
                        parent_id=payment.object_id, kind=SimulatedObject.Kind.REFUND
                    )
                    if r.status != RefundStatus.FAILED
                ),
                Decimal(0),
            )
            if amount <= 0 or refunded + amount > payment.amount:
                raise ProcessorDeclined(
                    _("The refund is more than what is left of the payment."), code="amount_too_large"
                )
            obj = SimulatedObject.objects.create(
                object_id=_new_id("re"),
                kind=SimulatedObject.Kind.REFUND,
                idempotency_key=idempotency_key,
                parent_id=payment.object_id,
                amount=amount,
                currency=currency,
                method=payment.method,
                status=RefundStatus.SUCCEEDED,
                data={"reason": reason},
            )
        return self._refund_result(obj)

    @staticmethod
    def _refund_result(obj: SimulatedObject) -> RefundResult:
        return RefundResult(reference=obj.object_id, status=obj.status, amount=obj.amount, currency=obj.currency)

    def refund_retrieve(self, *, idempotency_key: str, payment_reference: str) -> RefundResult | None:
        obj = SimulatedObject.objects.filter(idempotency_key=idempotency_key, kind=SimulatedObject.Kind.REFUND).first()
        return None if obj is None else self._refund_result(obj)

    # --- saved methods -----------------------------------------------------------------------------------------

    def setup_create(self, *, idempotency_key: str, method: str, method_data: dict, customer_email: str) -> SetupResult:
        existing = SimulatedObject.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            if method != MethodKind.CARD:
                raise ProcessorDeclined(_("Only cards can be saved in test mode."), code="payment_method_unsupported")
            number = "".join(ch for ch in str(method_data.get("number", "")) if ch.isdigit())
            if number not in TEST_CARDS:
                raise ProcessorDeclined(_("Use one of the test cards."), code="invalid_number")
            existing = SimulatedObject.objects.create(
                object_id=_new_id("pm"),
                kind=SimulatedObject.Kind.SETUP,
                idempotency_key=idempotency_key,
                method=method,
                status="succeeded",
                data={"number": number, "details": {"brand": TEST_CARDS[number][0], "last4": number[-4:]}},
            )
        return SetupResult(
            reference=existing.object_id, status="succeeded", kind=existing.method, details=existing.data["details"]
        )

    # --- what happens later: debits settle, disputes open and close ---------------------------------------------

    def tick(self, *, now=None) -> list[ProcessorEvent]:
        """Move every object whose time has come, and return the events a real processor would send. Each object
        moves in its own transaction, guarded by its state, so two ticks never move one twice."""
        now = now or timezone.now()
        events: list[ProcessorEvent] = []
        for obj_id in SimulatedObject.objects.filter(due_at__lte=now).values_list("pk", flat=True):
            with transaction.atomic():
                obj = SimulatedObject.objects.select_for_update(skip_locked=True).filter(pk=obj_id).first()
                if obj is None or obj.due_at is None or obj.due_at > now:
                    continue
                events.extend(self._advance(obj, now))
        return events

    def _advance(self, obj: SimulatedObject, now) -> list[ProcessorEvent]:
        if obj.kind == SimulatedObject.Kind.PAYMENT and obj.status == "processing":
            then = obj.data.get("then", "succeeded")
            data = {**obj.data, "succeeded_at": now.isoformat()}
            if then == "failed":
                data |= {"code": "debit_failed", "message": _("The bank refused the debit.")}
            _touch(obj, status=then, due_at=None, data=data)
            kind = "payment.succeeded" if then == "succeeded" else "payment.failed"
            return [ProcessorEvent(kind=kind, reference=obj.object_id)]
        if obj.kind == SimulatedObject.Kind.PAYMENT and obj.data.get("dispute") and obj.status == "succeeded":
            dispute = SimulatedObject.objects.create(
                object_id=_new_id("dp"),
                kind=SimulatedObject.Kind.DISPUTE,
                parent_id=obj.object_id,
                amount=obj.amount,
                currency=obj.currency,
                method=obj.method,
                status="needs_response",
                data={"reason": "fraudulent"},
                due_at=now + timedelta(days=DISPUTE_RESPONSE_DAYS),
            )
            _touch(obj, due_at=None, data={**obj.data, "dispute": False, "dispute_id": dispute.object_id})
            return [ProcessorEvent(kind="dispute.opened", reference=dispute.object_id, data=self.dispute_data(dispute))]
        if obj.kind == SimulatedObject.Kind.DISPUTE and obj.status in ("needs_response", "under_review"):
            # Evidence submitted in time wins in test mode; silence loses, as with a real bank.
            status = "won" if obj.status == "under_review" else "lost"
            _touch(obj, status=status, due_at=None)
            return [ProcessorEvent(kind="dispute.closed", reference=obj.object_id, data=self.dispute_data(obj))]
        _touch(obj, due_at=None)
        return []

    @staticmethod
    def dispute_data(obj: SimulatedObject) -> dict:
        return {
            "payment_reference": obj.parent_id,
            "amount": f"{obj.amount:f}",
            "currency": obj.currency,
            "status": obj.status,
            "reason": obj.data.get("reason", ""),
            "evidence_due_by": obj.due_at.isoformat() if obj.due_at else "",
        }

    def dispute_respond(self, *, reference: str, accept: bool, evidence: str = "") -> ProcessorEvent | None:
        """The seller answers a dispute: accepting loses it at once; evidence puts it under review, decided (won in
        test mode) when the review period ends."""
        with transaction.atomic():
            obj = SimulatedObject.objects.select_for_update().get(
                object_id=reference, kind=SimulatedObject.Kind.DISPUTE
            )
            if obj.status != "needs_response":
                return None
            if accept:
                _touch(obj, status="lost", due_at=None)
                return ProcessorEvent(kind="dispute.closed", reference=obj.object_id, data=self.dispute_data(obj))
            _touch(
                obj,
                status="under_review",
                data={**obj.data, "evidence": evidence[:5000]},
                due_at=timezone.now() + timedelta(days=1),
            )
            return ProcessorEvent(kind="dispute.updated", reference=obj.object_id, data=self.dispute_data(obj))
