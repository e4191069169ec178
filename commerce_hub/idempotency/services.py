"""Idempotency keys, Stripe's model: the first request with a key acts and its result is stored; a later request with
the same key and the same parameters gets that result back without acting again; the same key with other parameters
is refused. Keys are kept for KEEP, then pruned by the beat job (tasks.py).

The key is claimed in the transaction of the write it protects, so "already done" can only be committed together
with the write: a crash or an error between claim and write rolls both back, and the same key can be used again.

    with transaction.atomic():
        claim = idempotency_key_claim(scope="webhook.stripe", key=event_id, fingerprint=idempotency_fingerprint(...))
        if not claim.first:
            return claim.row.response_body            # the first request's stored result
        ...                                           # the write
        idempotency_key_complete(row=claim.row, status=200, body={...})

Views use web.idempotent (which reads the key from the form or the Idempotency-Key header); tasks, webhooks and
the API without a request use idempotent_call below.

A call to a payment processor never runs inside a transaction, so there the claim commits first (status
"in progress"), the call follows, and idempotency_key_complete records the outcome in a second transaction; a
request with the same key meanwhile is told it is still in progress (KeyInProgress), never acted on twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from commerce_hub.idempotency.errors import KeyInProgress, KeyMissing, KeyReused
from commerce_hub.idempotency.models import IdempotencyKey

KEEP = timedelta(hours=24)
PRUNE_BATCH = 5000
MAX_BODY_BYTES = 16 * 1024  # a stored result is a status, a location or a small JSON answer, never a page
# Visible ASCII only, as Stripe accepts: forms send 32 URL-safe characters, API clients often a UUID.
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


def key_new() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


def key_valid(key: str | None) -> bool:
    return bool(key) and _KEY_RE.match(key) is not None


def target_ref(target) -> str:
    """How an object is named in a fingerprint and in the table: "billing.invoice:42"."""
    if target is None:
        return ""
    if isinstance(target, models.Model):
        return f"{target._meta.label_lower}:{target.pk}"
    return str(target)


def _decimal_text(value: Decimal) -> str:
    # 10, 10.0 and 10.00 are one amount: the same key with any of them is the same request.
    return format(value.normalize(), "f") if value.is_finite() else str(value)


def _sort_key(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _canonical(value):
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return target_ref(value)
    if isinstance(value, QuerySet | set | frozenset):
        return sorted((_canonical(v) for v in value), key=_sort_key)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "amount") and hasattr(value, "currency"):  # django-money's Money
        return {"amount": _canonical(Decimal(value.amount)), "currency": str(value.currency)}
    return str(value)


def idempotency_fingerprint(*, params: Mapping | None = None, target=None, user_id: int | None = None) -> str:
    """sha256 of the canonical parameters, the target object and the user."""
    canonical = {"params": _canonical(params or {}), "target": target_ref(target), "user": user_id}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


_CLAIM_SQL = (
    "INSERT INTO idempotency_idempotencykey"
    " (scope, key, fingerprint, target, user_id, status, response_location, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, '', %s) ON CONFLICT (scope, key) DO NOTHING RETURNING id"
)


@dataclass(frozen=True)
class Claim:
    row: IdempotencyKey
    first: bool  # True: this request claimed the key and acts; False: a replay, row holds the stored result


def idempotency_key_claim(
    *, scope: str, key: str, fingerprint: str, target: str = "", user_id: int | None = None
) -> Claim:
    """Claim (scope, key) inside the caller's transaction.

    INSERT ... ON CONFLICT DO NOTHING: while another transaction holds an uncommitted claim of the same key, this
    statement waits on the unique index until that transaction ends. If it committed, its row (with its result)
    is read and returned as a replay; if it rolled back, this insert goes through and this request acts.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Claim an idempotency key inside the transaction of the write it protects.")
    if not key_valid(key):
        raise KeyMissing
    now = timezone.now()
    for _attempt in range(3):
        with connection.cursor() as cursor:
            cursor.execute(
                _CLAIM_SQL, [scope, key, fingerprint, target[:200], user_id, IdempotencyKey.Status.IN_PROGRESS, now]
            )
            inserted = cursor.fetchone()
        if inserted:
            row = IdempotencyKey(
                pk=inserted[0],
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                target=target[:200],
                user_id=user_id,
                created_at=now,
            )
            return Claim(row=row, first=True)
        # A new statement: it sees the row the insert waited for (read committed).
        row = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if row is None:
            continue  # pruned in between (it was a day old): claim it afresh
        if row.fingerprint != fingerprint:
            raise KeyReused
        if row.status != IdempotencyKey.Status.DONE:
            raise KeyInProgress
        return Claim(row=row, first=False)
    raise KeyInProgress


def idempotency_key_complete(*, row: IdempotencyKey, status: int, location: str = "", body=None) -> None:
    """Store the first request's result, in the transaction that claimed the key."""
    if body is not None and len(json.dumps(body, default=str)) > MAX_BODY_BYTES:
        raise ValueError("An idempotent result is stored whole: keep it under 16 KB.")
    now = timezone.now()
    fields = {
        "status": IdempotencyKey.Status.DONE,
        "response_status": status,
        "response_location": location[:2000],
        "response_body": body,
        "completed_at": now,
    }
    if IdempotencyKey.objects.filter(pk=row.pk, status=IdempotencyKey.Status.IN_PROGRESS).update(**fields) != 1:
        raise RuntimeError(f"Idempotency key {row.scope} {row.key} was completed already.")
    for name, value in fields.items():
        setattr(row, name, value)


def idempotent_call(
    *,
    scope: str,
    key: str,
    action: Callable[[], Any],
    params: Mapping | None = None,
    target=None,
    user_id: int | None = None,
) -> tuple[Any, bool]:
    """Run action() once per (scope, key), in one transaction with the claim, and return (result, replayed).

    For callers without a request (webhook events, API handlers, tasks): the action's result must be a small
    JSON value; a replay returns the stored copy. An exception in action() rolls the claim back with the write.
    """
    fingerprint = idempotency_fingerprint(params=params, target=target, user_id=user_id)
    with transaction.atomic():
        claim = idempotency_key_claim(
            scope=scope, key=key, fingerprint=fingerprint, target=target_ref(target), user_id=user_id
        )
        if not claim.first:
            return claim.row.response_body, True
        result = action()
        idempotency_key_complete(row=claim.row, status=200, body=result)
    return result, False


def idempotency_keys_prune(*, now: datetime | None = None) -> int:
    """Delete keys older than KEEP, in batches, so no statement holds many row locks for long."""
    cutoff = (now or timezone.now()) - KEEP
    deleted = 0
    while True:
        batch = IdempotencyKey.objects.filter(created_at__lt=cutoff).order_by("created_at").values("pk")[:PRUNE_BATCH]
        count, _ = IdempotencyKey.objects.filter(pk__in=batch).delete()
        deleted += count
        if count < PRUNE_BATCH:
            return deleted
