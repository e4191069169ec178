"""The buyer's hosted quote page (no login: the 256-bit token in the URL is the key) with its PDF, the signing steps
(code, verification, signature), accepting and declining; and the rep's publish and unpublish actions.

Every buyer response carries hosted_headers (no-store, no-referrer, noindex) and every buyer form
hosted_csrf_protect. A replaced, expired or declined quote's page says so and offers nothing else. Views parse,
call one service and redirect; services refuse what the state does not allow.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.hosted import hosted_csrf_protect, hosted_headers, hosted_logo_uri
from billing.models import Quote, QuotePublication, QuoteStatus, SignatureKind
from billing.pricing import PricingError
from billing.quote_hosted_actions import quote_hosted_actions
from billing.quote_pdf import QuotePdfMissing, publication_pdf_bytes, quote_draft_pdf_bytes, signed_pdf_bytes
from billing.selectors.quote_hosted import (
    hosted_signers,
    hosted_state,
    mask_email,
    publication_by_token,
    publication_refusal,
    quote_document_for_display,
)
from billing.services import quote_publishing as publishing
from billing.services import quote_signing as signing
from billing.views.quotes import errors_to_messages, quote_get
from commerce_hub.access import require_perm
from commerce_hub.idempotency.errors import IdempotencyRefused
from commerce_hub.idempotency.web import idempotent, refused_response
from commerce_hub.request_context import client_ip

VIEW = "accounts.view_quotes"
EDIT = "accounts.edit_quotes"
SESSION_KEY = "quote_signers"  # {signer id: the verified_at this browser's code verification produced}


# --- helpers ----------------------------------------------------------------------------------------------------------


def hosted_view(view):
    """A buyer page: every answer, a "not found" for a forged token included, carries the hosted headers (a 404 is
    not kept by any cache either, and never leaks the URL it was asked for)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            response = render(request, "errors/404.html", status=404)
        except IdempotencyRefused as exc:  # a form sent without its key, or replayed with other values
            response = refused_response(request, exc)
        return hosted_headers(response)

    return wrapped


def _publication(token: str) -> QuotePublication:
    publication = publication_by_token(token)
    if publication is None:
        raise Http404
    return publication


def _hosted_url(token: str) -> str:
    return reverse("billing:quote_hosted", args=[token])


def _is_staff(request) -> bool:
    return request.user.is_authenticated and request.user.has_perm(VIEW)


def _session_verifications(request) -> dict:
    return dict(request.session.get(SESSION_KEY) or {})


def _remember_verification(request, signer) -> None:
    kept = _session_verifications(request)
    kept[str(signer.pk)] = signer.verified_at.isoformat()
    request.session[SESSION_KEY] = kept


def _signer_or_404(publication: QuotePublication, signer_id: int):
    signer = publication.signers.filter(pk=signer_id).first()
    if signer is None:
        raise Http404
    return signer


def _render(request, template: str, context: dict, *, language: str, status: int = 200) -> HttpResponse:
    # The buyer reads the quote in its language, whatever the seller's staff use.
    with translation.override(language):
        response = render(request, template, context, status=status)
    return hosted_headers(response)


def _page_context(request, publication: QuotePublication, quote: Quote) -> dict:
    document = publication.snapshot
    state = hosted_state(quote, publication)
    return {
        "publication": publication,
        "quote": quote,
        "token": publication.token,
        "state": state,
        "document": quote_document_for_display(document),
        "logo_uri": hosted_logo_uri(document.get("logo_path", "")),
        "accent": (document.get("seller") or {}).get("accent_color") or "",
        "refusal": publication_refusal(quote, publication),
    }


# --- the hosted page --------------------------------------------------------------------------------------------------


