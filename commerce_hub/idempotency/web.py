"""Idempotency keys for views: every action that moves money or sends something is wrapped in `idempotent`.

    from commerce_hub.idempotency.web import idempotent

    if request.method == "POST" and form.is_valid():
        try:
            with idempotent(request, scope="invoice.payment", target=invoice, params=form.cleaned_data) as claim:
                if claim.replay:                      # the same form again: the first answer, nothing repeated
                    return claim.replay
                invoice_record_payment(...)           # the write, in the transaction that holds the key
                messages.success(request, _("Payment recorded."))
                return claim.done(redirect("billing:invoice_detail", invoice.pk))
        except ValidationError as exc:                # rolled back with the key: the same form can be sent again
            form_errors(form, exc)

and the form carries a fresh key each time it renders: `{% load idempotency %}{% idempotency_field %}`.

- scope names the action ("invoice.finalize"); keys are unique per scope.
- target is the object acted on, params what the user chose; with the user they make the fingerprint, and the same
  key with another fingerprint is refused (422). Leave out of params what a form renders itself (the key, the CSRF
  token).
- A request without a key is refused (400) before anything runs; retry_url is where a fresh form is (default: this
  URL, right for a page that shows the form on GET). Refusals become a page, an htmx message or a JSON error in
  IdempotencyRefusedMiddleware.
- An API client sends the key in the Idempotency-Key header and stores JSON: `claim.done(JsonResponse(...))`; a
  replay answers the stored JSON with `Idempotent-Replayed: true`. Callers without a request (webhooks, tasks) use
  services.idempotent_call.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from commerce_hub.idempotency.errors import IdempotencyRefused, KeyMissing
from commerce_hub.idempotency.models import IdempotencyKey
from commerce_hub.idempotency.services import (
    MAX_BODY_BYTES,
    idempotency_fingerprint,
    idempotency_key_claim,
    idempotency_key_complete,
    key_valid,
    target_ref,
)

FIELD = "idempotency_key"
HEADER = "Idempotency-Key"


def request_key(request) -> str:
    return request.POST.get(FIELD) or request.headers.get(HEADER) or ""


def _wants_json(request) -> bool:
    return request.content_type == "application/json" or request.headers.get("Accept", "").startswith(
        "application/json"
    )


class idempotent:  # noqa: N801 - used like a function: `with idempotent(request, ...) as claim`
    """Claim the request's key in a transaction around the body; see the module docstring."""

    def __init__(self, request, *, scope: str, target=None, params: Mapping | None = None, retry_url: str = ""):
        self.request = request
        self.scope = scope
        self.target = target
        self.params = params
        self.retry_url = retry_url
        self.replay: HttpResponse | None = None
        self._row: IdempotencyKey | None = None
        self._done = False

    def __enter__(self) -> idempotent:
        request = self.request
        key = request_key(request)
        user_id = request.user.pk if getattr(request, "user", None) and request.user.is_authenticated else None
        try:
            if not key_valid(key):
                raise KeyMissing
            fingerprint = idempotency_fingerprint(params=self.params, target=self.target, user_id=user_id)
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            try:
                claim = idempotency_key_claim(
                    scope=self.scope, key=key, fingerprint=fingerprint, target=target_ref(self.target), user_id=user_id
                )
            except BaseException:
                self._atomic.__exit__(*sys.exc_info())
                raise
        except IdempotencyRefused as exc:
            exc.retry_url = exc.retry_url or self.retry_url or request.get_full_path()
            raise
        self._row = claim.row
        if not claim.first:
            self.replay = self._replay_response(claim.row)
        return self

    def done(self, response: HttpResponse) -> HttpResponse:
        """Store the first answer (its status, redirect and JSON body) with the write, and return it."""
        idempotency_key_complete(
            row=self._row, status=response.status_code, location=response.get("Location", ""), body=_json_body(response)
        )
        self._done = True
        return response

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self.replay is None and not self._done:
            # Committing a claim without its answer would turn every retry into "still in progress".
            try:
                raise RuntimeError(f"idempotent({self.scope!r}): return claim.done(response) after the write.")
            except RuntimeError:
                self._atomic.__exit__(*sys.exc_info())
                raise
        return self._atomic.__exit__(exc_type, exc, tb)

    def _replay_response(self, row: IdempotencyKey) -> HttpResponse:
        request = self.request
        if row.response_body is not None:
            response = JsonResponse(row.response_body, status=row.response_status or 200, safe=False)
            response["Idempotent-Replayed"] = "true"
            return response
        if row.response_location:
            messages.info(request, _("That was already done; nothing was repeated."))
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(row.response_location)
            return HttpResponseRedirect(row.response_location)
        return HttpResponse(status=row.response_status or 204)


def _json_body(response: HttpResponse):
    if response.streaming or not response.get("Content-Type", "").startswith("application/json"):
        return None
    if len(response.content) > MAX_BODY_BYTES:
        raise ValueError("An idempotent JSON answer is stored whole: keep it under 16 KB.")
    return json.loads(response.content)


def refused_response(request, exc: IdempotencyRefused) -> HttpResponse:
    """What a refused request sees: nothing was done, why, and a link to a fresh form."""
    message = str(exc.message)
    if _wants_json(request):
        return JsonResponse({"error": {"code": exc.code, "message": message}}, status=exc.status)
    context = {"message": message, "status": exc.status, "retry_url": exc.retry_url or request.get_full_path()}
    if getattr(request, "htmx", False):
        # htmx swaps only 2xx answers: a 200 that puts the message on top of the page the user is looking at.
        response = render(request, "idempotency/_refused.html", context)
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "afterbegin"
        return response
    return render(request, "idempotency/refused.html", context, status=exc.status)
