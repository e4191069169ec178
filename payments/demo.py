"""Demo payments, taken through the built-in processor as a buyer would: cards (one refunded in part with a credit
note, one declined, one later disputed), a Vipps MobilePay payment in NOK, a SEPA debit still processing, and the
payout of what settled. Runs after the demo tenant is committed: processors are never called inside a transaction."""

from decimal import Decimal

from django.utils import timezone

from billing.models import ExchangeRate, Invoice
from billing.services.exchange_rates import exchange_rate_create
from commerce_hub.accounts.models import User
from commerce_hub.idempotency.services import key_new
from payments.models import MethodKind, Payment, RefundMode
from payments.processors.builtin import CARD_DECLINED, CARD_DISPUTED, CARD_SUCCESS, BuiltinProcessor
from payments.selectors.settings import payment_settings
from payments.services.payments import payment_refresh, payment_start
from payments.services.processor_events import builtin_tick_apply
from payments.services.refunds import refund_request

CARD = {"number": CARD_SUCCESS, "exp_month": "12", "exp_year": "2030", "cvc": "123"}


def _pay(invoice, method, data, name):
    return payment_start(
        invoice=invoice,
        attempt_key=key_new(),
        method=method,
        method_data=data,
        buyer_email=f"accounts@{invoice.company.name.split()[0].lower()}.example" if invoice.company else "",
        buyer_name=name,
        language=invoice.language,
    )


def seed(ctx) -> None:
    if ctx.scale or Payment.objects.exists():
        return
    admin = User.objects.filter(role="admin").order_by("pk").first()
    if not ExchangeRate.objects.filter(base="EUR", quote="NOK").exists():
        # The built-in fee schedule's fixed parts are in euros; NOK payments are charged them at this rate.
        first_of_month = timezone.localdate().replace(day=1)
        exchange_rate_create(base="EUR", quote="NOK", rate=Decimal("11.72"), valid_from=first_of_month, actor=admin)
    open_eur = list(Invoice.objects.filter(status="open", currency="EUR").order_by("-issue_date", "pk"))
    open_nok = list(Invoice.objects.filter(status="open", currency="NOK").order_by("-issue_date", "pk"))
    # What settles today is paid out today in the demo, so the payouts page has a payout to show.
    processor_settings = payment_settings()
    delay = processor_settings.settlement_delay_days
    processor_settings.settlement_delay_days = 0
    processor_settings.save(update_fields=["settlement_delay_days"])
    try:
        if len(open_eur) >= 4:
            _pay(open_eur[0], MethodKind.CARD, CARD, "Eva Jansen")
            refunded = _pay(open_eur[1], MethodKind.CARD, CARD | {"number": "5555555555554444"}, "Daan Visser")
            refund_request(
                payment=refunded,
                amount=min(Decimal("100.00"), refunded.amount),
                mode=RefundMode.CREDIT_NOTE,
                note="One training day cancelled",
                actor=admin,
            )
            _pay(open_eur[2], MethodKind.CARD, CARD | {"number": CARD_DECLINED}, "Sem de Boer")
            _pay(open_eur[2], MethodKind.CARD, CARD | {"number": CARD_DISPUTED}, "Sem de Boer")
            sepa = {"iban": "NL91ABNA0417164300", "mandate_accepted": True, "name": "Lotte Smit"}
            _pay(open_eur[3], MethodKind.SEPA_DEBIT, sepa, "Lotte Smit")
        if open_nok:
            vipps = _pay(open_nok[0], MethodKind.VIPPS_MOBILEPAY, {"phone": "+4791234567"}, "Ola Nordmann")
            BuiltinProcessor().simulator_decide(reference=vipps.processor_reference, approve=True)
            payment_refresh(payment=vipps)
        builtin_tick_apply()  # the disputed card's dispute opens
        from payments.services.payouts import payouts_run

        payouts_run(today=timezone.localdate())
    finally:
        processor_settings.settlement_delay_days = delay
        processor_settings.save(update_fields=["settlement_delay_days"])
