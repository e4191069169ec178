"""Settings → Invoices: numbering with a confirmed prefix change, defaults and bank details, the reminder schedule
and late fees. Admins only; every save is audited."""

from decimal import Decimal

import pytest
from django.test import Client

from billing.models import InvoiceSettings, NumberSeries, ReminderStep
from commerce_hub.accounts.models import AuditEntry, Role
from tests.billing.invoicing import finalized_make, seller_ready
from tests.conftest import user_make

PAGE = "/billing/invoices/settings/"
PREFIX_CONFIRM = (
    "Invoices finalized from now on will be numbered ABC-1002; invoices already finalized keep their numbers."
)


def numbering(**values):
    data = {"invoice_prefix": "INV", "invoice_start": "1001", "credit_note_prefix": "CN", "credit_note_start": "1001"}
    data.update(values)
    return {"section": "numbering", **{f"numbering-{k}": v for k, v in data.items()}}


def defaults(**values):
    data = {
        "payment_methods": ["bank_transfer", "card"],
        "payment_terms": "14",
        "payment_terms_custom": "",
        "footer_text": "",
        "legal_text": "",
        "bank_account_holder": "",
        "iban": "",
        "bic": "",
        "email": "",
    }
    data.update(values)
    return {"section": "defaults", **{f"defaults-{k}": v for k, v in data.items()}}


def late_fee(**values):
    data = {"late_fee_mode": "none", "late_fee_amount": "0.00", "late_fee_interest_rate": "10.15"}
    data["late_fee_after_days"] = "30"
    data.update(values)
    return {"section": "late_fee", **{f"late_fee-{k}": v for k, v in data.items()}}


def step(offset, kind="reminder"):
    return {"section": "step", "step-offset_days": str(offset), "step-kind": kind}


def errors(response, form):
    return response.context["forms"][form].errors


def settings():
    return InvoiceSettings.objects.get(pk=1)


def series(key=NumberSeries.INVOICE):
    return NumberSeries.objects.get(key=key)


# --- the page ---------------------------------------------------------------------------------------------------------


def test_the_page_shows_next_numbers_seller_details_and_the_schedule(admin_client):
    seller_ready(vat_number="")
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "The next invoice will be <strong>INV-1001</strong>." in body
    assert "The next credit note will be <strong>CN-1001</strong>." in body
    assert 'aria-current="page">Invoices</a>' in body
    assert "Alpha Handel B.V." in body and "Keizersgracht 1" in body
    assert (
        "Missing from the company profile: VAT number. Invoices print these; add them before you finalize invoices."
        in body
    )
    assert 'href="/settings/company/"' in body and 'href="/settings/branding/"' in body
    assert "A finalized invoice keeps the logo it was finalized with" in body
    assert [when for _step, when in response.context["steps"]] == [
        "3 days before the due date",
        "On the due date",
        "7 days after the due date",
        "14 days after the due date",
    ]
    assert "Formal notice" in body


def test_a_complete_company_profile_gives_no_warning(admin_client):
    seller_ready()
    assert "Missing from the company profile" not in admin_client.get(PAGE).content.decode()


@pytest.mark.parametrize("role", [Role.FINANCE, Role.SALES, Role.READ_ONLY])
def test_only_admins_open_or_change_invoice_settings(tenant_alpha, role):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    step_pk = ReminderStep.objects.get(offset_days=7).pk
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, late_fee(late_fee_mode="fixed", late_fee_amount="5")).status_code == 403
    assert client.post(f"/billing/invoices/settings/reminders/{step_pk}/delete/").status_code == 403
    assert settings().late_fee_mode == "none"
    assert ReminderStep.objects.filter(pk=step_pk).exists()


def test_the_other_settings_pages_link_the_invoices_tab(admin_client):
    body = admin_client.get("/settings/company/").content.decode()
    assert f'<a href="{PAGE}" >Invoices</a>' in body


# --- numbering --------------------------------------------------------------------------------------------------------


def test_a_prefix_change_asks_first_and_applies_only_to_invoices_finalized_afterwards(admin_client, admin_user):
    first = finalized_make()
    assert first.number == "INV-1001"
    response = admin_client.post(PAGE, numbering(invoice_prefix="abc", invoice_start="1002"))
    assert response.status_code == 200
    body = response.content.decode()
    assert PREFIX_CONFIRM in body
    assert "Confirm" in body and "Cancel" in body
    assert (series().prefix, series().next_number) == ("INV", 1002)  # nothing saved yet
    assert not AuditEntry.objects.filter(action="billing.number_series_changed").exists()

    response = admin_client.post(PAGE, {**numbering(invoice_prefix="abc", invoice_start="1002"), "confirmed": "1"})
    assert response.status_code == 302
    assert (series().prefix, series().next_number) == ("ABC", 1002)
    second = finalized_make()
    first.refresh_from_db()
    assert (first.number, second.number) == ("INV-1001", "ABC-1002")
    entry = AuditEntry.objects.get(action="billing.number_series_changed")
    assert (entry.actor, entry.before, entry.after) == (
        admin_user,
        {"prefix": "INV", "next_number": 1002},
        {"prefix": "ABC", "next_number": 1002},
    )


