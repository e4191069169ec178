"""Writes subset.json from Stripe's OpenAPI description (github.com/stripe/openapi, MIT licence: see LICENSE here).

    python tests/payments/stripe_openapi/trim.py <spec3.json or spec3.yaml> <fixtures3.json> <source note>

Keeps, for the objects the fake server returns and the webhook events it sends, each property's shape (type,
nullable, enum, references and expandable alternatives) and the required keys, without the descriptions; and the
list and search envelopes of the calls we make. It also checks that the current fixtures (the example objects Stripe
publishes with the newest spec) still carry every required key, so that an older spec's required list is not stale.
"""

import json
import sys
from pathlib import Path

OBJECTS = [
    "payment_intent",
    "payment_intent_next_action",
    "api_errors",
    "error",
    "charge",
    "balance_transaction",
    "fee",
    "refund",
    "setup_intent",
    "dispute",
    "dispute_evidence_details",
    "payout",
    "event",
    "notification_event_data",
    "notification_event_request",
]
ENVELOPES = {
    "payment_intent_search": ("/v1/payment_intents/search", "get"),
    "payment_intent_list": ("/v1/payment_intents", "get"),
    "refund_list": ("/v1/refunds", "get"),
}
KEEP = ("type", "nullable", "enum", "$ref", "anyOf", "items", "properties", "required", "additionalProperties")


def _shape(node, kept: set[str]):
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return {"$ref": name} if name in kept else {"type": "object"}
        out = {}
        for key in KEEP:
            if key not in node:
                continue
            value = node[key]
            if key == "properties":
                out[key] = {name: _shape(prop, kept) for name, prop in value.items()}
            elif key in ("anyOf", "items"):
                out[key] = [_shape(v, kept) for v in value] if isinstance(value, list) else _shape(value, kept)
            elif key == "additionalProperties":
                out[key] = _shape(value, kept) if isinstance(value, dict) else value
            else:
                out[key] = value
        return out
    return node


def main(spec_path: str, fixtures_path: str, note: str) -> None:
    text = Path(spec_path).read_text()
    if spec_path.endswith((".yaml", ".yml")):
        import yaml

        spec = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    else:
        spec = json.loads(text)
    schemas = spec["components"]["schemas"]
    kept = set(OBJECTS)
    subset = {name: _shape(schemas[name], kept) for name in OBJECTS}
    for name, (path, verb) in ENVELOPES.items():
        subset[name] = _shape(
            spec["paths"][path][verb]["responses"]["200"]["content"]["application/json"]["schema"], kept
        )
    fixtures = json.loads(Path(fixtures_path).read_text())["resources"]
    stale = {
        name: sorted(set(subset[name].get("required", [])) - set(fixtures[name]))
        for name in OBJECTS
        if name in fixtures
    }
    stale = {name: keys for name, keys in stale.items() if keys}
    if stale:
        raise SystemExit(f"required keys missing from the current fixtures: {stale}")
    document = {
        "x-source": note,
        "x-api-version": spec["info"]["version"],
        "x-licence": "MIT, Copyright (c) 2011- Stripe, Inc.; see LICENSE in this folder",
        "schemas": subset,
    }
    out = Path(__file__).with_name("subset.json")
    out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main(*sys.argv[1:4])
