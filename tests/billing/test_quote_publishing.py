"""Publishing quotes: numbers from their own gap-free series, the frozen revision (snapshot, PDF and its SHA-256,
signers in order), the lock on a published quote, unpublishing into a new revision whose old link says it was
replaced, the approval check, and the buyer's hosted page: headers, forged and foreign tokens, the first view,
accepting and declining, and what other features add to it."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from billing.models import (
    NumberSeries,
    Quote,
    QuoteEvent,
    QuotePublication,
    QuoteSettings,
    QuoteSigner,
    QuoteStatus,
)
from billing.quote_hosted_actions import _actions as registered_actions
from billing.quote_hosted_actions import quote_hosted_actions_register
from billing.services.quote_publishing import quote_accept, quote_decline, quote_publish, quote_unpublish
from billing.services.quote_records import QuoteStateError
from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.events.models import OutboxEvent, OutgoingEmail
from tests.billing.invoicing import key
from tests.billing.quote_publishing_data import (  # noqa: F401 - media is a fixture
    IP,
    UA,
    buyer_with_contacts,
    host,
    media,
    published,
    quote_make,
)
from tests.conftest import user_make

pytestmark = pytest.mark.usefixtures("media")


@pytest.fixture
def rep(tenant_alpha):
    return user_make(Role.SALES, full_name="Sam Sales", email="sam@alpha.example")


def page(publication, client=None):
    response = (client or host()).get(f"/billing/q/{publication.token}/")
    return response, response.content.decode()


# --- numbers and the frozen revision ----------------------------------------------------------------------------------


def test_publishing_numbers_quotes_q1001_then_q1002_without_gaps(rep):
    first = quote_make(owner=rep)
    broken = quote_make(owner=rep, lines=())
    second = quote_make(owner=rep)
    assert quote_publish(quote=first, actor=rep).snapshot["number"] == "Q-1001"
    with pytest.raises(ValidationError) as refused:
        quote_publish(quote=broken, actor=rep)
    assert refused.value.messages == ["Add at least one line item."]
    assert quote_publish(quote=second, actor=rep).snapshot["number"] == "Q-1002"
    assert list(Quote.objects.order_by("number").values_list("number", "sequence")) == [
        ("Q-1001", 1001),
        ("Q-1002", 1002),
        (None, None),
    ]
    assert NumberSeries.objects.get(key=NumberSeries.QUOTE).next_number == 1003
    # A new revision keeps its number and takes none.
    quote_unpublish(quote=first, actor=rep)
    assert quote_publish(quote=first, actor=rep).snapshot["number"] == "Q-1001"
    assert NumberSeries.objects.get(key=NumberSeries.QUOTE).next_number == 1003


def test_the_publication_freezes_the_document_its_pdf_and_the_pdf_hash(rep):
    countersigner = user_make(Role.ADMIN, full_name="Ada Admin", email="ada@alpha.example")
    company, contacts = buyer_with_contacts(
        ("Kari", "Nordmann", "kari@fjordline.example"), ("Ola", "Berg", "ola@fjordline.example")
    )
    quote = quote_make(owner=rep, company=company, contacts=contacts, countersigners=[countersigner])
    publication = quote_publish(quote=quote, actor=rep)
    quote.refresh_from_db()
    stored = default_storage.open(publication.pdf_path, "rb").read()
    assert stored.startswith(b"%PDF-")
    assert publication.pdf_sha256 == hashlib.sha256(stored).hexdigest()
    assert len(publication.token) == 43 and publication.revision == 1 and publication.published_by == rep
    assert (quote.status, quote.revision, quote.publication_id, quote.total) == (
        QuoteStatus.PUBLISHED,
        1,
        publication.pk,
        Decimal("1210.0000"),
    )
    snapshot = publication.snapshot
    assert (snapshot["kind"], snapshot["number"], snapshot["revision"], snapshot["total"]) == (
        "quote",
        "Q-1001",
        1,
        "1210.00",
    )
    assert snapshot["buyer"]["name"] == "Fjordline AS" and snapshot["sender"]["name"] == "Sam Sales"
    # Buyers in the order they were added, then the countersigners.
    assert list(publication.signers.values_list("position", "role", "name", "email")) == [
        (0, "buyer", "Kari Nordmann", "kari@fjordline.example"),
        (1, "buyer", "Ola Berg", "ola@fjordline.example"),
        (2, "countersigner", "Ada Admin", "ada@alpha.example"),
    ]
    assert QuoteEvent.objects.filter(quote=quote, kind="published", to_status="published").count() == 1
    assert OutboxEvent.objects.filter(name="quote.published", payload__id=quote.pk).count() == 1
    assert AuditEntry.objects.filter(action="quote.published", object_id=str(quote.pk)).count() == 1
    # Both buyers get the link with the PDF; the countersigner (any order) is asked to sign.
    emails = OutgoingEmail.objects.order_by("id")
    assert [(e.to, e.subject) for e in emails] == [
        ("kari@fjordline.example", "Quote Q-1001 from Alpha Handel B.V.: Fleet tracking rollout"),
        ("ola@fjordline.example", "Quote Q-1001 from Alpha Handel B.V.: Fleet tracking rollout"),
        ("ada@alpha.example", "Your signature is requested on quote Q-1001"),
    ]
    assert emails[0].attachments == [{"provider": "billing.quote_pdf", "id": publication.pk}]
    assert f"/billing/q/{publication.token}/" in emails[0].text


def test_a_published_quote_is_locked(rep):
    quote, publication = published(actor=rep)
    assert not quote.is_editable
    with pytest.raises(QuoteStateError) as refused:
        quote_publish(quote=quote, actor=rep)
    assert refused.value.messages == ["Quote Q-1001 is published: unpublish it to change it."]
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(rep)
    line = quote.line_items.get()
    response = client.post(f"/billing/quotes/{quote.pk}/line-items/{line.pk}/delete/")
    assert response.status_code == 403
    assert quote.line_items.count() == 1
    assert QuotePublication.objects.filter(quote=quote).count() == 1


def test_unpublish_and_republish_makes_revision_2_and_the_old_link_says_replaced(rep):
    quote, first = published(actor=rep)
    quote = quote_unpublish(quote=quote, actor=rep)
    first.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and quote.is_editable and first.replaced_at is not None
    second = quote_publish(quote=quote, actor=rep)
    quote.refresh_from_db()
    assert (second.revision, quote.revision, quote.publication_id) == (2, 2, second.pk)
    assert second.token != first.token and second.snapshot["number"] == "Q-1001"

    response, body = page(first)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "This quote was replaced" in body
    assert "/signers/" not in body and "/pdf/" not in body and "Decline" not in body
    assert host().get(f"/billing/q/{first.token}/pdf/").status_code == 404
    # Nobody signs the replaced revision, even with a form posted straight at it.
    signer = first.signers.get()
    response = host().post(f"/billing/q/{first.token}/signers/{signer.pk}/code/", key())
    assert response.status_code == 302
    assert not OutgoingEmail.objects.filter(subject__contains="code").exists()

    response, body = page(second)
    assert "Fleet tracking rollout" in body and "revision 2" in body and "email me a code" in body


def test_unpublishing_a_signed_quote_is_refused(rep):
    quote, publication = published(actor=rep)
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.SIGNED)
    with pytest.raises(QuoteStateError) as refused:
        quote_unpublish(quote=quote, actor=rep)
    assert refused.value.messages == ["Quote Q-1001 has been signed."]
    assert QuotePublication.objects.get(pk=publication.pk).replaced_at is None


def test_publishing_needs_approval_when_the_total_passes_the_limit(rep):
    QuoteSettings.objects.update_or_create(
        pk=1,
        defaults={"approvals_enabled": True, "approval_total_amount": Decimal("500"), "approval_total_currency": "EUR"},
    )
    quote = quote_make(owner=rep)
    with pytest.raises(ValidationError) as refused:
        quote_publish(quote=quote, actor=rep)
    assert refused.value.messages[0] == "This quote needs an approver's approval before it can be published."
    assert "above the approval limit" in refused.value.messages[1]
    quote.refresh_from_db()
    assert (quote.status, quote.number) == (QuoteStatus.DRAFT, None)
    assert not QuotePublication.objects.exists()
    assert NumberSeries.objects.filter(key=NumberSeries.QUOTE, last_used__isnull=False).count() == 0


def test_publishing_refuses_what_cannot_be_signed(rep):
    company, contacts = buyer_with_contacts(("Kari", "Nordmann", ""))
    quote = quote_make(owner=rep, company=company, contacts=contacts)
    Quote.objects.filter(pk=quote.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    quote.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        quote_publish(quote=quote, actor=rep)
    assert refused.value.messages == [
        "The expiration date has passed: choose a later one.",
        "Kari Nordmann has no email address; every buyer contact signs the quote.",
    ]
    assert not QuotePublication.objects.exists() and not default_storage.exists("quotes")


# --- the rep's buttons ------------------------------------------------------------------------------------------------


def test_the_rep_publishes_and_unpublishes_from_the_record_page(rep):
    quote = quote_make(owner=rep)
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(rep)
    response = client.post(f"/billing/quotes/{quote.pk}/publish/", key())
    assert response.status_code == 302 and response["Location"] == f"/billing/quotes/{quote.pk}/"
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PUBLISHED
    # The same form again does nothing more.
    form = key()
    client.post(f"/billing/quotes/{quote.pk}/unpublish/", form)
    client.post(f"/billing/quotes/{quote.pk}/unpublish/", form)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    assert QuoteEvent.objects.filter(quote=quote, kind="unpublished").count() == 1
    # Publishing without emailing the buyer.
    before = OutgoingEmail.objects.count()
    client.post(f"/billing/quotes/{quote.pk}/publish/", {**key(), "notify": "off"})
    quote.refresh_from_db()
    assert (quote.status, quote.revision, OutgoingEmail.objects.count()) == (QuoteStatus.PUBLISHED, 2, before)


def test_a_read_only_user_cannot_publish(rep):
    quote = quote_make(owner=rep)
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.READ_ONLY))
    assert client.post(f"/billing/quotes/{quote.pk}/publish/", key()).status_code == 403
    assert Client(HTTP_HOST="alpha.localhost").post(f"/billing/quotes/{quote.pk}/publish/", key()).status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_the_rep_reads_the_pdf_of_a_draft_and_of_the_published_revision(rep):
    quote = quote_make(owner=rep)
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(rep)
    draft = client.get(f"/billing/quotes/{quote.pk}/pdf/")
    assert draft.status_code == 200 and draft["Content-Type"] == "application/pdf"
    publication = quote_publish(quote=quote, actor=rep)
    response = client.get(f"/billing/quotes/{quote.pk}/pdf/")
    assert response.content == default_storage.open(publication.pdf_path, "rb").read()


# --- the hosted page --------------------------------------------------------------------------------------------------


def test_the_hosted_page_shows_the_quote_and_the_first_buyer_view_marks_it_viewed(rep):
    quote, publication = published(actor=rep)
    staff = Client(HTTP_HOST="alpha.localhost")
    staff.force_login(rep)
    staff.get(f"/billing/q/{publication.token}/")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PUBLISHED  # staff checking the link is not the buyer
    response, body = page(publication)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"
    assert "Quote Q-1001 from Alpha Handel B.V." in body and "Fjordline AS" in body and "Valid until" in body
    assert "€1,210.00" in body and "k***@fjordline.example" in body
    page(publication)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.VIEWED and quote.first_viewed_at is not None
    assert QuoteEvent.objects.filter(quote=quote, kind="viewed").count() == 1
    assert OutboxEvent.objects.filter(name="quote.viewed").count() == 1
    pdf = host().get(f"/billing/q/{publication.token}/pdf/")
    assert pdf.status_code == 200 and "no-store" in pdf["Cache-Control"]
    assert hashlib.sha256(pdf.content).hexdigest() == publication.pdf_sha256


def test_the_hosted_page_speaks_the_quote_language(rep):
    _quote, publication = published(actor=rep, language="nl")
    response, body = page(publication)
    assert response.status_code == 200 and '<html lang="nl"' in body


@pytest.mark.parametrize("token", ["x" * 43, "short", "../../etc/passwd", "%00" * 10, "Ä" * 43, "a" * 200])
def test_forged_tokens_find_nothing_and_are_not_cached(rep, token):
    published(actor=rep)
    response = host().get(f"/billing/q/{token}/")
    assert response.status_code == 404
    assert host().get(f"/billing/q/{token}/pdf/").status_code == 404


def test_a_forged_token_of_the_right_shape_is_a_404_with_no_store(rep):
    _quote, publication = published(actor=rep)
    forged = publication.token[:-1] + ("A" if publication.token[-1] != "A" else "B")
    for path in (f"/billing/q/{forged}/", f"/billing/q/{forged}/pdf/", f"/billing/q/{forged}/decline/"):
        response = host().get(path)
        assert response.status_code == 404, path
        assert (response["Cache-Control"], response["Referrer-Policy"]) == ("no-store", "no-referrer"), path
    response = host().post(f"/billing/q/{forged}/signers/1/code/", key())
    assert response.status_code == 404 and response["Cache-Control"] == "no-store"


def test_another_tenants_token_finds_nothing(rep, tenant_bravo):
    _quote, publication = published(actor=rep)
    assert host().get(f"/billing/q/{publication.token}/").status_code == 200
    assert host("bravo.localhost").get(f"/billing/q/{publication.token}/").status_code == 404
    assert host("bravo.localhost").get(f"/billing/q/{publication.token}/pdf/").status_code == 404


# --- accepting and declining ------------------------------------------------------------------------------------------


def test_a_quote_without_signature_is_accepted_by_the_buyer(rep):
    quote, publication = published(actor=rep, signature_required=False)
    assert not publication.signers.exists()
    response, body = page(publication)
    assert "Accept the quote" in body and "email me a code" not in body
    response = host().post(
        f"/billing/q/{publication.token}/accept/",
        {**key(), "name": "Kari Nordmann", "agree": "on"},
        HTTP_USER_AGENT=UA,
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and quote.accepted_at is not None
    event = QuoteEvent.objects.get(quote=quote, kind="accepted")
    assert event.data == {
        "revision": 1,
        "signer": "Kari Nordmann",
        "ip_address": IP,
        "user_agent": UA,
        "pdf_sha256": publication.pdf_sha256,
    }
    assert OutboxEvent.objects.get(name="quote.accepted").payload == {
        "id": quote.pk,
        "number": "Q-1001",
        "revision": 1,
        "signer": "Kari Nordmann",
    }
    assert OutgoingEmail.objects.filter(to="sam@alpha.example", subject="Quote Q-1001 was accepted by Kari Nordmann")


def test_accepting_needs_a_name_and_the_box_and_is_refused_when_a_signature_is_required(rep):
    quote, publication = published(actor=rep, signature_required=False)
    with pytest.raises(ValidationError) as refused:
        quote_accept(publication=publication, name="  ", agreed=True, ip_address=IP, user_agent=UA)
    assert refused.value.message_dict == {"name": ["Type your full name."]}
    with pytest.raises(ValidationError) as refused:
        quote_accept(publication=publication, name="Kari", agreed=False, ip_address=IP, user_agent=UA)
    assert refused.value.message_dict == {"agree": ["Tick the box to accept the quote."]}
    _signed_quote, needs_signature = published(actor=rep)
    with pytest.raises(QuoteStateError) as refused:
        quote_accept(publication=needs_signature, name="Kari", agreed=True, ip_address=IP, user_agent=UA)
    assert refused.value.messages == ["This quote is accepted by signing it."]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PUBLISHED


def test_the_buyer_declines_with_a_reason_and_the_page_then_offers_nothing(rep):
    quote, publication = published(actor=rep)
    response = host().post(f"/billing/q/{publication.token}/decline/", {**key(), "reason": ""})
    assert response.status_code == 422
    assert "Tell the seller why you decline" in response.content.decode()
    response = host().post(f"/billing/q/{publication.token}/decline/", {**key(), "reason": "Too expensive for us."})
    assert response.status_code == 302
    quote.refresh_from_db()
    assert (quote.status, quote.decline_reason) == (QuoteStatus.DECLINED, "Too expensive for us.")
    notice = OutgoingEmail.objects.get(to="sam@alpha.example", subject="Quote Q-1001 was declined")
    assert "Too expensive for us." in notice.text
    response, body = page(publication)
    assert "This quote was declined" in body
    assert "/signers/" not in body and "/pdf/" not in body and "/accept/" not in body
    with pytest.raises(QuoteStateError) as refused:
        quote_decline(publication=publication, reason="Again")
    assert refused.value.messages == ["This quote was declined."]


def test_a_decline_reason_has_a_limit(rep):
    _quote, publication = published(actor=rep)
    with pytest.raises(ValidationError) as refused:
        quote_decline(publication=publication, reason="x" * 2001)
    assert refused.value.message_dict == {"reason": ["Keep the reason under 2,000 characters."]}


# --- what other features add to the page ------------------------------------------------------------------------------


@pytest.fixture
def pay_area(settings):
    """A feature's area on the hosted page (as payments adds "Pay"), from a template of the test's own."""
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "APP_DIRS": False,
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "loaders": [
                    ("django.template.loaders.locmem.Loader", {"test/pay.html": "<p>PAY {{ action.amount }}</p>"}),
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]
    calls = []

    def area(quote, publication):
        calls.append((quote.pk, publication.pk))
        return "test/pay.html", {"amount": quote.number}

    quote_hosted_actions_register(area)
    yield calls
    registered_actions.remove(area)


def test_feature_areas_show_once_the_quote_is_accepted_and_never_before(rep, pay_area):
    quote, publication = published(actor=rep)
    _response, body = page(publication)
    assert "PAY" not in body  # a signature is still needed
    unsigned_quote, no_signature = published(actor=rep, signature_required=False)
    _response, body = page(no_signature)
    assert "<p>PAY Q-1002</p>" in body
    quote_accept(publication=no_signature, name="Kari", agreed=True, ip_address=IP, user_agent=UA)
    _response, body = page(no_signature)
    assert "<p>PAY Q-1002</p>" in body and "Accepted on" in body


def test_signers_belong_to_their_publication(rep):
    _quote, first = published(actor=rep)
    _other, second = published(actor=rep)
    signer = QuoteSigner.objects.get(publication=second)
    response = host().post(f"/billing/q/{first.token}/signers/{signer.pk}/code/", key())
    assert response.status_code == 404
    for absurd in ("99999999999999999999999999", "9" * 5000, "-1", "1e9"):
        response = host().get(f"/billing/q/{first.token}/signers/{absurd}/verify/")
        assert response.status_code == 404, absurd