def test_a_credit_note_prefix_change_asks_in_its_own_words(admin_client):
    response = admin_client.post(PAGE, numbering(credit_note_prefix="CR"))
    assert (
        "Credit notes issued from now on will be numbered CR-1001; credit notes already issued keep their numbers."
        in response.content.decode()
    )
    assert series(NumberSeries.CREDIT_NOTE).prefix == "CN"


def test_a_start_number_change_alone_saves_without_asking(admin_client):
    response = admin_client.post(PAGE, numbering(invoice_start="5000"))
    assert response.status_code == 302
    assert series().next_number == 5000
    assert "The next invoice will be <strong>INV-5000</strong>." in admin_client.get(PAGE).content.decode()


def test_a_start_number_at_or_below_a_used_number_is_refused_next_to_the_field(admin_client):
    finalized_make()
    finalized_make()  # INV-1001 and INV-1002 are used
    for start in ("1002", "1"):
        response = admin_client.post(PAGE, numbering(invoice_start=start, invoice_prefix="NEW"))
        assert response.status_code == 400
        assert errors(response, "numbering") == {
            "invoice_start": ["Number 1002 is already used. Start at 1003 or higher."]
        }
        assert PREFIX_CONFIRM.replace("ABC-1002", f"NEW-{start}") not in response.content.decode()
    assert (series().prefix, series().next_number) == ("INV", 1003)


def test_a_start_number_below_one_is_refused(admin_client):
    response = admin_client.post(PAGE, numbering(credit_note_start="0"))
    assert errors(response, "numbering") == {"credit_note_start": ["Enter a whole number from 1 to 999,999,999,999."]}


def test_a_bad_prefix_is_refused(admin_client):
    response = admin_client.post(PAGE, numbering(invoice_prefix="IN V"))
    assert response.status_code == 400
    assert errors(response, "numbering") == {"invoice_prefix": ["Use 1 to 12 letters, digits, dashes or slashes."]}


# --- defaults and bank details ----------------------------------------------------------------------------------------


def test_defaults_save_with_a_compact_iban_and_the_bic_from_the_bank_registry(admin_client, admin_user):
    response = admin_client.post(
        PAGE,
        defaults(
            payment_methods=["bank_debit", "bank_transfer"],
            payment_terms="30",
            footer_text="Thank you for your business.",
            legal_text="KvK 12345678",
            bank_account_holder="Alpha  Handel B.V.",
            iban="nl91 abna 0417 1643 00",
            email="billing@alpha.example",
        ),
    )
    assert response.status_code == 302
    saved = settings()
    assert (saved.payment_methods, saved.payment_terms_days, saved.iban, saved.bic, saved.bank_account_holder) == (
        ["bank_debit", "bank_transfer"],
        30,
        "NL91ABNA0417164300",
        "ABNANL2A",
        "Alpha Handel B.V.",
    )
    assert (saved.footer_text, saved.legal_text, saved.email) == (
        "Thank you for your business.",
        "KvK 12345678",
        "billing@alpha.example",
    )
    entry = AuditEntry.objects.get(action="billing.invoice_settings_changed")
    assert entry.actor == admin_user
    assert entry.before["iban"] == "" and entry.after["iban"] == "NL91ABNA0417164300"
    assert entry.before["payment_terms_days"] == 14 and entry.after["payment_terms_days"] == 30
    assert "payment_methods" in entry.after
    # Saving the same values again changes nothing and writes no second audit row.
    admin_client.post(
        PAGE,
        defaults(
            payment_methods=["bank_transfer", "bank_debit"],
            payment_terms="30",
            footer_text="Thank you for your business.",
            legal_text="KvK 12345678",
            bank_account_holder="Alpha Handel B.V.",
            iban="NL91ABNA0417164300",
            bic="ABNANL2A",
            email="billing@alpha.example",
        ),
    )
    assert AuditEntry.objects.filter(action="billing.invoice_settings_changed").count() == 1


def test_a_matching_bic_is_kept(admin_client):
    response = admin_client.post(PAGE, defaults(iban="NO9386011117947", bic="daba no 22"))
    assert response.status_code == 302
    assert (settings().iban, settings().bic) == ("NO9386011117947", "DABANO22")