@hosted_view
@require_GET
def quote_hosted(request, token: str):
    publication = _publication(token)
    quote = publication.quote
    language = quote.language or "en"
    # A member of staff checking the link is not the buyer opening it.
    opened = hosted_state(quote, publication) == "open" and not _is_staff(request)
    if opened and publishing.quote_viewed(publication=publication):
        quote.refresh_from_db()
    with translation.override(language):
        context = _page_context(request, publication, quote)
        if context["state"] in ("replaced", "expired", "declined"):
            return _render(request, "billing/quotes/hosted_closed.html", context, language=language)
        signers = hosted_signers(quote, publication) if quote.signature_required else []
        verified = _session_verifications(request)
        context.update(
            signers=signers,
            verified_ids={int(pk) for pk in verified},
            actions=_actions_html(request, quote, publication, context["state"]),
            signed_count=sum(1 for row in signers if row.state == "signed"),
        )
    return _render(request, "billing/quotes/hosted.html", context, language=language)


def _actions_html(request, quote: Quote, publication: QuotePublication, state: str) -> list:
    """The areas other features add (payment), once the quote is agreed or needs no signature; never on a closed
    page."""
    agreed = state in ("signed", "accepted", "paid")
    if not (agreed or (state == "open" and not quote.signature_required)):
        return []
    shown = []
    for template, context in quote_hosted_actions(quote, publication):
        html = render_to_string(
            template,
            {"action": context, "quote": quote, "publication": publication, "token": publication.token},
            request=request,
        )
        shown.append(mark_safe(html))  # noqa: S308 - rendered by the template engine (autoescaped)
    return shown


@hosted_view
@require_GET
def quote_hosted_pdf(request, token: str):
    """The PDF exactly as published (the bytes every signature's hash refers to)."""
    publication = _publication(token)
    quote = publication.quote
    if hosted_state(quote, publication) in ("replaced", "expired", "declined"):
        raise Http404
    try:
        data = publication_pdf_bytes(publication)
    except QuotePdfMissing as exc:
        raise Http404 from exc
    return hosted_headers(_pdf_response(data, _pdf_name(publication), download=request.GET.get("download") == "1"))


@hosted_view
@require_GET
def quote_hosted_signed_pdf(request, token: str):
    publication = _publication(token)
    if not publication.signed_pdf_path or hosted_state(publication.quote, publication) == "replaced":
        raise Http404
    try:
        data = signed_pdf_bytes(publication)
    except QuotePdfMissing as exc:
        raise Http404 from exc
    return hosted_headers(_pdf_response(data, _pdf_name(publication, signed=True), download=True))


def _pdf_name(publication: QuotePublication, *, signed: bool = False) -> str:
    number = publication.snapshot.get("number") or "quote"
    revision = f"-r{publication.revision}" if publication.revision > 1 else ""
    return f"{number}{revision}{'-signed' if signed else ''}.pdf"


def _pdf_response(data: bytes, filename: str, *, download: bool) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'{"attachment" if download else "inline"}; filename="{filename}"'
    return response


# --- signing ----------------------------------------------------------------------------------------------------------


@hosted_view
@require_POST
@hosted_csrf_protect
def quote_sign_code(request, token: str, signer_id: int):
    """Send the signer a one-time code, then show where to enter it."""
    publication = _publication(token)
    signer = _signer_or_404(publication, signer_id)
    language = publication.quote.language or "en"
    verify_url = reverse("billing:quote_sign_verify", args=[token, signer.pk])
    with translation.override(language):
        try:
            with idempotent(request, scope="quote.signing_code", target=signer, retry_url=_hosted_url(token)) as claim:
                if claim.replay:
                    return hosted_headers(claim.replay)
                signing.signing_code_send(publication=publication, signer_id=signer.pk)
                # The link may be forwarded: the page names the mailbox only as far as its owner recognises it.
                messages.success(request, _("We sent a code to %(email)s.") % {"email": mask_email(signer.email)})
                return hosted_headers(claim.done(redirect(verify_url)))
        except ValidationError as exc:
            errors_to_messages(request, exc)
    return hosted_headers(redirect(_hosted_url(token)))


