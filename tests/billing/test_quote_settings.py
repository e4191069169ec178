"""Settings → Quotes: approvals and their limits, defaults for new quotes, the stage a paid quote moves its deal to,
and the quote number series. Admins only; absurd input is an error next to its field; every change is audited."""

from decimal import Decimal

import pytest
from django.test import Client

from billing.models import NumberSeries, QuoteSettings
from billing.selectors.quote_settings import quote_settings_get, quote_won_stage_for
from commerce_hub.accounts.models import AuditEntry, Role
from crm.models import Deal, Pipeline, Stage
from tests.conftest import user_make

PAGE = "/billing/quotes/settings/"


def approvals(**values):
    data = {
        "approvals_enabled": "on",
        "approval_discount_percent": "20",
        "approval_total_amount": "10000.00",
        "approval_total_currency": "EUR",
    }
    data.update(values)
    return {"section": "approvals", **{f"approvals-{k}": v for k, v in data.items() if v is not None}}


def defaults(**values):
    data = {"expiry_days": "30", "signature_required": "on", "payment_enabled": None}
    data.update(values)
    return {"section": "defaults", **{f"defaults-{k}": v for k, v in data.items() if v is not None}}


def numbering(prefix="Q", start="1001", **extra):
    return {"section": "numbering", "numbering-prefix": prefix, "numbering-start_number": start, **extra}


def errors(response, form):
    return response.context["forms"][form].errors


def saved() -> QuoteSettings:
    return QuoteSettings.objects.get(pk=1)


def pipeline_with_stages():
    pipeline = Pipeline.objects.get(is_default=True)
    return pipeline, list(pipeline.stages.order_by("position"))


# --- the page ---------------------------------------------------------------------------------------------------------


def test_the_page_sums_up_the_settings_in_plain_words(admin_client):
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'aria-current="page">Quotes</a>' in body
    assert response.context["summary"] == [
        "Quotes are published without approval.",
        "New quotes expire 30 days after they are created.",
        "New quotes ask the buyer for an e-signature.",
        "New quotes do not collect payment.",
        "When a quote is paid, its deal stays in its stage.",
        "The next quote will be numbered Q-1001.",
    ]
    assert "The next quote will be <strong>Q-1001</strong>." in body
    assert 'href="/billing/quotes/settings/templates/"' in body


def test_the_summary_names_the_limits_and_the_approvers(admin_client, admin_user):
    admin_client.post(PAGE, approvals(approval_discount_percent="12.5", approval_total_amount="25000"))
    summary = admin_client.get(PAGE).context["summary"]
    assert summary[:2] == [
        "Quotes with a discount above 12.5% or a total above €25,000.00 need an approver's approval before they are "
        "published.",
        "1 person can approve quotes: Anna Admin.",
    ]


@pytest.mark.parametrize("role", [Role.FINANCE, Role.SALES, Role.READ_ONLY])
def test_only_admins_open_or_change_quote_settings(tenant_alpha, role):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, defaults(expiry_days="7")).status_code == 403
    assert quote_settings_get().expiry_days == 30


def test_the_other_settings_pages_link_the_quotes_tab(admin_client):
    body = admin_client.get("/settings/company/").content.decode()
    assert f'<a href="{PAGE}" >Quotes</a>' in body


def test_a_forged_section_is_a_message_not_an_error(admin_client):
    response = admin_client.post(PAGE, {"section": "everything"}, follow=True)
    assert response.status_code == 200
    assert "That form is out of date; please try again." in response.content.decode()


# --- approvals --------------------------------------------------------------------------------------------------------