@pytest.mark.parametrize(
    ("iban", "bic", "field", "message"),
    [
        (
            "NL91ABNA0417164301",
            "",
            "iban",
            "This IBAN is not valid: its check digits do not match. Check it for typing errors.",
        ),
        ("NL91ABNA041716430", "", "iban", "This IBAN has the wrong number of characters for NL."),
        ("XX91ABNA0417164300", "", "iban", "An IBAN starts with a country code, like NL or NO."),
        ("NL91ABNA0417164300", "ABNANL2", "bic", "A BIC has 8 or 11 characters."),
        (
            "NL91ABNA0417164300",
            "INGBNL2A",
            "bic",
            "This BIC is not of the bank this IBAN belongs to (ABN AMRO BANK N.V., BIC ABNANL2A).",
        ),
        (
            "NL91ABNA0417164300",
            "DABANO22",
            "bic",
            "This BIC is of a bank in NO, but the IBAN is from NL.",
        ),
    ],
)
def test_bad_bank_details_are_refused_next_to_the_field(admin_client, iban, bic, field, message):
    response = admin_client.post(PAGE, defaults(iban=iban, bic=bic))
    assert response.status_code == 400
    assert errors(response, "defaults") == {field: [message]}
    assert message in response.content.decode()
    assert settings().iban == ""
    assert not AuditEntry.objects.filter(action="billing.invoice_settings_changed").exists()


@pytest.mark.parametrize(("days", "saved"), [("0", 0), ("45", 45), ("365", 365)])
def test_custom_payment_terms_from_0_to_365_days(admin_client, days, saved):
    response = admin_client.post(PAGE, defaults(payment_terms="custom", payment_terms_custom=days))
    assert response.status_code == 302
    assert settings().payment_terms_days == saved


def test_custom_terms_show_as_custom_on_the_page(admin_client):
    admin_client.post(PAGE, defaults(payment_terms="custom", payment_terms_custom="45"))
    form = admin_client.get(PAGE).context["forms"]["defaults"]
    assert (form["payment_terms"].value(), form["payment_terms_custom"].value()) == ("custom", 45)


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("366", "Enter between 0 and 365 days."),
        ("-1", "Enter between 0 and 365 days."),
        ("", "Enter the number of days."),
        ("1.5", "Enter a whole number."),
    ],
)
def test_custom_payment_terms_out_of_bounds_are_refused(admin_client, days, message):
    response = admin_client.post(PAGE, defaults(payment_terms="custom", payment_terms_custom=days))
    assert response.status_code == 400
    assert errors(response, "defaults") == {"payment_terms_custom": [message]}
    assert settings().payment_terms_days == 14


def test_every_refused_field_is_reported_at_once(admin_client):
    response = admin_client.post(
        PAGE, defaults(payment_terms="custom", payment_terms_custom="", iban="NL91ABNA0417164301", email="x@")
    )
    assert set(errors(response, "defaults")) == {"payment_terms_custom", "iban", "email"}


def test_a_preset_ignores_the_custom_box(admin_client):
    assert admin_client.post(PAGE, defaults(payment_terms="7", payment_terms_custom="999")).status_code == 302
    assert settings().payment_terms_days == 7


def test_at_least_one_payment_method(admin_client):
    response = admin_client.post(PAGE, defaults(payment_methods=[]))
    assert errors(response, "defaults") == {"payment_methods": ["Accept at least one payment method."]}


def test_an_invalid_reply_to_email_is_refused(admin_client):
    response = admin_client.post(PAGE, defaults(email="billing@"))
    assert errors(response, "defaults") == {"email": ["Enter a valid email address."]}


# --- reminders --------------------------------------------------------------------------------------------------------


def test_the_reminder_switches_save_and_are_audited(admin_client):
    response = admin_client.post(PAGE, {"section": "reminders", "reminders-reminders_enabled": "on"})
    assert response.status_code == 302
    assert (settings().reminders_enabled, settings().skip_weekends) == (True, False)
    entry = AuditEntry.objects.get(action="billing.reminder_settings_changed")
    assert (entry.before, entry.after) == ({"skip_weekends": True}, {"skip_weekends": False})
    admin_client.post(PAGE, {"section": "reminders"})
    assert settings().reminders_enabled is False
    assert "Reminders are switched off" in admin_client.get(PAGE).content.decode()