@hosted_view
@require_http_methods(["GET", "POST"])
@hosted_csrf_protect
def quote_sign_verify(request, token: str, signer_id: int):
    """Enter the code from the email."""
    publication = _publication(token)
    quote = publication.quote
    signer = _signer_or_404(publication, signer_id)
    language = quote.language or "en"
    with translation.override(language):
        refusal = publication_refusal(quote, publication)
        if refusal:
            messages.error(request, refusal)
            return hosted_headers(redirect(_hosted_url(token)))
        errors: list[str] = []
        if request.method == "POST":
            try:
                # Not inside a transaction of ours: a wrong try must be counted even though it is refused.
                signer = signing.signing_code_verify(
                    publication=publication, signer_id=signer.pk, code=request.POST.get("code", "")
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                _remember_verification(request, signer)
                return hosted_headers(redirect("billing:quote_sign", token, signer.pk))
        context = {
            **_page_context(request, publication, quote),
            "signer": signer,
            "masked_email": mask_email(signer.email),
            "errors": errors,
        }
    return _render(request, "billing/quotes/sign_code.html", context, language=language, status=422 if errors else 200)


@hosted_view
@require_http_methods(["GET", "POST"])
@hosted_csrf_protect
def quote_sign(request, token: str, signer_id: int):
    """Type or draw the signature and sign the exact PDF the page offers."""
    publication = _publication(token)
    quote = publication.quote
    signer = _signer_or_404(publication, signer_id)
    language = quote.language or "en"
    verified_at = _session_verifications(request).get(str(signer.pk), "")
    with translation.override(language):
        refusal = publication_refusal(quote, publication)
        if refusal:
            messages.error(request, refusal)
            return hosted_headers(redirect(_hosted_url(token)))
        if not verified_at or signer.signed_at:
            if signer.signed_at:
                messages.info(request, _("You have already signed this quote."))
            else:
                messages.error(request, _("Confirm your email address with a code first."))
            return hosted_headers(redirect(_hosted_url(token)))
        errors: dict[str, list[str]] = {}
        values = {"signature_kind": SignatureKind.TYPED, "signature_name": signer.name}
        if request.method == "POST":
            values = {
                "signature_kind": request.POST.get("signature_kind", ""),
                "signature_name": request.POST.get("signature_name", ""),
            }
            try:
                with idempotent(request, scope="quote.sign", target=signer, retry_url=request.path) as claim:
                    if claim.replay:
                        return hosted_headers(claim.replay)
                    signing.quote_sign(
                        publication=publication,
                        signer_id=signer.pk,
                        verified_at=verified_at,
                        kind=values["signature_kind"],
                        name=values["signature_name"],
                        image=request.POST.get("signature_image", ""),
                        pdf_sha256=request.POST.get("pdf_sha256", ""),
                        agreed=request.POST.get("agree") == "on",
                        ip_address=client_ip(request),
                        user_agent=request.headers.get("User-Agent", ""),
                    )
                    quote.refresh_from_db()
                    if quote.status == QuoteStatus.SIGNED:
                        messages.success(
                            request,
                            _("Thank you for signing. Everyone has signed: the signed copy is on its way by email."),
                        )
                    else:
                        messages.success(
                            request,
                            _("Thank you for signing. We will email you the signed copy once everyone has signed."),
                        )
                    return hosted_headers(claim.done(redirect(_hosted_url(token))))
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        context = {
            **_page_context(request, publication, quote),
            "signer": signer,
            "errors": errors,
            "values": values,
            "max_image_bytes": signing.SIGNATURE_IMAGE_MAX_BYTES,
        }
    return _render(request, "billing/quotes/sign.html", context, language=language, status=422 if errors else 200)


# --- accepting and declining ------------------------------------------------------------------------------------------


@hosted_view
@require_POST
@hosted_csrf_protect
def quote_accept(request, token: str):
    publication = _publication(token)
    language = publication.quote.language or "en"
    with translation.override(language):
        try:
            with idempotent(request, scope="quote.accept", target=publication, retry_url=_hosted_url(token)) as claim:
                if claim.replay:
                    return hosted_headers(claim.replay)
                publishing.quote_accept(
                    publication=publication,
                    name=request.POST.get("name", ""),
                    agreed=request.POST.get("agree") == "on",
                    ip_address=client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
                messages.success(request, _("Thank you: you accepted the quote."))
                return hosted_headers(claim.done(redirect(_hosted_url(token))))
        except ValidationError as exc:
            errors_to_messages(request, exc)
    return hosted_headers(redirect(_hosted_url(token)))


@hosted_view
@require_http_methods(["GET", "POST"])
@hosted_csrf_protect
def quote_decline(request, token: str):
    publication = _publication(token)
    quote = publication.quote
    language = quote.language or "en"
    with translation.override(language):
        refusal = publication_refusal(quote, publication)
        if refusal:
            messages.error(request, refusal)
            return hosted_headers(redirect(_hosted_url(token)))
        errors: list[str] = []
        reason = request.POST.get("reason", "") if request.method == "POST" else ""
        if request.method == "POST":
            try:
                with idempotent(request, scope="quote.decline", target=publication, retry_url=request.path) as claim:
                    if claim.replay:
                        return hosted_headers(claim.replay)
                    publishing.quote_decline(publication=publication, reason=reason)
                    messages.info(request, _("You declined the quote. The sender has been told."))
                    return hosted_headers(claim.done(redirect(_hosted_url(token))))
            except ValidationError as exc:
                errors = exc.messages
        context = {**_page_context(request, publication, quote), "errors": errors, "reason": reason}
    return _render(
        request, "billing/quotes/hosted_decline.html", context, language=language, status=422 if errors else 200
    )


# --- the rep: publish, unpublish, the PDF -----------------------------------------------------------------------------


def _record_page(quote: Quote) -> str:
    return reverse("billing:quote_detail", args=[quote.pk])


@require_perm(EDIT)
@require_POST
def quote_publish(request, pk: int):
    quote = quote_get(request, pk, EDIT)
    notify = request.POST.get("notify", "on") == "on"
    try:
        with idempotent(request, scope="quote.publish", target=quote, params={"notify": notify}) as claim:
            if claim.replay:
                return claim.replay
            publication = publishing.quote_publish(quote=quote, actor=request.user, notify=notify)
            if notify:
                messages.success(
                    request,
                    _("Quote %(number)s is published (revision %(revision)d) and its link is on its way to the buyer.")
                    % {"number": publication.snapshot["number"], "revision": publication.revision},
                )
            else:
                messages.success(
                    request,
                    _("Quote %(number)s is published (revision %(revision)d). Share its link with the buyer.")
                    % {"number": publication.snapshot["number"], "revision": publication.revision},
                )
            return claim.done(redirect(_record_page(quote)))
    except ValidationError as exc:
        errors_to_messages(request, exc)
    return redirect(_record_page(quote))


@require_perm(EDIT)
@require_POST
def quote_unpublish(request, pk: int):
    quote = quote_get(request, pk, EDIT)
    try:
        with idempotent(request, scope="quote.unpublish", target=quote) as claim:
            if claim.replay:
                return claim.replay
            quote = publishing.quote_unpublish(quote=quote, actor=request.user)
            messages.success(
                request,
                _("Quote %(number)s is back in draft and its link says it was replaced. Publish it again when ready.")
                % {"number": str(quote)},
            )
            return claim.done(redirect(_record_page(quote)))
    except ValidationError as exc:
        errors_to_messages(request, exc)
    return redirect(_record_page(quote))


@require_perm(VIEW)
@require_GET
def quote_pdf(request, pk: int):
    """The rep's PDF: the published revision's file (the signed copy once everyone signed), or a draft's preview."""
    quote = quote_get(request, pk, VIEW)
    download = request.GET.get("download") == "1"
    publication = quote.publication if quote.publication_id and not quote.is_editable else None
    if publication is None:
        try:
            data = quote_draft_pdf_bytes(quote)
        except PricingError as exc:  # a line that cannot be priced: say so on the record page
            messages.error(request, _("The preview cannot be made: %(reason)s") % {"reason": exc})
            return redirect(_record_page(quote))
        return _pdf_response(data, f"quote-{quote.pk}-draft.pdf", download=download)
    try:
        if publication.signed_pdf_path and request.GET.get("original") != "1":
            return _pdf_response(signed_pdf_bytes(publication), _pdf_name(publication, signed=True), download=download)
        return _pdf_response(publication_pdf_bytes(publication), _pdf_name(publication), download=download)
    except QuotePdfMissing as exc:
        raise Http404 from exc
