"""Settings → Payments: the processor, the tenant's Stripe connection (secrets stored encrypted and never shown
again), the built-in processor's fees and timing, the payout schedule and receipt branding; each change audited
without its secrets, and every bad value refused next to its field."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.tenancy.models import InboundEndpoint
from payments.crypto import secret_decrypt, secret_encrypt
from payments.models import PaymentSettings, ProcessorKey, WebhookEvent, WebhookStatus
from payments.selectors.settings import payment_settings
from payments.services.stripe_connect import ENDPOINT_PURPOSE
from tests.conftest import user_make

URL = "/payments/settings/"
PK = "pk_test_51HaveALongPublishableKey0000"
SK = "sk_test_51HaveALongSecretKeyValue9876"
WHSEC = "whsec_endpointSigningSecretAbCd1234"


def post(client, section, **data):
    return client.post(URL, {"section": section, **{f"{section}-{k}": v for k, v in data.items()}})


def connect(client):
    response = post(client, "stripe_keys", publishable_key=PK, secret_key=SK)
    assert response.status_code == 302
    return response


def test_only_people_who_manage_settings_open_the_page(admin_client):
    assert Client(HTTP_HOST="alpha.localhost").get(URL).status_code == 302  # signed out: to the login page
    finance = Client(HTTP_HOST="alpha.localhost")
    finance.force_login(user_make(Role.FINANCE))
    assert finance.get(URL).status_code == 403
    assert post(finance, "processor", processor="stripe").status_code == 403
    assert payment_settings().processor == ProcessorKey.BUILTIN
    page = admin_client.get(URL)
    assert page.status_code == 200
    assert b'href="/payments/settings/" aria-current="page"' in page.content  # its own settings tab


def test_stripe_keys_are_stored_encrypted_and_the_secret_is_never_shown_again(admin_client):
    connect(admin_client)

    row = PaymentSettings.objects.get()
    assert row.stripe_publishable_key == PK
    assert SK not in row.stripe_secret_key_encrypted
    assert secret_decrypt(row.stripe_secret_key_encrypted) == SK
    assert row.stripe_secret_key_hint == "…9876"
    page = admin_client.get(URL).content.decode()
    assert SK not in page and row.stripe_secret_key_encrypted not in page
    assert "A secret key ending in …9876 is stored encrypted" in page
    # The webhook URL to paste into Stripe: the public site, with this tenant's unguessable endpoint id.
    endpoint = InboundEndpoint.objects.get(purpose=ENDPOINT_PURPOSE, tenant__schema_name="t_alpha")
    assert f"http://localhost:8000/webhooks/stripe/{endpoint.public_id}/" in page
    (audit,) = AuditEntry.objects.filter(action="payments.stripe_keys_changed")
    logged = json.dumps([audit.before, audit.after])
    assert SK not in logged and row.stripe_secret_key_encrypted not in logged
    assert audit.after == {"stripe_publishable_key": PK, "stripe_secret_key_hint": "…9876"}


def test_an_empty_secret_key_keeps_the_stored_one(admin_client):
    connect(admin_client)
    token = PaymentSettings.objects.get().stripe_secret_key_encrypted
    assert (
        post(admin_client, "stripe_keys", publishable_key=PK.replace("0000", "1111"), secret_key="").status_code == 302
    )
    row = PaymentSettings.objects.get()
    assert (row.stripe_secret_key_encrypted, row.stripe_publishable_key[-4:]) == (token, "1111")


@pytest.mark.parametrize(
    ("publishable", "secret", "field", "message"),
    [
        ("pk_nope", SK, "publishable_key", "A publishable key starts with pk_test_ or pk_live_."),
        (
            PK,
            "sk_test_short",
            "secret_key",
            "A secret key starts with sk_test_ or sk_live_ (rk_ for a restricted key).",
        ),
        (PK, SK.replace("sk_test", "pk_test"), "secret_key", "A secret key starts with sk_test_"),
        (PK, "", "secret_key", "Enter the secret key."),
        (PK, SK.replace("_test_", "_live_"), "secret_key", "Both keys must be test keys, or both live keys."),
    ],
)
def test_bad_stripe_keys_are_refused_next_to_their_field(admin_client, publishable, secret, field, message):
    response = post(admin_client, "stripe_keys", publishable_key=publishable, secret_key=secret)
    assert response.status_code == 400
    assert message in response.context["forms"]["stripe_keys"].errors[field][0]
    assert secret not in response.content.decode() or not secret
    row = payment_settings()
    assert (row.stripe_publishable_key, row.stripe_secret_key_encrypted) == ("", "")
    assert not InboundEndpoint.objects.filter(purpose=ENDPOINT_PURPOSE, tenant__schema_name="t_alpha").exists()


def test_stripe_is_chosen_only_once_connected(admin_client):
    page = admin_client.get(URL).content.decode()
    assert 'value="stripe" required id="id_processor-processor_1" disabled>' in page
    refused = post(admin_client, "processor", processor="stripe")
    assert refused.status_code == 400
    assert refused.context["forms"]["processor"].errors["processor"] == [
        "Connect Stripe first: enter the publishable and the secret key."
    ]
    assert payment_settings().processor == ProcessorKey.BUILTIN

    connect(admin_client)
    assert post(admin_client, "processor", processor="stripe").status_code == 302
    assert payment_settings().processor == ProcessorKey.STRIPE
    audit = AuditEntry.objects.get(action="payments.processor_changed")
    assert (audit.before, audit.after) == ({"processor": "builtin"}, {"processor": "stripe"})
    assert post(admin_client, "processor", processor="paypal").status_code == 400


def test_signing_secrets_are_added_for_a_rotation_and_removed(admin_client):
    connect(admin_client)
    assert post(admin_client, "signing_secret", secret=WHSEC).status_code == 302
    assert post(admin_client, "signing_secret", secret=WHSEC.replace("1234", "5678")).status_code == 302
    entries = payment_settings().stripe_webhook_secrets_encrypted
    assert [e["hint"] for e in entries] == ["…5678", "…1234"]  # newest first
    assert [secret_decrypt(e["token"]) for e in entries] == [WHSEC.replace("1234", "5678"), WHSEC]
    page = admin_client.get(URL).content.decode()
    assert WHSEC not in page and "Signing secret ending in …1234" in page

    duplicate = post(admin_client, "signing_secret", secret=WHSEC)
    assert duplicate.status_code == 400
    assert duplicate.context["forms"]["signing_secret"].errors["secret"] == ["This signing secret is already saved."]
    assert WHSEC not in duplicate.content.decode()  # not even back in the field
    wrong = post(admin_client, "signing_secret", secret="sk_test_notASigningSecret00")
    assert wrong.status_code == 400
    assert "A signing secret starts with whsec_." in wrong.context["forms"]["signing_secret"].errors["secret"][0]

    old = entries[1]["id"]
    assert admin_client.post(URL, {"section": "signing_secret_remove", "secret_id": old}).status_code == 302
    assert [e["hint"] for e in payment_settings().stripe_webhook_secrets_encrypted] == ["…5678"]
    again = admin_client.post(URL, {"section": "signing_secret_remove", "secret_id": old}, follow=True)
    assert "That signing secret was already removed." in again.content.decode()
    audits = AuditEntry.objects.filter(action__startswith="payments.stripe_signing_secret").order_by("id")
    assert [a.after for a in audits] == [
        {"signing_secrets": ["…1234"]},
        {"signing_secrets": ["…5678", "…1234"]},
        {"signing_secrets": ["…5678"]},
    ]
    assert WHSEC not in json.dumps([a.before for a in audits] + [a.after for a in audits])


FEES = {
    "card_fee_percent": "1.5",
    "card_fee_fixed": "0.30",
    "redirect_fee_percent": "0",
    "redirect_fee_fixed": "0.35",
    "debit_fee_percent": "0.9",
    "debit_fee_cap": "6.00",
    "dispute_fee": "20.00",
    "settlement_delay_days": "3",
    "debit_processing_days": "4",
}


def test_fees_and_timing_are_saved_and_audited(admin_client):
    assert post(admin_client, "builtin", **FEES).status_code == 302
    row = payment_settings()
    assert (row.card_fee_percent, row.card_fee_fixed, row.debit_fee_cap, row.settlement_delay_days) == (
        Decimal("1.500"),
        Decimal("0.3000"),
        Decimal("6.0000"),
        3,
    )
    audit = AuditEntry.objects.get(action="payments.builtin_processing_changed")
    assert audit.before["card_fee_percent"] == "1.400" and audit.after["card_fee_percent"] == "1.5"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("card_fee_percent", "-1", "Enter zero or more."),
        ("card_fee_percent", "25", "Enter at most 20."),
        ("card_fee_percent", "1.2345", "Use at most 3 decimals."),
        ("card_fee_fixed", "0.12345", "Use at most 4 decimals."),
        ("dispute_fee", "1000000", "Enter at most 1,000."),
        ("debit_fee_cap", "abc", "“abc” is not a number."),
        ("settlement_delay_days", "31", "Enter between 0 and 30 days."),
        ("debit_processing_days", "0", "Enter between 1 and 14 days."),
    ],
)
def test_bad_fees_are_refused_next_to_their_field_and_nothing_is_saved(admin_client, field, value, message):
    response = post(admin_client, "builtin", **(FEES | {field: value}))
    assert response.status_code == 400
    assert message in response.context["forms"]["builtin"].errors[field][0]
    assert payment_settings().card_fee_percent == Decimal("1.400")


@pytest.mark.parametrize(
    ("data", "saved"),
    [
        ({"payout_schedule": "daily"}, ("daily", 0, 1)),
        ({"payout_schedule": "weekly", "payout_weekday": "4"}, ("weekly", 4, 1)),
        ({"payout_schedule": "monthly", "payout_monthday": "31"}, ("monthly", 0, 31)),
        ({"payout_schedule": "manual"}, ("manual", 0, 1)),
    ],
)
def test_payout_schedules(admin_client, data, saved):
    assert post(admin_client, "payouts", **data).status_code == 302
    row = payment_settings()
    assert (row.payout_schedule, row.payout_weekday, row.payout_monthday) == saved


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"payout_schedule": "weekly"}, "payout_weekday", "Choose the day of the week."),
        ({"payout_schedule": "monthly", "payout_monthday": "32"}, "payout_monthday", "Enter a day of the month"),
        ({"payout_schedule": "monthly", "payout_monthday": "0"}, "payout_monthday", "Enter a day of the month"),
        ({"payout_schedule": "hourly"}, "payout_schedule", "Select a valid choice."),
    ],
)
def test_bad_payout_schedules_are_refused(admin_client, data, field, message):
    response = post(admin_client, "payouts", **data)
    assert response.status_code == 400
    assert message in response.context["forms"]["payouts"].errors[field][0]
    assert payment_settings().payout_schedule == "daily"


def test_receipt_branding_takes_a_hex_colour_and_a_footer(admin_client):
    assert (
        post(
            admin_client, "branding", receipt_footer="  Questions? pay@alpha.example  ", receipt_accent_color="#0F766E"
        ).status_code
        == 302
    )
    row = payment_settings()
    assert (row.receipt_footer, row.receipt_accent_color) == ("Questions? pay@alpha.example", "#0f766e")
    for colour in ("red", "#12345g", "#1234567", "0f766e", "#fff", "javascript:alert(1)"):
        response = post(admin_client, "branding", receipt_footer="", receipt_accent_color=colour)
        assert response.status_code == 400
        assert response.context["forms"]["branding"].errors["receipt_accent_color"] == [
            "Enter a colour as # and six hexadecimal digits, like #1f6feb."
        ]
    too_long = post(admin_client, "branding", receipt_footer="x" * 2001, receipt_accent_color="#000000")
    assert too_long.context["forms"]["branding"].errors["receipt_footer"] == ["Keep this under 2,000 characters."]
    assert payment_settings().receipt_accent_color == "#0f766e"


def test_an_unknown_section_or_a_forged_post_changes_nothing(admin_client):
    response = admin_client.post(URL, {"section": "processor_hack", "processor-processor": "stripe"})
    assert response.status_code == 302
    assert admin_client.post(URL, {"section": "webhook_retry", "event_id": "not-a-number"}).status_code == 302
    assert payment_settings().processor == ProcessorKey.BUILTIN


def test_a_failed_webhook_event_is_listed_and_can_be_tried_again(admin_client, django_capture_on_commit_callbacks):
    from django.utils import timezone

    event = WebhookEvent.objects.create(
        processor="stripe",
        event_id="evt_failed",
        event_type="payment_intent.succeeded",
        event_created=timezone.now(),
        body="{}",
        status=WebhookStatus.FAILED,
        attempts=3,
        error="ProcessorUnreachable: timed out",
        processed_at=timezone.now(),
    )
    page = admin_client.get(URL).content.decode()
    assert "evt_failed" in page and "Tried 3 times" in page and "ProcessorUnreachable: timed out" in page
    with django_capture_on_commit_callbacks() as enqueued:
        response = admin_client.post(URL, {"section": "webhook_retry", "event_id": event.pk})
    assert response.status_code == 302
    assert len(enqueued) == 1
    event.refresh_from_db()
    assert event.status == WebhookStatus.RECEIVED


def test_a_secret_that_can_no_longer_be_read_asks_to_be_entered_again(admin_client, settings):
    connect(admin_client)
    settings.FIELD_ENCRYPTION_KEY = "Yk1yWmJ4b2l6a0dHQmN0a2FqU0hCS2ZPN2RfX2RvVlI="
    page = admin_client.get(URL).content.decode()
    assert "The stored secret key can no longer be read" in page
    assert post(admin_client, "processor", processor="stripe").status_code == 400
    assert secret_decrypt(secret_encrypt("sk_test_x")) == "sk_test_x"
