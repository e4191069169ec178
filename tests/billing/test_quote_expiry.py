"""Quotes expire by the hourly beat job, on a moved clock, in the tenant's own timezone: every quote the buyer has not
signed, accepted, paid or declined, once its expiration date has passed. The hosted page then says so and offers no
signing or payment."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import Quote, QuoteEvent, QuoteStatus
from billing.quote_hosted_actions import _actions as registered_actions
from billing.quote_hosted_actions import quote_hosted_actions_register
from billing.quote_tasks import quotes_expire, quotes_expire_all_tenants
from billing.services.quote_publishing import quotes_expire as quotes_expire_service
from billing.services.quote_records import QuoteStateError
from billing.services.quote_signing import signing_code_send
from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.events.models import OutboxEvent, OutgoingEmail
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.organization.selectors import organization_profile_forget
from commerce_hub.registry import registered_beat
from tests.billing.invoicing import key
from tests.billing.quote_publishing_data import host, media, moved_clock, published, quote_make  # noqa: F401
from tests.conftest import user_make

pytestmark = pytest.mark.usefixtures("media")

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def rep(tenant_alpha):
    return user_make(Role.SALES, full_name="Sam Sales", email="sam@alpha.example")


def at(day, hour=12, minute=0, tz=AMSTERDAM):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def test_the_beat_job_is_registered_hourly():
    job = registered_beat()["billing-quotes-expire"]
    assert (job["task"], job["schedule"]) == ("billing.quotes_expire_all_tenants", 3600.0)


def test_the_beat_task_expires_a_published_quote_once_its_date_has_passed(rep, monkeypatch):
    quote, publication = published(actor=rep, expires_in_days=3)
    expires_on = quote.expires_on
    moved_clock(monkeypatch, at(expires_on, 23, 59))
    assert quotes_expire.apply().get() == 0  # valid through its last day
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PUBLISHED
    moved_clock(monkeypatch, at(expires_on + timedelta(days=1), 0, 5))
    assert quotes_expire.apply().get() == 1
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED and quote.expired_at == at(expires_on + timedelta(days=1), 0, 5)
    assert list(QuoteEvent.objects.filter(quote=quote, kind="expired").values_list("from_status", "to_status")) == [
        ("published", "expired")
    ]
    assert OutboxEvent.objects.get(name="quote.expired").payload == {"id": quote.pk, "number": "Q-1001", "revision": 1}
    assert AuditEntry.objects.filter(action="quote.expired", object_id=str(quote.pk)).count() == 1
    assert quotes_expire.apply().get() == 0  # safe to run again: nothing expires twice
    assert QuoteEvent.objects.filter(quote=quote, kind="expired").count() == 1


def test_an_expired_quote_page_says_so_and_offers_no_signing_or_payment(rep, monkeypatch, settings):
    calls = []

    def pay_area(quote, publication):
        calls.append(quote.pk)
        return "partials/empty_state.html", {}

    quote_hosted_actions_register(pay_area)
    try:
        quote, publication = published(actor=rep, expires_in_days=1, signature_required=False)
        signed_quote, needs_signature = published(actor=rep, expires_in_days=1)
        moved_clock(monkeypatch, at(quote.expires_on + timedelta(days=1), 9))
        quotes_expire_service()
        for pub in (publication, needs_signature):
            response = host().get(f"/billing/q/{pub.token}/")
            body = response.content.decode()
            assert response.status_code == 200 and response["Cache-Control"] == "no-store"
            assert "This quote has expired" in body and "It can no longer be signed or paid." in body
            for offer in ("/signers/", "/accept/", "/decline/", "/pdf/", "email me a code", "Accept the quote"):
                assert offer not in body, offer
        assert calls == []  # no feature (payment) is asked to show anything
        signer = needs_signature.signers.get()
        response = host().post(f"/billing/q/{needs_signature.token}/signers/{signer.pk}/code/", key())
        assert response.status_code == 302
        assert not OutgoingEmail.objects.filter(subject__contains="code").exists()
        with pytest.raises(QuoteStateError) as refused:
            signing_code_send(publication=needs_signature, signer_id=signer.pk)
        assert refused.value.messages[0].startswith("This quote expired on ")
        response = host().post(f"/billing/q/{publication.token}/accept/", {**key(), "name": "Kari", "agree": "on"})
        quote.refresh_from_db()
        assert quote.status == QuoteStatus.EXPIRED
    finally:
        registered_actions.remove(pay_area)


def test_today_is_the_tenants_own(rep, monkeypatch):
    OrganizationProfile.objects.filter(pk=1).update(timezone="America/New_York")
    organization_profile_forget()
    quote = quote_make(owner=rep, expires_in_days=2)
    new_york = ZoneInfo("America/New_York")
    # Past midnight in Amsterdam and in UTC, still the last valid day in New York: not expired.
    moved_clock(monkeypatch, at(quote.expires_on, 23, 30, tz=new_york))
    assert quotes_expire_service() == []
    moved_clock(monkeypatch, at(quote.expires_on + timedelta(days=1), 0, 30, tz=new_york))
    assert quotes_expire_service() == [quote.pk]


def test_only_quotes_the_buyer_has_not_settled_expire(rep, monkeypatch):
    by_status = {}
    for status in QuoteStatus.values:
        quote = quote_make(owner=rep, expires_in_days=1, title=f"Quote {status}")
        Quote.objects.filter(pk=quote.pk).update(status=status)
        by_status[status] = quote.pk
    later = quote_make(owner=rep, expires_in_days=5)
    moved_clock(monkeypatch, timezone.now() + timedelta(days=3))
    expired = quotes_expire_service()
    assert sorted(expired) == sorted(
        by_status[s] for s in ("draft", "pending_approval", "approved", "published", "viewed")
    )
    assert dict(Quote.objects.filter(pk__in=by_status.values()).values_list("title", "status")) == {
        "Quote draft": "expired",
        "Quote pending_approval": "expired",
        "Quote approved": "expired",
        "Quote published": "expired",
        "Quote viewed": "expired",
        "Quote signed": "signed",
        "Quote accepted": "accepted",
        "Quote paid": "paid",
        "Quote declined": "declined",
        "Quote expired": "expired",
    }
    assert Quote.objects.get(pk=later.pk).status == QuoteStatus.DRAFT
    assert QuoteEvent.objects.filter(kind="expired").count() == 5


def test_the_all_tenants_task_runs_the_expiry_in_each_tenant(rep, monkeypatch, eager_tasks):
    quote, _publication = published(actor=rep, expires_in_days=1)
    moved_clock(monkeypatch, timezone.now() + timedelta(days=2))
    tenant = connection.tenant
    assert quotes_expire_all_tenants.apply().get() >= 2  # alpha, bravo, live
    connection.set_tenant(tenant)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED


def test_an_expired_quote_can_be_revised_and_published_again(rep, monkeypatch):
    from billing.services.quote_publishing import quote_publish, quote_unpublish

    quote, first = published(actor=rep, expires_in_days=1)
    moved_clock(monkeypatch, timezone.now() + timedelta(days=2))
    quotes_expire_service()
    quote.refresh_from_db()
    quote = quote_unpublish(quote=quote, actor=rep)
    Quote.objects.filter(pk=quote.pk).update(expires_on=timezone.localdate() + timedelta(days=30))
    quote.refresh_from_db()
    second = quote_publish(quote=quote, actor=rep)
    assert (second.revision, second.snapshot["number"]) == (2, "Q-1001")
    body = host().get(f"/billing/q/{first.token}/").content.decode()
    assert "This quote was replaced" in body
