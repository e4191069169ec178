"""The fake Stripe answers in Stripe's published shapes: every object it returns (and every webhook event it builds)
is checked against a trimmed copy of Stripe's OpenAPI description (tests/payments/stripe_openapi/subset.json, MIT
licence, source and commit inside): the required keys are there, no key is made up, and every value has the type,
nullability and enum the description gives."""

import json
from pathlib import Path

import pytest
import requests

from tests.payments.fake_stripe import FakeStripe

SCHEMAS = json.loads((Path(__file__).parent / "stripe_openapi" / "subset.json").read_text())["schemas"]


def problems(value, schema: dict, path: str = "$") -> list[str]:
    """Where `value` departs from `schema` (an empty list when it conforms)."""
    if "$ref" in schema:
        return problems(value, SCHEMAS[schema["$ref"]], path)
    if value is None:
        return [] if schema.get("nullable") else [f"{path}: null where the description does not allow it"]
    if "anyOf" in schema:
        options = [problems(value, option, path) for option in schema["anyOf"]]
        return [] if any(not found for found in options) else min(options, key=len)
    kind = schema.get("type")
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
    }
    if kind in checks and not checks[kind](value):
        return [f"{path}: {type(value).__name__} where the description says {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    found: list[str] = []
    if kind == "object" and "properties" in schema:
        properties = schema["properties"]
        found += [f"{path}: required key {key!r} missing" for key in schema.get("required", []) if key not in value]
        for key, item in value.items():
            if key in properties:
                found += problems(item, properties[key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False or not schema.get("additionalProperties"):
                found.append(f"{path}: key {key!r} is not in Stripe's description")
    if kind == "array" and "items" in schema:
        for index, item in enumerate(value):
            found += problems(item, schema["items"], f"{path}[{index}]")
    return found


@pytest.fixture
def fake():
    with FakeStripe() as fake:
        yield fake


def _call(fake, method, path, data=None, key=None):
    headers = {"Authorization": f"Bearer {fake.secret_key}"}
    if key:
        headers["Idempotency-Key"] = key
    response = requests.request(
        method, fake.url + path, data=data, params=None if method == "POST" else data, headers=headers, timeout=5
    )
    return response.status_code, response.json()


def _ok(body, schema_name):
    assert problems(body, SCHEMAS[schema_name]) == []


def test_payment_intents_in_every_state_match_stripes_description(fake):
    expand = {"expand[0]": "latest_charge.balance_transaction"}
    for pm in ("pm_card_visa", "pm_card_authenticationRequired"):
        status, body = _call(
            fake,
            "POST",
            "/v1/payment_intents",
            {
                "amount": 24200,
                "currency": "eur",
                "payment_method_types[0]": "card",
                "payment_method": pm,
                "confirm": "true",
                "metadata[payment]": "pay_1",
            }
            | expand,
            key=f"k-{pm}",
        )
        assert status == 200
        _ok(body, "payment_intent")
    succeeded = fake.all("payment_intent")[0]
    _ok(fake.get(succeeded["latest_charge"]), "charge")
    _ok(fake.get(fake.get(succeeded["latest_charge"])["balance_transaction"]), "balance_transaction")
    unconfirmed = _call(fake, "POST", "/v1/payment_intents", {"amount": 500, "currency": "jpy"}, key="k3")[1]
    _ok(unconfirmed, "payment_intent")
    _ok(_call(fake, "POST", f"/v1/payment_intents/{unconfirmed['id']}/cancel", {})[1], "payment_intent")
    _ok(_call(fake, "GET", f"/v1/payment_intents/{succeeded['id']}", expand)[1], "payment_intent")


def test_search_and_list_envelopes_match(fake):
    _call(
        fake,
        "POST",
        "/v1/payment_intents",
        {
            "amount": 1000,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "confirm": "true",
            "metadata[payment]": "pay_2",
        },
        key="k1",
    )
    status, found = _call(
        fake,
        "GET",
        "/v1/payment_intents/search",
        {"query": "metadata['payment']:'pay_2'", "expand[0]": "data.latest_charge"},
    )
    assert status == 200 and len(found["data"]) == 1
    _ok(found, "payment_intent_search")
    _ok(_call(fake, "GET", "/v1/payment_intents", {"limit": 3})[1], "payment_intent_list")
    pi = found["data"][0]["id"]
    _call(fake, "POST", "/v1/refunds", {"payment_intent": pi, "amount": 300, "metadata[idempotency_key]": "r"}, key="r")
    refunds = _call(fake, "GET", "/v1/refunds", {"payment_intent": pi})[1]
    _ok(refunds, "refund_list")
    assert [r["amount"] for r in refunds["data"]] == [300]


def test_errors_match_and_idempotency_behaves_like_stripes(fake):
    body = {"amount": 1000, "currency": "eur", "payment_method": "pm_card_chargeDeclined", "confirm": "true"}
    status, declined = _call(fake, "POST", "/v1/payment_intents", body, key="d1")
    assert status == 402
    _ok(declined, "error")
    assert (declined["error"]["type"], declined["error"]["decline_code"]) == ("card_error", "generic_decline")
    # The same key and parameters replay the first answer, the decline included; other parameters are refused.
    assert _call(fake, "POST", "/v1/payment_intents", body, key="d1") == (402, declined)
    status, conflict = _call(fake, "POST", "/v1/payment_intents", body | {"amount": 999}, key="d1")
    assert (status, conflict["error"]["type"]) == (400, "idempotency_error")
    _ok(conflict, "error")
    # Forgotten after 24 hours: the key makes a new PaymentIntent.
    fake.advance(24 * 3600 + 1)
    assert _call(fake, "POST", "/v1/payment_intents", body, key="d1")[0] == 402
    assert len(fake.all("payment_intent")) == 2
    status, missing = _call(fake, "GET", "/v1/payment_intents/pi_nothing")
    assert (status, missing["error"]["code"]) == (404, "resource_missing")
    _ok(missing, "error")
    unauthorized = requests.get(
        fake.url + "/v1/payment_intents", headers={"Authorization": "Bearer sk_test_x"}, timeout=5
    )
    assert unauthorized.status_code == 401
    _ok(unauthorized.json(), "error")


def test_setup_intents_refunds_disputes_payouts_and_events_match(fake):
    setup = _call(
        fake,
        "POST",
        "/v1/setup_intents",
        {"payment_method": "pm_card_visa", "confirm": "true", "usage": "off_session"},
        key="s",
    )[1]
    _ok(setup, "setup_intent")
    pi = _call(
        fake,
        "POST",
        "/v1/payment_intents",
        {"amount": 5120, "currency": "kwd", "payment_method": "pm_card_visa", "confirm": "true"},
        key="p",
    )[1]
    refund = _call(fake, "POST", "/v1/refunds", {"payment_intent": pi["id"], "amount": 1000}, key="r")[1]
    _ok(refund, "refund")
    _ok(fake.get(refund["balance_transaction"]), "balance_transaction")
    dispute = fake.dispute_create(pi["id"])
    _ok(dispute, "dispute")
    payout = fake.payout_create(4200)
    _ok(payout, "payout")
    for event_type, obj in [
        ("payment_intent.succeeded", fake.get(pi["id"])),
        ("charge.refunded", fake.charge_of(pi["id"])),
        ("refund.updated", refund),
        ("charge.dispute.created", dispute),
        ("payout.paid", fake.update(payout["id"], status="paid")),
    ]:
        _ok(fake.event(event_type, obj), "event")
        _ok(
            obj,
            {
                "payment_intent": "payment_intent",
                "charge": "charge",
                "refund": "refund",
                "dispute": "dispute",
                "payout": "payout",
            }[obj["object"]],
        )


def test_three_decimal_amounts_must_end_in_zero_like_at_stripe(fake):
    status, body = _call(fake, "POST", "/v1/payment_intents", {"amount": 5124, "currency": "kwd"}, key="x")
    assert (status, body["error"]["code"]) == (400, "invalid_amount")


def test_the_validator_catches_a_made_up_or_missing_key():
    intent = {"id": "pi_1", "object": "payment_intent"}
    found = problems(intent | {"colour": "red"}, SCHEMAS["payment_intent"])
    assert "$: key 'colour' is not in Stripe's description" in found
    assert "$: required key 'amount' missing" in found
