"""The built-in processor's simulated pages, clearly labelled test mode: a bank (iDEAL), a wallet app (Vipps
MobilePay) and a card issuer's confirmation step (3-D Secure). The buyer approves or cancels; the decision is told to
the app as a processor's webhook would (so the payment is recorded even if the buyer never comes back), and the
buyer returns to the return URL the checkout gave, with the processor's payment id added as Stripe adds it.

Deciding twice changes nothing: the processor keeps the first decision, and applying its event again is a no-op.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.hosted import hosted_csrf_protect, hosted_headers
from commerce_hub.organization.selectors import organization_profile_get
from payments.models import MethodKind, PaymentStatus, SimulatedObject
from payments.processors import ProcessorEvent
from payments.processors.builtin import BuiltinProcessor
from payments.selectors.checkout import IDEAL_BANKS
from payments.services.processor_events import processor_event_apply

_PAGES = {
    MethodKind.IDEAL: "bank",
    MethodKind.VIPPS_MOBILEPAY: "wallet",
    MethodKind.CARD: "card",
}


# The built-in processor's ids: "bi_pay_" and hex digits.
_OBJECT_ID = re.compile(r"^[A-Za-z0-9_]{1,60}$")


def _object(object_id: str) -> SimulatedObject:
    if not _OBJECT_ID.match(object_id):
        raise Http404
    obj = BuiltinProcessor().simulator_object(object_id)
    if obj is None or obj.method not in _PAGES:
        raise Http404
    return obj


def _return_url(request, obj: SimulatedObject) -> str:
    """The checkout's return URL with the processor's payment id; "" when it is not a page of this site."""
    url = str(obj.data.get("return_url", ""))
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return ""
    separator = "&" if urlsplit(url).query else "?"
    status = "succeeded" if obj.status == PaymentStatus.SUCCEEDED else "failed"
    return f"{url}{separator}{urlencode({'payment_intent': obj.object_id, 'redirect_status': status})}"


@hosted_csrf_protect
@require_http_methods(["GET", "POST"])
def simulator(request, object_id: str):
    processor = BuiltinProcessor()
    obj = _object(object_id)
    error = ""
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        if decision in ("approve", "cancel"):
            result = processor.simulator_decide(reference=obj.object_id, approve=decision == "approve")
            kind = "payment.succeeded" if result.status == PaymentStatus.SUCCEEDED else "payment.failed"
            processor_event_apply(processor_key=processor.key, event=ProcessorEvent(kind=kind, reference=obj.object_id))
            obj.refresh_from_db()
            url = _return_url(request, obj)
            if url:
                return hosted_headers(redirect(url))
        else:
            error = _("Choose approve or cancel.")
    details = obj.data.get("details", {})
    response = render(
        request,
        "payments/simulator/page.html",
        {
            "obj": obj,
            "page": _PAGES[obj.method],
            "merchant": organization_profile_get().legal_name,
            "details": details,
            "bank_name": dict(IDEAL_BANKS).get(details.get("bank", ""), ""),
            "decided": obj.status != "requires_action",
            "return_url": _return_url(request, obj),
            "error": error,
        },
        status=400 if error else 200,
    )
    return hosted_headers(response)