def test_a_step_is_added_to_the_schedule(admin_client):
    response = admin_client.post(PAGE, step(30, "final_notice"), follow=True)
    assert ReminderStep.objects.filter(offset_days=30, kind="final_notice").exists()
    assert "Reminder added: 30 days after the due date — Formal notice." in response.content.decode()
    assert AuditEntry.objects.filter(action="billing.reminder_step_created", after__offset_days=30).exists()
    admin_client.post(PAGE, step(-1, "upcoming"))
    whens = [when for _s, when in admin_client.get(PAGE).context["steps"]]
    assert whens[:2] == ["3 days before the due date", "1 day before the due date"]


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (7, "The schedule already has a step on that day."),
        (-61, "Enter between -60 and 365 days from the due date."),
        (366, "Enter between -60 and 365 days from the due date."),
    ],
)
def test_a_step_must_be_unique_and_in_range(admin_client, offset, message):
    response = admin_client.post(PAGE, step(offset))
    assert response.status_code == 400
    assert errors(response, "step") == {"offset_days": [message]}
    assert ReminderStep.objects.count() == 4


def test_removing_a_step_asks_first(admin_client):
    target = ReminderStep.objects.get(offset_days=-3)
    url = f"/billing/invoices/settings/reminders/{target.pk}/delete/"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Remove the reminder “3 days before the due date — Friendly reminder”?" in response.content.decode()
    assert ReminderStep.objects.filter(pk=target.pk).exists()
    assert admin_client.post(url).status_code == 302
    assert not ReminderStep.objects.filter(pk=target.pk).exists()
    entry = AuditEntry.objects.get(action="billing.reminder_step_deleted")
    assert entry.before == {"offset_days": -3, "kind": "upcoming"}
    assert admin_client.get(url).status_code == 404


# --- late fees --------------------------------------------------------------------------------------------------------


def test_statutory_interest_saves_with_its_rate_in_the_users_notation(admin_client, admin_user):
    admin_user.language = "nl"
    admin_user.save(update_fields=["language"])
    response = admin_client.post(
        PAGE, late_fee(late_fee_mode="statutory", late_fee_interest_rate="8,25", late_fee_after_days="14")
    )
    assert response.status_code == 302
    saved = settings()
    assert (saved.late_fee_mode, saved.late_fee_interest_rate, saved.late_fee_after_days) == (
        "statutory",
        Decimal("8.250"),
        14,
    )
    entry = AuditEntry.objects.get(action="billing.late_fee_settings_changed")
    assert entry.before == {"late_fee_mode": "none", "late_fee_interest_rate": "10.150", "late_fee_after_days": 30}
    assert entry.after == {"late_fee_mode": "statutory", "late_fee_interest_rate": "8.250", "late_fee_after_days": 14}


def test_the_default_rate_is_the_dutch_statutory_commercial_interest(admin_client):
    assert admin_client.get(PAGE).context["forms"]["late_fee"]["late_fee_interest_rate"].value() == "10.15"


def test_a_fixed_late_fee_saves(admin_client):
    assert admin_client.post(PAGE, late_fee(late_fee_mode="fixed", late_fee_amount="25.50")).status_code == 302
    assert (settings().late_fee_mode, settings().late_fee_amount) == ("fixed", Decimal("25.50"))


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"late_fee_amount": "-1"}, "late_fee_amount", "Enter an amount from 0 up to 1,000,000."),
        ({"late_fee_amount": "1000000"}, "late_fee_amount", "Enter an amount from 0 up to 1,000,000."),
        ({"late_fee_amount": "1.005"}, "late_fee_amount", "Use at most 2 decimals."),
        ({"late_fee_interest_rate": "100.5"}, "late_fee_interest_rate", "Enter a rate from 0 to 100%."),
        ({"late_fee_interest_rate": "-0.1"}, "late_fee_interest_rate", "Enter a rate from 0 to 100%."),
        ({"late_fee_after_days": "0"}, "late_fee_after_days", "Enter between 1 and 365 days."),
        ({"late_fee_after_days": "366"}, "late_fee_after_days", "Enter between 1 and 365 days."),
    ],
)
def test_late_fee_values_out_of_bounds_are_refused(admin_client, values, field, message):
    response = admin_client.post(PAGE, late_fee(late_fee_mode="fixed", **values))
    assert response.status_code == 400
    assert errors(response, "late_fee") == {field: [message]}
    assert settings().late_fee_mode == "none"


def test_an_unknown_section_changes_nothing(admin_client):
    response = admin_client.post(PAGE, {"section": "other"}, follow=True)
    assert "That form is out of date; please try again." in response.content.decode()


def test_automatic_credit_is_a_default_that_finance_can_switch_off(admin_client):
    assert admin_client.get(PAGE).context["forms"]["defaults"].initial["credit_auto_apply"] is True
    assert admin_client.post(PAGE, defaults()).status_code == 302
    assert InvoiceSettings.objects.get(pk=1).credit_auto_apply is False
    admin_client.post(PAGE, defaults(credit_auto_apply="on"))
    assert InvoiceSettings.objects.get(pk=1).credit_auto_apply is True