def test_approval_limits_are_saved_and_audited(admin_client, admin_user):
    response = admin_client.post(PAGE, approvals(approval_discount_percent="15.5", approval_total_currency="NOK"))
    assert response.status_code == 302 and response["Location"] == f"{PAGE}#approvals"
    row = saved()
    assert (row.approvals_enabled, row.approval_discount_percent, row.approval_total_amount) == (
        True,
        Decimal("15.50"),
        Decimal("10000.0000"),
    )
    assert row.approval_total_currency == "NOK"
    entry = AuditEntry.objects.get(action="billing.quote_settings_changed")
    assert entry.actor == admin_user
    assert entry.before == {
        "approvals_enabled": False,
        "approval_discount_percent": None,
        "approval_total_amount": None,
        "approval_total_currency": "",
    }
    assert entry.after == {
        "approvals_enabled": True,
        "approval_discount_percent": "15.50",
        "approval_total_amount": "10000.00",
        "approval_total_currency": "NOK",
    }
    # Saving the same values again changes nothing and writes no second audit row.
    admin_client.post(PAGE, approvals(approval_discount_percent="15.5", approval_total_currency="NOK"))
    assert AuditEntry.objects.filter(action="billing.quote_settings_changed").count() == 1


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"approval_discount_percent": "0"},
            "approval_discount_percent",
            "Enter a percentage above 0 and at most 100.",
        ),
        (
            {"approval_discount_percent": "-5"},
            "approval_discount_percent",
            "Enter a percentage above 0 and at most 100.",
        ),
        (
            {"approval_discount_percent": "100.01"},
            "approval_discount_percent",
            "Enter a percentage above 0 and at most 100.",
        ),
        ({"approval_discount_percent": "12.345"}, "approval_discount_percent", "Use at most 2 decimals."),
        ({"approval_discount_percent": "abc"}, "approval_discount_percent", "“abc” is not a number."),
        ({"approval_total_amount": "0"}, "approval_total_amount", "Enter an amount above zero."),
        ({"approval_total_amount": "-100"}, "approval_total_amount", "Enter an amount above zero."),
        (
            {"approval_total_amount": "1000000000000"},
            "approval_total_amount",
            "Enter an amount below 1,000,000,000,000.",
        ),
        ({"approval_total_amount": "10.001"}, "approval_total_amount", "Use at most 2 decimals."),
        ({"approval_total_currency": "XXX"}, "approval_total_currency", None),
        (
            {"approval_discount_percent": "", "approval_total_amount": ""},
            "approvals_enabled",
            "Set a discount or a total above which quotes need approval.",
        ),
    ],
)
def test_absurd_approval_limits_are_errors_next_to_their_field(admin_client, values, field, message):
    response = admin_client.post(PAGE, approvals(**values))
    assert response.status_code == 400
    form_errors = errors(response, "approvals")
    assert list(form_errors) == [field]
    if message is not None:
        assert form_errors[field] == [message]
    assert "Please correct the fields marked below." in response.content.decode()
    assert saved().approvals_enabled is False
    assert not AuditEntry.objects.filter(action="billing.quote_settings_changed").exists()


def test_a_yen_limit_takes_no_decimals(admin_client):
    response = admin_client.post(PAGE, approvals(approval_total_amount="1500.5", approval_total_currency="JPY"))
    # JPY is not offered in the form: a forged choice is refused before the service sees it.
    assert response.status_code == 400
    assert list(errors(response, "approvals")) == ["approval_total_currency"]


def test_approvals_can_be_switched_off_with_empty_limits(admin_client):
    admin_client.post(PAGE, approvals())
    response = admin_client.post(
        PAGE, approvals(approvals_enabled=None, approval_discount_percent="", approval_total_amount="")
    )
    assert response.status_code == 302
    row = saved()
    assert (row.approvals_enabled, row.approval_discount_percent, row.approval_total_amount) == (False, None, None)
    assert row.approval_total_currency == ""


# --- defaults ---------------------------------------------------------------------------------------------------------


def test_defaults_for_new_quotes_are_saved(admin_client):
    response = admin_client.post(PAGE, defaults(expiry_days="14", signature_required=None, payment_enabled="on"))
    assert response.status_code == 302
    row = saved()
    assert (row.expiry_days, row.signature_required, row.payment_enabled) == (14, False, True)
    summary = admin_client.get(PAGE).context["summary"]
    assert "New quotes expire 14 days after they are created." in summary
    assert "New quotes do not ask for an e-signature." in summary
    assert "New quotes collect payment through the checkout." in summary


@pytest.mark.parametrize("days", ["0", "366", "-1", "", "99999999999999999999"])
def test_expiry_days_outside_1_to_365_are_refused(admin_client, days):
    response = admin_client.post(PAGE, defaults(expiry_days=days))
    assert response.status_code == 400
    assert errors(response, "defaults")["expiry_days"] == ["Enter between 1 and 365 days."]
    assert saved().expiry_days == 30


# --- won on payment ---------------------------------------------------------------------------------------------------


