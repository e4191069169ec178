"""A quote's payment schedule: installments of a one-time total, each a percentage or an amount with a due date,
refused with a clear message next to the row that is wrong; the editor page adds and removes rows without
JavaScript and shows what each installment comes to."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from billing.models import QuoteEvent, QuoteInstallment, QuoteStatus
from billing.quote_payment_plan import quote_checkout_problems, quote_installment_amounts
from billing.services.quote_records import QuoteStateError
from billing.services.quote_schedule import InstallmentInput, quote_schedule_set
from commerce_hub.accounts.models import Role
from tests.billing.quote_paying import line, quote_make
from tests.conftest import PASSWORD, user_make

TODAY = timezone.localdate()
IN_30 = TODAY + timedelta(days=30)
IN_60 = TODAY + timedelta(days=60)


def _draft(**kwargs):
    quote, _publication = quote_make(status=QuoteStatus.DRAFT, **kwargs)
    return quote


def _errors(quote, installments) -> dict:
    with pytest.raises(ValidationError) as caught:
        quote_schedule_set(quote=quote, installments=installments, actor=None)
    assert not QuoteInstallment.objects.filter(quote=quote).exists()  # nothing half-saved
    return caught.value.message_dict


# --- what a schedule may be -------------------------------------------------------------------------------------------


def test_percentages_are_rounded_to_the_cent_and_the_last_takes_the_remainder(tenant_alpha):
    quote = _draft(lines=(line("Implementation", "1", "1000.00", None),))  # no VAT: 1,000.00
    quote_schedule_set(
        quote=quote,
        installments=[
            InstallmentInput("First third", percent=Decimal("33.3333")),
            InstallmentInput("Second third", percent=Decimal("33.3333"), due_date=IN_30),
            InstallmentInput("Last third", percent=Decimal("33.3334"), due_date=IN_60),
        ],
        actor=None,
    )
    assert quote_installment_amounts(quote) == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    rows = list(QuoteInstallment.objects.filter(quote=quote).values_list("name", "percent", "amount", "due_date"))
    assert rows == [
        ("First third", Decimal("33.3333"), None, None),
        ("Second third", Decimal("33.3333"), None, IN_30),
        ("Last third", Decimal("33.3334"), None, IN_60),
    ]
    assert QuoteEvent.objects.filter(quote=quote, kind="schedule_changed").count() == 1


def test_amounts_and_percentages_mix_and_add_up_to_the_total(tenant_alpha):
    quote = _draft()  # 1,000.00 + 21% VAT = 1,210.00
    quote_schedule_set(
        quote=quote,
        installments=[
            InstallmentInput("Deposit", amount=Decimal("121.00")),
            InstallmentInput("Balance", percent=Decimal("90"), due_date=IN_30),
        ],
        actor=None,
    )
    amounts = quote_installment_amounts(quote)
    assert amounts == [Decimal("121.00"), Decimal("1089.00")]
    assert sum(amounts) == Decimal("1210.00")


def test_a_schedule_is_refused_when_the_quote_has_recurring_lines(tenant_alpha):
    quote = _draft(lines=(line("Implementation", "1", "1000.00"), line("Hosting", "1", "50.00", frequency="monthly")))
    errors = _errors(
        quote,
        [
            InstallmentInput("Deposit", percent=Decimal("50")),
            InstallmentInput("Rest", percent=Decimal("50"), due_date=IN_30),
        ],
    )
    assert errors == {
        "__all__": [
            "Payment schedules are for one-time totals only, and this quote has recurring line items (Hosting)."
        ]
    }


def test_a_schedule_is_refused_while_lines_start_billing_later(tenant_alpha):
    quote = _draft(lines=(line("Implementation", "1", "1000.00", start="date", date=IN_30),))
    errors = _errors(
        quote,
        [
            InstallmentInput("Deposit", percent=Decimal("50")),
            InstallmentInput("Rest", percent=Decimal("50"), due_date=IN_60),
        ],
    )
    assert errors["__all__"] == [
        "Payment schedules are refused while line items start billing later (Implementation): make them start at "
        "checkout."
    ]


def test_every_bad_row_is_named_at_once(tenant_alpha):
    quote = _draft()
    errors = _errors(
        quote,
        [
            InstallmentInput("", percent=Decimal("0"), due_date=IN_30),
            InstallmentInput("Too much", percent=Decimal("100.5"), amount=Decimal("5.00")),
            InstallmentInput("Negative", amount=Decimal("-10.00"), due_date=TODAY),
            InstallmentInput("Fraction of a cent", amount=Decimal("10.001"), due_date=IN_60),
            InstallmentInput("Before the one before", percent=Decimal("1.23456"), due_date=IN_30),
            InstallmentInput("Nothing", due_date=IN_60 + timedelta(days=1)),
        ],
    )
    assert errors == {
        "installments[0].name": ["Name the installment, for example “Deposit”."],
        "installments[0].percent": ["Enter a percentage above 0 and at most 100."],
        "installments[0].due_date": ["The first installment is paid at checkout: leave its due date empty."],
        "installments[1].amount": ["Enter a percentage or an amount, not both."],
        "installments[1].due_date": ["Choose the date this installment is due."],
        "installments[2].amount": ["Enter an amount above zero."],
        "installments[2].due_date": ["Choose a date after today."],
        "installments[3].amount": ["Use at most the currency's decimals."],
        "installments[4].percent": ["Use at most 4 decimals."],
        "installments[4].due_date": ["Each installment must be due after the one before it."],
        "installments[5].percent": ["Enter a percentage or an amount."],
    }


def test_installments_that_do_not_add_up_say_by_how_much(tenant_alpha):
    quote = _draft()
    errors = _errors(
        quote,
        [
            InstallmentInput("Deposit", amount=Decimal("200.00")),
            InstallmentInput("Rest", amount=Decimal("1000.00"), due_date=IN_30),
        ],
    )
    assert errors == {"__all__": ["The installments add up to €1,200.00, but the total is €1,210.00."]}
    errors = _errors(
        quote,
        [
            InstallmentInput("Deposit", percent=Decimal("30")),
            InstallmentInput("Rest", percent=Decimal("69.9999"), due_date=IN_30),
        ],
    )
    assert errors == {"__all__": ["The installments cover 99.9999% of the total; together they must cover 100%."]}


def test_an_amount_no_invoice_can_total_exactly_is_refused_with_the_nearest_that_work(tenant_alpha):
    # One rate of 21%: a net of 0.97 comes to 1.17 with its VAT (0.2037 rounds to 0.20), 0.98 to 1.19 (0.2058
    # rounds to 0.21): no invoice at 21% totals 1.18.
    quote = _draft(lines=(line("Implementation", "1", "1000.00"),))
    errors = _errors(
        quote,
        [
            InstallmentInput("Deposit", amount=Decimal("1.18")),
            InstallmentInput("Rest", amount=Decimal("1208.82"), due_date=IN_30),
        ],
    )
    assert errors["installments[0].amount"] == [
        "€1.18 cannot be invoiced to the cent with VAT at 21%: use €1.17 or €1.19 instead."
    ]


def test_one_installment_is_not_a_schedule_and_an_empty_list_removes_it(tenant_alpha):
    quote = _draft()
    assert _errors(quote, [InstallmentInput("All", percent=Decimal("100"))]) == {
        "__all__": ["A schedule has at least two installments. Remove it to collect the whole total at checkout."]
    }
    quote_schedule_set(
        quote=quote,
        installments=[
            InstallmentInput("A", percent=Decimal("50")),
            InstallmentInput("B", percent=Decimal("50"), due_date=IN_30),
        ],
        actor=None,
    )
    assert quote_schedule_set(quote=quote, installments=[], actor=None) == []
    assert not QuoteInstallment.objects.filter(quote=quote).exists()


def test_a_published_quote_keeps_its_schedule(tenant_alpha):
    quote, _publication = quote_make()
    with pytest.raises(QuoteStateError, match="Quote Q-1001 is published: unpublish it to change it."):
        quote_schedule_set(quote=quote, installments=[], actor=None)


def test_publishing_checks_that_the_schedule_still_fits_the_quote(tenant_alpha):
    quote = _draft()
    quote_schedule_set(
        quote=quote,
        installments=[
            InstallmentInput("Deposit", amount=Decimal("210.00")),
            InstallmentInput("Rest", amount=Decimal("1000.00"), due_date=IN_30),
        ],
        actor=None,
    )
    assert quote_checkout_problems(quote) == []
    quote.line_items.update(unit_price=Decimal("600.00"))  # the total becomes 1,452.00
    assert quote_checkout_problems(quote) == [
        "The payment schedule no longer fits the quote: The installments add up to €1,210.00, but the total is "
        "€1,452.00."
    ]


# --- the editor page --------------------------------------------------------------------------------------------------


@pytest.fixture
def rep_client(client_alpha):
    rep = user_make(Role.SALES)
    client_alpha.login(email=rep.email, password=PASSWORD)
    return client_alpha


def _management(count: int) -> dict:
    return {
        "installments-TOTAL_FORMS": str(count),
        "installments-INITIAL_FORMS": "0",
        "installments-MIN_NUM_FORMS": "0",
        "installments-MAX_NUM_FORMS": "24",
    }


def _row(index, name, mode, value, due=""):
    return {
        f"installments-{index}-name": name,
        f"installments-{index}-mode": mode,
        f"installments-{index}-value": value,
        f"installments-{index}-due_date": due,
    }


def test_the_page_offers_a_deposit_and_a_balance_to_start_with(tenant_alpha, rep_client):
    quote = _draft()
    page = rep_client.get(f"/billing/quotes/{quote.pk}/schedule/").content.decode()
    assert "Total to schedule" in page and "€1,210.00" in page
    assert 'value="Deposit"' in page and 'value="Balance"' in page
    assert "Installment 2" in page and "paid at checkout" in page
    assert 'name="add"' in page


def test_adding_a_row_keeps_what_was_typed_and_saving_shows_the_amounts(tenant_alpha, rep_client):
    quote = _draft()
    url = f"/billing/quotes/{quote.pk}/schedule/"
    typed = {**_management(2), **_row(0, "Deposit", "percent", "25"), **_row(1, "Delivery", "percent", "50", IN_30)}
    page = rep_client.post(url, {**typed, "add": "1"}).content.decode()
    assert "Installment 3" in page and 'value="Delivery"' in page and "form-errors" not in page
    response = rep_client.post(
        url,
        {
            **typed,
            **_management(3),
            **_row(2, "Acceptance", "amount", "302.50", IN_60),
            "save": "1",
        },
    )
    assert response.status_code == 302
    page = rep_client.get(url).content.decode()
    assert "Payment schedule saved." in page
    assert [(i.name, i.percent, i.amount) for i in QuoteInstallment.objects.filter(quote=quote)] == [
        ("Deposit", Decimal("25.0000"), None),
        ("Delivery", Decimal("50.0000"), None),
        ("Acceptance", None, Decimal("302.5000")),
    ]
    assert "€302.50" in page and "€605.00" in page and "€302.50" in page


def test_errors_appear_next_to_their_row_and_nothing_is_saved(tenant_alpha, rep_client):
    quote = _draft()
    data = {**_management(2), **_row(0, "", "percent", "60"), **_row(1, "Rest", "percent", "30", TODAY), "save": "1"}
    response = rep_client.post(f"/billing/quotes/{quote.pk}/schedule/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Name the installment, for example “Deposit”." in page
    assert "Choose a date after today." in page
    assert not QuoteInstallment.objects.filter(quote=quote).exists()


def test_removing_a_row_when_saving(tenant_alpha, rep_client):
    quote = _draft()
    data = {
        **_management(3),
        **_row(0, "Deposit", "percent", "50"),
        **_row(1, "Mistake", "percent", "10", IN_30),
        "installments-1-DELETE": "on",
        **_row(2, "Rest", "percent", "50", IN_60),
        "save": "1",
    }
    assert rep_client.post(f"/billing/quotes/{quote.pk}/schedule/", data).status_code == 302
    assert list(QuoteInstallment.objects.filter(quote=quote).values_list("name", flat=True)) == ["Deposit", "Rest"]


def test_a_quote_with_recurring_lines_shows_why_it_has_no_schedule(tenant_alpha, rep_client):
    quote = _draft(lines=(line("Hosting", "1", "50.00", frequency="monthly"),))
    page = rep_client.get(f"/billing/quotes/{quote.pk}/schedule/").content.decode()
    assert "this quote has recurring line items (Hosting)" in page
    assert 'name="installments-TOTAL_FORMS"' not in page


def test_read_only_users_see_but_cannot_change(tenant_alpha, client_alpha):
    quote = _draft()
    viewer = user_make(Role.READ_ONLY)
    client_alpha.login(email=viewer.email, password=PASSWORD)
    url = f"/billing/quotes/{quote.pk}/schedule/"
    page = client_alpha.get(url).content.decode()
    assert "You can view this schedule but not change it." in page
    assert 'name="installments-TOTAL_FORMS"' not in page
    assert client_alpha.post(url, {**_management(0), "save": "1"}).status_code == 403


def test_another_tenants_quote_is_not_found(tenant_alpha, tenant_bravo, admin_client):
    connection.set_tenant(tenant_bravo)
    try:
        bravo_quote = _draft()
    finally:
        connection.set_tenant(tenant_alpha)
    url = f"/billing/quotes/{bravo_quote.pk}/schedule/"
    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url, {**_management(0), "clear": "1"}).status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {**_management(2), **_row(0, "Deposit", "percent", "abc"), **_row(1, "Rest", "percent", "NaN", IN_30)},
        {**_management(2), **_row(0, "Deposit", "amount", "1e30"), **_row(1, "Rest", "bogus", "-5", "31-02-2025")},
        {**_management(2), **_row(0, "x" * 500, "percent", "9" * 60), **_row(1, "Rest", "percent", "50", IN_30)},
        {**_management(10_000), **_row(0, "Deposit", "percent", "50")},
        {"installments-TOTAL_FORMS": "many", **_row(0, "Deposit", "percent", "50")},
        {},
    ],
)
def test_absurd_input_gets_a_message_and_saves_nothing(tenant_alpha, rep_client, fields):
    quote = _draft()
    url = f"/billing/quotes/{quote.pk}/schedule/"
    for extra in ({"save": "1"}, {"add": "1"}):
        response = rep_client.post(url, {**fields, **extra})
        assert response.status_code in (200, 400)
        if "save" in extra:
            assert response.status_code == 400
            assert "form-errors" in response.content.decode()
    assert not QuoteInstallment.objects.filter(quote=quote).exists()
