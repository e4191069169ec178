"""A small local Stripe: an HTTP server that answers the calls payments/processors/stripe.py makes, as Stripe's
published API describes them (the shapes are checked against Stripe's OpenAPI description by
tests/payments/test_stripe_fake_contract.py):

    POST /v1/payment_intents             create (and confirm, with a test payment method)
    GET  /v1/payment_intents             list (created[gte|lte], starting_after, limit)
    GET  /v1/payment_intents/search      search (query "metadata['key']:'value'")
    GET  /v1/payment_intents/{id}        retrieve
    POST /v1/payment_intents/{id}/cancel cancel
    POST /v1/refunds, GET /v1/refunds (payment_intent=), GET /v1/refunds/{id}
    POST /v1/setup_intents
    expand[]=latest_charge.balance_transaction (and data.… on lists), balance_transaction on refunds

Like Stripe it checks the secret key (401), honours Idempotency-Key for 24 hours on its own clock (the same key and
parameters replay the first answer, other parameters get 400 idempotency_error; a key older than 24 hours is
forgotten), and decides card outcomes by Stripe's test payment methods (pm_card_visa, pm_card_chargeDeclined, ...).

Faults, for the unknown-outcome tests: `fault("POST /v1/payment_intents", "delay", seconds=2)` commits the request and
then answers too late (the client times out); "drop" commits and closes the connection without an answer; "error"
answers 500 without doing anything; "empty" answers a search with nothing (search lags behind writes at Stripe).

Test helpers play Stripe's side of later events: a debit settling (`payment_settle`), a refund made in Stripe's
dashboard (`refund_outside`), disputes and payouts, and `event()` wraps an object in a webhook event.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

API_VERSION = "2026-10-28.endive"
IDEMPOTENCY_TTL = 24 * 3600

# Stripe's published test payment methods (docs.stripe.com/testing) and what each does.
TEST_PAYMENT_METHODS = {
    "pm_card_visa": {"type": "card", "brand": "visa", "last4": "4242", "outcome": "succeeded"},
    "pm_card_mastercard": {"type": "card", "brand": "mastercard", "last4": "4444", "outcome": "succeeded"},
    "pm_card_chargeDeclined": {
        "type": "card",
        "brand": "visa",
        "last4": "0002",
        "outcome": "declined",
        "decline_code": "generic_decline",
    },
    "pm_card_chargeDeclinedInsufficientFunds": {
        "type": "card",
        "brand": "visa",
        "last4": "9995",
        "outcome": "declined",
        "decline_code": "insufficient_funds",
    },
    "pm_card_authenticationRequired": {
        "type": "card",
        "brand": "visa",
        "last4": "3155",
        "outcome": "requires_action",
    },
    "pm_card_threeDSecure2Required": {
        "type": "card",
        "brand": "visa",
        "last4": "3220",
        "outcome": "requires_action",
    },
    "pm_card_createDispute": {"type": "card", "brand": "visa", "last4": "0259", "outcome": "succeeded"},
}
ZERO_DECIMAL = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}
THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}


class StripeHTTPError(Exception):
    def __init__(self, status: int, error: dict, *, keep: bool = False):
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error
        self.keep = keep  # whether an idempotent replay returns this error (Stripe keeps errors of executed calls)


@dataclass
class Fault:
    route: str  # "POST /v1/payment_intents"
    mode: str  # delay | drop | error
    times: int
    seconds: float = 0.0


def _nested(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (metadata[payment]=x, expand[0]=y, created[gte]=1) as nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = [a or b for a, b in re.findall(r"^([^\[\]]+)|\[([^\[\]]*)\]", key)]
        node = root
        for part, following in itertools.zip_longest(parts, parts[1:]):
            if following is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})

    def lists(node):
        if isinstance(node, dict):
            node = {k: lists(v) for k, v in node.items()}
            if node and all(k.isdigit() or k == "" for k in node):
                return [node[k] for k in sorted(node, key=lambda k: int(k or 0))]
        return node

    return lists(root)


def _error(kind: str, message: str, *, code: str = "", param: str = "", **extra) -> dict:
    error = {"type": kind, "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return error | extra


class FakeStripe:
    def __init__(self, secret_key: str = "sk_test_fake0000000000000000000000"):
        self.secret_key = secret_key
        self.lock = threading.RLock()
        self.clock_offset = 0
        self.objects: dict[str, dict] = {}
        self.idempotency: dict[str, dict] = {}
        self.payment_methods = copy.deepcopy(TEST_PAYMENT_METHODS)
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str]] = []  # (method, path) of every request, for assertions
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeStripe:
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-stripe", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- clock, faults, inspection ------------------------------------------------------------------------------

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def advance(self, seconds: int) -> None:
        with self.lock:
            self.clock_offset += seconds

    def fault(self, route: str, mode: str, *, times: int = 1, seconds: float = 0.0) -> None:
        with self.lock:
            self.faults.append(Fault(route, mode, times, seconds))

    def payment_method_add(self, pm_id: str, **attributes) -> None:
        self.payment_methods[pm_id] = attributes

    def all(self, object_name: str) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(o) for o in self.objects.values() if o["object"] == object_name]

    def get(self, object_id: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.objects[object_id])

    def _take_fault(self, route: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.route == route and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    # --- the HTTP side ----------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, body: str, headers) -> tuple[int, dict, dict]:
        """(status, body, extra headers) of one request; runs under the lock so each request is atomic."""
        auth = headers.get("Authorization", "")
        if auth != f"Bearer {self.secret_key}":
            return 401, {"error": _error("invalid_request_error", "Invalid API Key provided.")}, {}
        params = _nested(parse_qsl(body if method == "POST" else query, keep_blank_values=True))
        route = self._route(method, path)
        key = headers.get("Idempotency-Key", "") if method == "POST" else ""
        with self.lock:
            self.calls.append((method, path))
            if key:
                entry = self.idempotency.get(key)
                if entry is not None and entry["at"] > self.now() - IDEMPOTENCY_TTL:
                    if entry["route"] != (method, path) or entry["params"] != params:
                        message = (
                            "Keys for idempotent requests can only be used with the same parameters they were first "
                            f"used with. Try using a key other than '{key}' if you meant to execute a different "
                            "request."
                        )
                        return 400, {"error": _error("idempotency_error", message)}, {}
                    return entry["status"], copy.deepcopy(entry["body"]), {"Idempotent-Replayed": "true"}
            try:
                status, response = 200, route(params)
            except StripeHTTPError as exc:
                status, response = exc.status, {"error": exc.error}
                if not exc.keep:
                    return status, response, {}
            if key:
                self.idempotency[key] = {
                    "route": (method, path),
                    "params": params,
                    "status": status,
                    "body": copy.deepcopy(response),
                    "at": self.now(),
                }
            return status, response, {"Idempotency-Key": key} if key else {}

    def _route(self, method: str, path: str):
        routes = [
            ("POST", r"/v1/payment_intents", self._pi_create),
            ("GET", r"/v1/payment_intents", self._pi_list),
            ("GET", r"/v1/payment_intents/search", self._pi_search),
            ("GET", r"/v1/payment_intents/(pi_\w+)", self._pi_retrieve),
            ("POST", r"/v1/payment_intents/(pi_\w+)/cancel", self._pi_cancel),
            ("POST", r"/v1/refunds", self._refund_create),
            ("GET", r"/v1/refunds", self._refund_list),
            ("GET", r"/v1/refunds/(re_\w+)", self._refund_retrieve),
            ("POST", r"/v1/setup_intents", self._seti_create),
        ]
        for verb, pattern, fn in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                groups = match.groups()
                return lambda params, fn=fn, groups=groups: fn(params, *groups)

        def unknown(params):
            raise StripeHTTPError(404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path})."))

        return unknown

    # --- objects ----------------------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(12)}"

    def _expand(self, obj, paths: list[str]):
        obj = copy.deepcopy(obj)
        for path in paths:
            obj = self._expand_path(obj, path.split("."))
        return obj

    def _expand_path(self, obj, parts: list[str]):
        if not parts or not isinstance(obj, dict):
            return obj
        head, rest = parts[0], parts[1:]
        if head == "data" and isinstance(obj.get("data"), list):
            obj["data"] = [self._expand_path(item, rest) for item in obj["data"]]
            return obj
        value = obj.get(head)
        if isinstance(value, str) and value in self.objects:
            value = copy.deepcopy(self.objects[value])
        obj[head] = self._expand_path(value, rest)
        return obj

    def _amount(self, params: dict, currency: str) -> int:
        try:
            amount = int(params.get("amount", ""))
        except ValueError:
            raise StripeHTTPError(
                400, _error("invalid_request_error", "Invalid integer: amount", code="parameter_invalid_integer")
            ) from None
        if amount < 1:
            raise StripeHTTPError(
                400, _error("invalid_request_error", "Amount must be at least 1", code="amount_too_small")
            )
        if currency.upper() in THREE_DECIMAL and amount % 10:
            raise StripeHTTPError(
                400,
                _error(
                    "invalid_request_error",
                    "Amounts in three-decimal currencies must end in 0.",
                    code="invalid_amount",
                    param="amount",
                ),
            )
        return amount

    def _pi_create(self, params: dict) -> dict:
        currency = str(params.get("currency", ""))
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise StripeHTTPError(400, _error("invalid_request_error", "Invalid currency", param="currency"))
        amount = self._amount(params, currency)
        now = self.now()
        pi_id = self._id("pi")
        intent = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{pi_id}_secret_{secrets.token_hex(8)}",
            "confirmation_method": "automatic",
            "created": now,
            "currency": currency,
            "customer": params.get("customer"),
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(params.get("metadata") or {}),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": params.get("payment_method"),
            "payment_method_options": {},
            "payment_method_types": list(params.get("payment_method_types") or ["card"]),
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self.objects[pi_id] = intent
        if params.get("confirm") == "true":
            self._confirm(intent, params)
        return self._expand(self.objects[pi_id], params.get("expand") or [])

    def _confirm(self, intent: dict, params: dict) -> None:
        pm_id = intent["payment_method"] or ""
        method = self.payment_methods.get(pm_id)
        if method is None:
            raise StripeHTTPError(
                400,
                _error(
                    "invalid_request_error",
                    f"No such PaymentMethod: '{pm_id}'",
                    code="resource_missing",
                    param="payment_method",
                ),
            )
        if method["type"] not in intent["payment_method_types"]:
            raise StripeHTTPError(
                400,
                _error(
                    "invalid_request_error",
                    "The PaymentMethod's type is not in payment_method_types.",
                    code="payment_intent_incompatible_payment_method",
                ),
            )
        outcome = method.get("outcome", "succeeded")
        if outcome == "declined":
            charge = self._charge(intent, method, status="failed")
            error = _error(
                "card_error",
                "Your card was declined."
                if method.get("decline_code") == "generic_decline"
                else "Your card has insufficient funds.",
                code="card_declined",
                decline_code=method.get("decline_code", "generic_decline"),
                charge=charge["id"],
            )
            intent.update(status="requires_payment_method", last_payment_error=error, latest_charge=charge["id"])
            # Stripe's card error carries the PaymentIntent as it now is.
            raise StripeHTTPError(402, {**error, "payment_intent": copy.deepcopy(intent)}, keep=True)
        if outcome == "requires_action" and params.get("off_session") != "true":
            intent.update(
                status="requires_action",
                next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}},
            )
            return
        if outcome == "processing":
            intent["status"] = "processing"
            intent["processing"] = None
            return
        self._succeed(intent, method)

    def _succeed(self, intent: dict, method: dict) -> None:
        charge = self._charge(intent, method, status="succeeded")
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            next_action=None,
            last_payment_error=None,
        )

    def _charge(self, intent: dict, method: dict, *, status: str) -> dict:
        now = self.now()
        charge_id = self._id("ch")
        details = {"type": method["type"]}
        if method["type"] == "card":
            details["card"] = {
                "brand": method.get("brand", "visa"),
                "country": "US",
                "exp_month": 12,
                "exp_year": 2034,
                "funding": "credit",
                "last4": method.get("last4", "4242"),
            }
        else:
            details[method["type"]] = {"last4": method.get("last4", "3000"), "bank_code": "37040044", "country": "DE"}
        balance_id = None
        if status == "succeeded":
            exponent = (
                0
                if intent["currency"].upper() in ZERO_DECIMAL
                else 3
                if intent["currency"].upper() in THREE_DECIMAL
                else 2
            )
            # Stripe's European card price: 1.5% + 0.25 (in the charge's currency here), half up.
            fee = (intent["amount"] * 15 + 500) // 1000 + (25 * 10 ** (exponent - 2) if exponent >= 2 else 0)
            balance_id = self._balance(intent["amount"], fee, intent["currency"], charge_id, "charge")
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if status == "succeeded" else 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": balance_id,
            "billing_details": {
                "address": {
                    "city": None,
                    "country": None,
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "email": None,
                "name": None,
                "phone": None,
            },
            "calculated_statement_descriptor": "COMMERCE HUB",
            "captured": status == "succeeded",
            "created": now,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": None if status == "succeeded" else "card_declined",
            "failure_message": None if status == "succeeded" else "Your card was declined.",
            "fraud_details": {},
            "livemode": False,
            "metadata": {},
            "on_behalf_of": None,
            "outcome": {
                "network_status": "approved_by_network" if status == "succeeded" else "declined_by_network",
                "reason": None if status == "succeeded" else method.get("decline_code"),
                "risk_level": "normal",
                "seller_message": "Payment complete." if status == "succeeded" else "The bank declined the payment.",
                "type": "authorized" if status == "succeeded" else "issuer_declined",
            },
            "paid": status == "succeeded",
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "payment_method_details": details,
            "receipt_email": None,
            "receipt_number": None,
            "receipt_url": None,
            "refunded": False,
            "review": None,
            "shipping": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": status,
            "transfer_data": None,
            "transfer_group": None,
        }
        self.objects[charge_id] = charge
        return charge

    def _balance(self, amount: int, fee: int, currency: str, source: str, kind: str) -> str:
        now = self.now()
        balance_id = self._id("txn")
        self.objects[balance_id] = {
            "id": balance_id,
            "object": "balance_transaction",
            "amount": amount,
            # Stripe's standard settlement: available two days after the charge, at midnight UTC.
            "available_on": (now // 86400 + 2) * 86400,
            "created": now,
            "currency": currency,
            "description": None,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": [
                {
                    "amount": fee,
                    "application": None,
                    "currency": currency,
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else [],
            "net": amount - fee,
            "reporting_category": kind,
            "source": source,
            "status": "pending",
            "type": kind,
        }
        return balance_id

    def _pi_get(self, pi_id: str) -> dict:
        intent = self.objects.get(pi_id)
        if intent is None or intent["object"] != "payment_intent":
            raise StripeHTTPError(
                404,
                _error(
                    "invalid_request_error",
                    f"No such payment_intent: '{pi_id}'",
                    code="resource_missing",
                    param="intent",
                ),
            )
        return intent

    def _pi_retrieve(self, params: dict, pi_id: str) -> dict:
        return self._expand(self._pi_get(pi_id), params.get("expand") or [])

    def _pi_cancel(self, params: dict, pi_id: str) -> dict:
        intent = self._pi_get(pi_id)
        if intent["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise StripeHTTPError(
                400,
                _error(
                    "invalid_request_error",
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent['status']}. Only a PaymentIntent with one of the following statuses may be canceled: "
                    "requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
                    code="payment_intent_unexpected_state",
                ),
                keep=True,
            )
        intent.update(status="canceled", canceled_at=self.now(), cancellation_reason="abandoned", next_action=None)
        return self._expand(intent, params.get("expand") or [])

    def _list(self, items: list[dict], params: dict, url: str) -> dict:
        items = sorted(items, key=lambda o: (o["created"], o["id"]), reverse=True)  # newest first, as Stripe
        if params.get("starting_after"):
            ids = [o["id"] for o in items]
            if params["starting_after"] in ids:
                items = items[ids.index(params["starting_after"]) + 1 :]
        limit = min(int(params.get("limit") or 10), 100)
        page = items[:limit]
        result = {"object": "list", "data": page, "has_more": len(items) > limit, "url": url}
        return self._expand(result, params.get("expand") or [])

    def _pi_list(self, params: dict) -> dict:
        created = params.get("created") or {}
        items = [o for o in self.objects.values() if o["object"] == "payment_intent"]
        if isinstance(created, dict):
            if "gte" in created:
                items = [o for o in items if o["created"] >= int(created["gte"])]
            if "lte" in created:
                items = [o for o in items if o["created"] <= int(created["lte"])]
        return self._list(items, params, "/v1/payment_intents")

    def _pi_search(self, params: dict) -> dict:
        match = re.fullmatch(r"""metadata\[(['"])(\w+)\1\]:(['"])([^'"]*)\3""", str(params.get("query", "")).strip())
        if match is None:
            raise StripeHTTPError(
                400, _error("invalid_request_error", "The search query is not supported here.", param="query")
            )
        key, value = match.group(2), match.group(4)
        items = [
            o for o in self.objects.values() if o["object"] == "payment_intent" and o["metadata"].get(key) == value
        ]
        items.sort(key=lambda o: (o["created"], o["id"]), reverse=True)
        limit = min(int(params.get("limit") or 10), 100)
        result = {
            "object": "search_result",
            "data": items[:limit],
            "has_more": len(items) > limit,
            "next_page": None,
            "total_count": len(items),
            "url": "/v1/payment_intents/search",
        }
        return self._expand(result, params.get("expand") or [])

    def _refund_create(self, params: dict) -> dict:
        intent = self._pi_get(str(params.get("payment_intent", "")))
        if intent["status"] != "succeeded":
            raise StripeHTTPError(
                400,
                _error(
                    "invalid_request_error",
                    "This PaymentIntent does not have a successful charge to refund.",
                    code="charge_not_refundable",
                ),
            )
        charge = self.objects[intent["latest_charge"]]
        amount = self._amount(params, intent["currency"]) if "amount" in params else intent["amount"]
        if charge["amount_refunded"] + amount > charge["amount"]:
            raise StripeHTTPError(
                400,
                _error(
                    "invalid_request_error",
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                    f"({charge['amount'] - charge['amount_refunded']})",
                    code="amount_too_large",
                    param="amount",
                ),
            )
        refund = self._refund(intent, charge, amount, params.get("reason"), dict(params.get("metadata") or {}))
        return self._expand(refund, params.get("expand") or [])

    def _refund(self, intent: dict, charge: dict, amount: int, reason, metadata: dict) -> dict:
        refund_id = self._id("re")
        balance_id = self._balance(-amount, 0, intent["currency"], refund_id, "refund")
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": balance_id,
            "charge": charge["id"],
            "created": self.now(),
            "currency": intent["currency"],
            "metadata": metadata,
            "payment_intent": intent["id"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.objects[refund_id] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return refund

    def _refund_list(self, params: dict) -> dict:
        items = [o for o in self.objects.values() if o["object"] == "refund"]
        if params.get("payment_intent"):
            items = [o for o in items if o["payment_intent"] == params["payment_intent"]]
        if params.get("charge"):
            items = [o for o in items if o["charge"] == params["charge"]]
        return self._list(items, params, "/v1/refunds")

    def _refund_retrieve(self, params: dict, refund_id: str) -> dict:
        refund = self.objects.get(refund_id)
        if refund is None:
            raise StripeHTTPError(
                404, _error("invalid_request_error", f"No such refund: '{refund_id}'", code="resource_missing")
            )
        return self._expand(refund, params.get("expand") or [])

    def _seti_create(self, params: dict) -> dict:
        seti_id = self._id("seti")
        pm_id = params.get("payment_method")
        method = self.payment_methods.get(pm_id or "")
        status, error, next_action = "requires_payment_method", None, None
        if pm_id and params.get("confirm") == "true":
            if method is None:
                raise StripeHTTPError(
                    400,
                    _error("invalid_request_error", f"No such PaymentMethod: '{pm_id}'", code="resource_missing"),
                )
            if method.get("outcome") == "declined":
                error = _error("card_error", "Your card was declined.", code="card_declined")
                error["decline_code"] = method.get("decline_code", "generic_decline")
            elif method.get("outcome") == "requires_action":
                status = "requires_action"
                next_action = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
            else:
                status = "succeeded"
        intent = {
            "id": seti_id,
            "object": "setup_intent",
            "application": None,
            "automatic_payment_methods": None,
            "cancellation_reason": None,
            "client_secret": f"{seti_id}_secret_{secrets.token_hex(8)}",
            "created": self.now(),
            "customer": params.get("customer"),
            "description": None,
            "flow_directions": None,
            "last_setup_error": error,
            "latest_attempt": None,
            "livemode": False,
            "mandate": None,
            "metadata": dict(params.get("metadata") or {}),
            "next_action": next_action,
            "on_behalf_of": None,
            "payment_method": pm_id,
            "payment_method_options": {},
            "payment_method_types": list(params.get("payment_method_types") or ["card"]),
            "single_use_mandate": None,
            "status": status,
            "usage": params.get("usage", "off_session"),
        }
        self.objects[seti_id] = intent
        if error is not None:
            raise StripeHTTPError(402, {**error, "setup_intent": copy.deepcopy(intent)}, keep=True)
        return copy.deepcopy(intent)

    # --- Stripe's side of later events ------------------------------------------------------------------------

    def payment_settle(self, pi_id: str, *, succeed: bool = True) -> dict:
        """A processing debit settles (or fails), as Stripe reports days later."""
        with self.lock:
            intent = self._pi_get(pi_id)
            method = self.payment_methods.get(intent["payment_method"] or "", {"type": "sepa_debit"})
            if succeed:
                self._succeed(intent, method)
            else:
                charge = self._charge(intent, method, status="failed")
                intent.update(
                    status="requires_payment_method",
                    latest_charge=charge["id"],
                    last_payment_error=_error(
                        "invalid_request_error", "The bank refused the debit.", code="payment_method_provider_decline"
                    ),
                )
            return copy.deepcopy(intent)

    def refund_outside(self, pi_id: str, amount: int) -> dict:
        """A refund made in Stripe's dashboard: no metadata of ours."""
        with self.lock:
            intent = self._pi_get(pi_id)
            charge = self.objects[intent["latest_charge"]]
            return copy.deepcopy(self._refund(intent, charge, amount, "requested_by_customer", {}))

    def charge_of(self, pi_id: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.objects[self._pi_get(pi_id)["latest_charge"]])

    def dispute_create(self, pi_id: str, *, reason: str = "fraudulent", due_in_days: int = 7) -> dict:
        with self.lock:
            intent = self._pi_get(pi_id)
            charge = self.objects[intent["latest_charge"]]
            charge["disputed"] = True
            dispute_id = self._id("dp")
            self.objects[dispute_id] = {
                "id": dispute_id,
                "object": "dispute",
                "amount": charge["amount"],
                "balance_transactions": [],
                "charge": charge["id"],
                "created": self.now(),
                "currency": charge["currency"],
                "evidence": {},
                "evidence_details": {
                    "due_by": self.now() + due_in_days * 86400,
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": intent["id"],
                "reason": reason,
                "status": "needs_response",
            }
            return copy.deepcopy(self.objects[dispute_id])

    def update(self, object_id: str, **changes) -> dict:
        """Move a dispute or payout along (status and the like), as Stripe does on its own."""
        with self.lock:
            self.objects[object_id].update(changes)
            return copy.deepcopy(self.objects[object_id])

    def payout_create(self, amount: int, currency: str = "eur", *, arrival_in_days: int = 2) -> dict:
        with self.lock:
            payout_id = self._id("po")
            self.objects[payout_id] = {
                "id": payout_id,
                "object": "payout",
                "amount": amount,
                "arrival_date": (self.now() // 86400 + arrival_in_days) * 86400,
                "automatic": True,
                "balance_transaction": None,
                "created": self.now(),
                "currency": currency,
                "description": "STRIPE PAYOUT",
                "destination": "ba_" + secrets.token_hex(12),
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": {},
                "method": "standard",
                "original_payout": None,
                "reconciliation_status": "not_applicable",
                "reversed_by": None,
                "source_type": "card",
                "statement_descriptor": None,
                "status": "pending",
                "type": "bank_account",
            }
            return copy.deepcopy(self.objects[payout_id])

    def event(self, event_type: str, obj: dict, *, created: int | None = None, expand: list[str] = ()) -> dict:
        """A webhook event about `obj` as Stripe sends it (a snapshot of the object at the time)."""
        return {
            "id": self._id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": created if created is not None else self.now(),
            "data": {"object": self._expand(obj, list(expand))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }


def _handler_for(fake: FakeStripe):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # the test output stays readable
            pass

        def _serve(self, method: str):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            fault = fake._take_fault(f"{method} {parts.path}")
            if fault is not None and fault.mode == "empty":
                # Search lags behind writes at Stripe (up to a minute): a search that does not see them yet.
                empty = {"object": "search_result", "data": [], "has_more": False, "next_page": None, "url": parts.path}
                self._send(200, empty, {})
                return
            if fault is not None and fault.mode == "error":
                self._send(500, {"error": _error("api_error", "An unknown error occurred.")}, {})
                return
            status, response, headers = fake.handle(method, parts.path, parts.query, body, self.headers)
            if fault is not None and fault.mode == "drop":
                # Committed, and the answer never leaves: the client sees the connection close.
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault is not None and fault.mode == "delay":
                time.sleep(fault.seconds)
            self._send(status, response, headers)

        def _send(self, status: int, response: dict, headers: dict) -> None:
            payload = json.dumps(response).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(7))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the delay fault): Stripe would have committed all the same

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_DELETE(self):
            self._serve("DELETE")

    return Handler


def sign(payload: str, secret: str, *, timestamp: int | None = None, extra_signatures: tuple[str, ...] = ()) -> str:
    """A Stripe-Signature header: HMAC-SHA256 of "<timestamp>.<payload>" with the endpoint's secret, as Stripe
    documents it (written out here, apart from the SDK the code under test verifies with)."""
    import hashlib
    import hmac

    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return ",".join([f"t={timestamp}", f"v1={signature}", *(f"v1={s}" for s in extra_signatures)])


# --- test wiring ----------------------------------------------------------------------------------------------------

PUBLISHABLE_KEY = "pk_test_fake0000000000000000000000"
SIGNING_SECRET = "whsec_fakeSigningSecret00000000000000"
ROTATED_SECRET = "whsec_rotatedSigningSecret000000000000"


@pytest.fixture
def fake_stripe(settings):
    """A fake Stripe on a free port, with the SDK pointed at it. No SDK retries: a test that wants them says so."""
    fake = FakeStripe().start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT = 5
    try:
        yield fake
    finally:
        fake.stop()


def stripe_connect(fake: FakeStripe, *, signing_secrets=(SIGNING_SECRET,), processor: str = "stripe") -> None:
    """The current tenant connected to `fake` the way an admin does it in Settings → Payments."""
    from payments.services.payment_settings import (
        payment_processor_update,
        stripe_keys_update,
        stripe_signing_secret_add,
    )

    stripe_keys_update(actor=None, publishable_key=PUBLISHABLE_KEY, secret_key=fake.secret_key)
    for secret in signing_secrets:
        stripe_signing_secret_add(actor=None, secret=secret)
    payment_processor_update(actor=None, processor=processor)