def test_each_pipeline_chooses_its_won_stage_or_none(admin_client):
    pipeline, stages = pipeline_with_stages()
    second = Pipeline.objects.create(name="Renewals", position=1)
    renewal_won = Stage.objects.create(pipeline=second, name="Renewed", position=0, kind="won")
    won = next(stage for stage in stages if stage.kind == "won")
    response = admin_client.post(
        PAGE, {"section": "won", f"won-won_stage_{pipeline.pk}": str(won.pk), f"won-won_stage_{second.pk}": ""}
    )
    assert response.status_code == 302
    assert saved().won_stages == {str(pipeline.pk): won.pk}
    deal = Deal.objects.create(name="D", pipeline=pipeline, stage=stages[0])
    other = Deal.objects.create(name="R", pipeline=second, stage=renewal_won)
    assert quote_won_stage_for(deal) == won
    assert quote_won_stage_for(other) is None
    summary = admin_client.get(PAGE).context["summary"]
    assert f"When a quote is paid, deals in {pipeline.name} move to {won.name}." in summary
    assert "Deals in other pipelines stay where they are when their quote is paid." in summary


def test_a_stage_of_another_pipeline_is_refused_next_to_the_pipeline(admin_client):
    pipeline, _stages = pipeline_with_stages()
    second = Pipeline.objects.create(name="Renewals", position=1)
    foreign = Stage.objects.create(pipeline=second, name="Renewed", position=0)
    response = admin_client.post(PAGE, {"section": "won", f"won-won_stage_{pipeline.pk}": str(foreign.pk)})
    assert response.status_code == 400
    assert errors(response, "won")[f"won_stage_{pipeline.pk}"] == [
        "This stage is no longer in the pipeline; choose another one."
    ]
    assert saved().won_stages == {}


def test_the_won_stage_service_refuses_forged_ids(admin_user):
    from django.core.exceptions import ValidationError

    from billing.services.quote_settings import quote_won_stages_update

    pipeline, stages = pipeline_with_stages()
    with pytest.raises(ValidationError) as refused:
        quote_won_stages_update(actor=admin_user, won_stages={999999: stages[0].pk, pipeline.pk: "x"})
    assert refused.value.message_dict == {
        "won_stage_999999": ["This pipeline no longer exists; reload the page."],
        f"won_stage_{pipeline.pk}": ["Choose a stage of this pipeline."],
    }


# --- numbering --------------------------------------------------------------------------------------------------------


def test_a_prefix_change_asks_first_then_saves_and_audits(admin_client, admin_user):
    response = admin_client.post(PAGE, numbering(prefix="off", start="2001"))
    assert response.status_code == 200
    assert (
        "Quotes published for the first time from now on will be numbered OFF-2001; quotes already numbered keep "
        "their numbers." in response.content.decode()
    )
    series = NumberSeries.objects.get(key=NumberSeries.QUOTE)
    assert (series.prefix, series.next_number) == ("Q", 1001)
    response = admin_client.post(PAGE, numbering(prefix="off", start="2001", confirmed="1"))
    assert response.status_code == 302
    series.refresh_from_db()
    assert (series.prefix, series.next_number) == ("OFF", 2001)
    entry = AuditEntry.objects.get(action="billing.number_series_changed", object_repr="quote")
    assert (entry.actor, entry.before, entry.after) == (
        admin_user,
        {"prefix": "Q", "next_number": 1001},
        {"prefix": "OFF", "next_number": 2001},
    )


def test_a_next_number_alone_saves_without_asking(admin_client):
    response = admin_client.post(PAGE, numbering(start="5000"))
    assert response.status_code == 302
    assert NumberSeries.objects.get(key=NumberSeries.QUOTE).next_number == 5000


@pytest.mark.parametrize("prefix", ["INV", "cn"])
def test_a_prefix_another_series_uses_is_refused(admin_client, prefix):
    response = admin_client.post(PAGE, numbering(prefix=prefix, confirmed="1"))
    assert response.status_code == 400
    assert errors(response, "numbering")["prefix"] == [
        f"Another document series already uses the prefix {prefix.upper()}."
    ]
    assert NumberSeries.objects.get(key=NumberSeries.QUOTE).prefix == "Q"


@pytest.mark.parametrize(
    ("prefix", "start", "field", "message"),
    [
        ("Q 1", "1001", "prefix", "Use 1 to 12 letters, digits, dashes or slashes."),
        ("Q", "0", "start_number", "Enter a whole number from 1 to 999,999,999,999."),
        ("Q", "1000000000000", "start_number", "Enter a whole number from 1 to 999,999,999,999."),
    ],
)
def test_bad_numbering_is_refused_next_to_its_field(admin_client, prefix, start, field, message):
    response = admin_client.post(PAGE, numbering(prefix=prefix, start=start, confirmed="1"))
    assert response.status_code == 400
    assert errors(response, "numbering")[field] == [message]
