"""Quote approvals: the thresholds (a discount or a total above the limit, across currencies, without a rate), the
request (tasks and emails to every approver, after commit), the decision (who, when, comment), the self-approval
rule, and an approval that covers only the exact priced content it was given for."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from billing.models import (
    DocumentAdjustment,
    ExchangeRate,
    LineItem,
    Quote,
    QuoteApproval,
    QuoteEvent,
    QuoteSettings,
    QuoteStatus,
)
from billing.selectors.quote_approvals import quote_approval_panel
from billing.services.quote_approvals import (
    quote_approval_required,
    quote_approve,
    quote_reject,
    quote_request_approval,
)
from billing.services.quote_records import QuoteStateError
from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.events.models import OutboxEvent
from crm.models import Deal, Pipeline, Task
from tests.billing.quote_publishing_data import media  # noqa: F401 - a fixture
from tests.conftest import user_make

LIMIT_REASON = "Its discount of %s is above the approval limit of 20%%."


def approvals_on(percent="20", amount="10000", currency="EUR", enabled=True):
    QuoteSettings.objects.update_or_create(
        pk=1,
        defaults={
            "approvals_enabled": enabled,
            "approval_discount_percent": None if percent is None else Decimal(percent),
            "approval_total_amount": None if amount is None else Decimal(amount),
            "approval_total_currency": currency if amount is not None else "",
        },
    )


def quote_make(*, lines=(("Consulting", "1", "1000.00", None, None),), currency="EUR", adjustments=(), actor=None):
    """A draft quote with lines (name, quantity, unit price, discount type, discount value), no VAT."""
    pipeline = Pipeline.objects.get(is_default=True)
    deal = Deal.objects.create(name="Fjordline renewal", pipeline=pipeline, stage=pipeline.stages.first())
    quote = Quote.objects.create(
        title="Website redesign",
        expires_on=timezone.localdate() + timedelta(days=30),
        currency=currency,
        deal=deal,
        owner=actor,
        created_by=actor,
    )
    for position, (name, quantity, price, discount_type, discount_value) in enumerate(lines):
        LineItem.objects.create(
            quote=quote,
            position=position,
            name=name,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            currency=currency,
            discount_type=discount_type or "",
            discount_value=Decimal(discount_value or 0),
        )
    for position, (kind, label, percent, amount) in enumerate(adjustments):
        DocumentAdjustment.objects.create(
            quote=quote,
            position=position,
            kind=kind,
            label=label,
            percent=None if percent is None else Decimal(percent),
            amount=None if amount is None else Decimal(amount),
        )
    return quote


def discounted(percent: str, price="1000.00"):
    return quote_make(lines=(("Consulting", "1", price, "percent", percent),))


def grant_approval(user):
    user.user_permissions.add(Permission.objects.get(codename="approve_quotes"))
    return type(user).objects.get(pk=user.pk)  # a fresh instance: permissions are cached per instance


@pytest.fixture
def rep(tenant_alpha):
    return user_make(Role.SALES, full_name="Siri Sales", email="siri@alpha.example")


@pytest.fixture
def approver(tenant_alpha):
    return user_make(Role.ADMIN, full_name="Anna Admin", email="anna@alpha.example")


def client_for(user) -> Client:
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user)
    return client


# --- thresholds -------------------------------------------------------------------------------------------------------


def test_a_discount_exactly_at_the_limit_needs_no_approval(tenant_alpha):
    approvals_on()
    assert quote_approval_required(discounted("20")) == []


def test_a_discount_just_above_the_limit_needs_approval(tenant_alpha):
    approvals_on()
    assert quote_approval_required(discounted("20.01")) == [LIMIT_REASON % "20.01%"]


def test_an_amount_discount_a_hair_above_the_limit_shows_enough_decimals_to_see_it(tenant_alpha):
    approvals_on()
    quote = quote_make(lines=(("Consulting", "1", "1000.00", "amount", "200.04"),))
    assert quote_approval_required(quote) == [LIMIT_REASON % "20.004%"]


def test_the_largest_line_discount_counts_not_the_average(tenant_alpha):
    approvals_on()
    quote = quote_make(
        lines=(("Licences", "1", "9000.00", None, None), ("Training", "1", "1000.00", "percent", "25")),
    )
    # 2.5% of the whole quote, but one line is discounted by 25%.
    assert quote_approval_required(quote) == [LIMIT_REASON % "25%"]


def test_one_time_discounts_count_against_the_undiscounted_amount(tenant_alpha):
    approvals_on()
    line = (("Consulting", "1", "1000.00", "percent", "10"),)
    # 100 off the line and 100 off the subtotal of 900: 200 of 1000, exactly 20%.
    at_limit = quote_make(lines=line, adjustments=(("discount", "Loyalty", None, "100.00"),))
    assert quote_approval_required(at_limit) == []
    above = quote_make(lines=line, adjustments=(("discount", "Loyalty", None, "101.00"),))
    assert quote_approval_required(above) == [LIMIT_REASON % "20.1%"]


def test_a_total_exactly_at_the_limit_needs_no_approval_and_a_cent_more_does(tenant_alpha):
    approvals_on(percent=None)
    assert quote_approval_required(quote_make(lines=(("Project", "1", "10000.00", None, None),))) == []
    assert quote_approval_required(quote_make(lines=(("Project", "1", "10000.01", None, None),))) == [
        "Its total of €10,000.01 is above the approval limit of €10,000.00."
    ]


def test_a_total_in_another_currency_is_converted_at_the_days_rate(tenant_alpha):
    approvals_on(percent=None)
    # Entered as 1 EUR = 11.5 NOK: the quote's NOK are converted with the inverse.
    ExchangeRate.objects.create(base="EUR", quote="NOK", rate=Decimal("11.5"), valid_from=date(2020, 1, 1))
    at_limit = quote_make(currency="NOK", lines=(("Prosjekt", "1", "115000.00", None, None),))
    assert quote_approval_required(at_limit) == []
    above = quote_make(currency="NOK", lines=(("Prosjekt", "1", "115000.12", None, None),))
    assert quote_approval_required(above) == [
        "Its total of NOK115,000.12 (€10,000.01 at 1 NOK = 0.087 EUR) is above the approval limit of €10,000.00."
    ]


def test_a_rate_valid_only_from_tomorrow_does_not_count(tenant_alpha):
    approvals_on(percent=None)
    tomorrow = timezone.localdate() + timedelta(days=1)
    ExchangeRate.objects.create(base="USD", quote="EUR", rate=Decimal("0.9"), valid_from=tomorrow)
    quote = quote_make(currency="USD", lines=(("Setup", "1", "50.00", None, None),))
    assert quote_approval_required(quote) == [
        "There is no exchange rate from USD to EUR, so its total of US$50.00 cannot be compared with the approval "
        "limit of €10,000.00."
    ]


def test_without_a_rate_the_quote_needs_approval_and_says_why(tenant_alpha):
    approvals_on(percent=None)
    quote = quote_make(currency="USD", lines=(("Setup", "1", "50.00", None, None),))
    assert quote_approval_required(quote) == [
        "There is no exchange rate from USD to EUR, so its total of US$50.00 cannot be compared with the approval "
        "limit of €10,000.00."
    ]


def test_both_limits_passed_give_both_reasons(tenant_alpha):
    approvals_on()
    quote = quote_make(lines=(("Project", "1", "20000.00", "percent", "30"),))
    assert quote_approval_required(quote) == [
        LIMIT_REASON % "30%",
        "Its total of €14,000.00 is above the approval limit of €10,000.00.",
    ]


def test_with_approvals_off_nothing_needs_approval(tenant_alpha):
    approvals_on(enabled=False)
    assert quote_approval_required(discounted("90")) == []


# --- asking -----------------------------------------------------------------------------------------------------------


def test_asking_gives_every_approver_a_task_and_an_email_after_commit(
    rep, approver, django_capture_on_commit_callbacks, eager_tasks
):
    approvals_on()
    second = user_make(Role.ADMIN, full_name="Bjørn Admin", email="bjorn@alpha.example", language="nb")
    grant_approval(user_make(Role.FINANCE, full_name="Fenna Finance", email="fenna@alpha.example"))
    user_make(Role.SALES, full_name="Other Rep", email="other@alpha.example")  # edits quotes, cannot approve
    quote = discounted("25")
    with django_capture_on_commit_callbacks(execute=True):
        approval = quote_request_approval(quote=quote, actor=rep)
        assert mail.outbox == []  # nothing leaves before the transaction commits
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    assert (approval.requested_by, approval.decision, approval.reasons) == (rep, "pending", [LIMIT_REASON % "25%"])
    assert len(approval.fingerprint) == 64

    tasks = Task.objects.filter(deal=quote.deal).order_by("owner__email")
    assert [(t.owner.email, t.title, t.due_date, t.completed_at) for t in tasks] == [
        ("anna@alpha.example", "Approve quote “Website redesign”", timezone.localdate(), None),
        ("bjorn@alpha.example", "Godkjenn tilbudet “Website redesign”", timezone.localdate(), None),  # in Bokmål
        ("fenna@alpha.example", "Approve quote “Website redesign”", timezone.localdate(), None),
    ]
    assert set(approval.tasks.all()) == set(tasks)
    assert sorted(message.to[0] for message in mail.outbox) == [
        "anna@alpha.example",
        "bjorn@alpha.example",
        "fenna@alpha.example",
    ]
    english = next(m for m in mail.outbox if m.to == ["anna@alpha.example"])
    assert english.subject == "Approval needed: quote “Website redesign”"
    body = " ".join(english.body.split())
    assert (
        "Siri Sales asks you to approve the quote “Website redesign” for Fjordline renewal, with a total of €750.00."
        in body
    )
    assert f"- {LIMIT_REASON % '25%'}" in english.body
    assert f"http://alpha.localhost:8000/billing/quotes/{quote.pk}/" in body
    # Each approver reads the email in their own language: Bjørn's is in Bokmål.
    assert next(m for m in mail.outbox if m.to == [second.email]).body.startswith("Hei Bjørn Admin,")

    event = QuoteEvent.objects.get(quote=quote, kind="approval_requested")
    assert (event.actor, event.from_status, event.to_status) == (rep, "draft", "pending_approval")
    assert OutboxEvent.objects.filter(name="quote.approval_requested", payload__id=quote.pk).count() == 1
    assert AuditEntry.objects.filter(action="quote.approval_requested", actor=rep).count() == 1


def test_asking_for_a_quote_within_the_limits_is_refused(rep, approver):
    approvals_on()
    quote = discounted("20")
    with pytest.raises(ValidationError) as refused:
        quote_request_approval(quote=quote, actor=rep)
    assert refused.value.messages == ["This quote needs no approval: it can be published as it is."]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    assert not QuoteApproval.objects.exists() and not Task.objects.exists()


def test_asking_twice_is_refused_with_the_state_and_creates_nothing_more(rep, approver):
    approvals_on()
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    with pytest.raises(QuoteStateError) as refused:
        quote_request_approval(quote=quote, actor=rep)
    assert refused.value.messages == [f"Quote Draft quote {quote.pk} is waiting for approval."]
    assert QuoteApproval.objects.count() == 1 and Task.objects.count() == 1


# --- deciding ---------------------------------------------------------------------------------------------------------


def test_approving_records_who_when_and_the_comment_and_closes_every_task(
    rep, approver, django_capture_on_commit_callbacks, eager_tasks
):
    approvals_on()
    user_make(Role.ADMIN, full_name="Bjørn Admin", email="bjorn@alpha.example")
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approval = quote_approve(quote=quote, actor=approver, comment="Strategic account, fine.")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert (approval.decision, approval.decided_by, approval.comment) == (
        "approved",
        approver,
        "Strategic account, fine.",
    )
    assert timezone.now() - approval.decided_at < timedelta(minutes=1)
    assert Task.objects.filter(completed_at__isnull=True).count() == 0
    assert Task.objects.count() == 2
    assert quote_approval_required(quote) == []  # publishing may go ahead
    [notice] = mail.outbox
    assert (notice.to, notice.subject) == (["siri@alpha.example"], "Quote “Website redesign” approved")
    assert "Anna Admin approved your quote “Website redesign”. You can publish it now." in notice.body
    assert "Comment: Strategic account, fine." in notice.body
    event = QuoteEvent.objects.get(quote=quote, kind="approved")
    assert (event.actor, event.to_status, event.data["comment"]) == (approver, "approved", "Strategic account, fine.")


def test_rejecting_needs_a_comment_and_puts_the_quote_back_in_draft(rep, approver):
    approvals_on()
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    with pytest.raises(ValidationError) as refused:
        quote_reject(quote=quote, actor=approver, comment="   ")
    assert refused.value.message_dict == {
        "comment": ["Say why you reject the quote, so the requester knows what to change."]
    }
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL

    approval = quote_reject(quote=quote, actor=approver, comment="25% is too much; 15% at most.")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    assert (approval.decision, approval.decided_by, approval.comment) == (
        "rejected",
        approver,
        "25% is too much; 15% at most.",
    )
    assert Task.objects.get().completed_at is not None
    # Still above the limit and rejected: it needs approval again before it can be published.
    assert quote_approval_required(quote) == [LIMIT_REASON % "25%"]


def test_someone_who_may_not_approve_is_refused_and_nothing_changes(rep, approver):
    approvals_on()
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    other_rep = user_make(Role.SALES)
    with pytest.raises(PermissionDenied):
        quote_approve(quote=quote, actor=other_rep)
    with pytest.raises(PermissionDenied):
        quote_reject(quote=quote, actor=other_rep, comment="no")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    assert QuoteApproval.objects.get().decision == "pending"


def test_a_second_decision_is_told_who_decided_first(rep, approver):
    approvals_on()
    late = user_make(Role.ADMIN, full_name="Late Larsen")
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    quote_approve(quote=quote, actor=approver)
    with pytest.raises(QuoteStateError) as refused:
        quote_reject(quote=quote, actor=late, comment="Too cheap")
    assert refused.value.messages == ["Anna Admin already approved this quote."]
    assert QuoteApproval.objects.get().decision == "approved"


# --- self-approval ----------------------------------------------------------------------------------------------------


def test_an_approver_cannot_decide_on_their_own_request_when_another_approver_exists(approver):
    approvals_on()
    other = user_make(Role.ADMIN, full_name="Bjørn Admin", email="bjorn@alpha.example")
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=approver)
    assert list(Task.objects.values_list("owner__email", flat=True)) == ["bjorn@alpha.example"]
    with pytest.raises(PermissionDenied) as refused:
        quote_approve(quote=quote, actor=approver)
    assert str(refused.value) == "You asked for this approval yourself: another approver has to decide on it."
    quote_approve(quote=quote, actor=other)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED


def test_an_admin_who_is_the_only_approver_approves_their_own_request(approver):
    approvals_on()
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=approver)
    assert list(Task.objects.values_list("owner__email", flat=True)) == ["anna@alpha.example"]
    approval = quote_approve(quote=quote, actor=approver, comment="Only me here.")
    assert approval.decided_by == approver


def test_a_non_admin_approver_alone_cannot_approve_their_own_request(tenant_alpha):
    approvals_on()
    finance = grant_approval(user_make(Role.FINANCE, full_name="Fenna Finance", email="fenna@alpha.example"))
    finance.user_permissions.add(Permission.objects.get(codename="edit_quotes"))
    finance = type(finance).objects.get(pk=finance.pk)
    quote = discounted("25")
    with pytest.raises(ValidationError) as refused:
        quote_request_approval(quote=quote, actor=finance)
    assert refused.value.messages == [
        "Nobody else can approve this quote: approving needs an admin, or someone given the permission."
    ]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


# --- an approval covers exactly what was approved ---------------------------------------------------------------------


def test_changing_an_approved_quotes_prices_needs_approval_again(rep, approver):
    approvals_on()
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    quote_approve(quote=quote, actor=approver)
    assert quote_approval_required(quote) == []

    line = LineItem.objects.get(quote=quote)
    line.name = "Consulting, renamed"
    line.save(update_fields=["name"])
    assert quote_approval_required(quote) == []  # not a price: still approved

    line.discount_value = Decimal("26")
    line.save(update_fields=["discount_value"])
    assert quote_approval_required(quote) == [LIMIT_REASON % "26%"]
    panel = quote_approval_panel(quote=quote, user=rep)
    assert panel["changed_since"] is True and panel["can_request"] is True

    # Asked again from the approved state, and approved again.
    quote_request_approval(quote=quote, actor=rep)
    quote_approve(quote=quote, actor=approver)
    assert quote_approval_required(quote) == []

    line.discount_value = Decimal("25")  # back to what was approved the first time: the latest decision counts
    line.save(update_fields=["discount_value"])
    assert quote_approval_required(quote) == [LIMIT_REASON % "25%"]


def test_an_added_line_or_one_time_discount_needs_approval_again(rep, approver):
    approvals_on()
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    quote_approve(quote=quote, actor=approver)
    DocumentAdjustment.objects.create(quote=quote, kind="discount", label="Extra", amount=Decimal("10"))
    assert quote_approval_required(quote) == [LIMIT_REASON % "26%"]


# --- the pages --------------------------------------------------------------------------------------------------------


def test_the_request_button_posts_and_returns_to_the_quote_with_a_message(rep, approver):
    approvals_on()
    quote = discounted("25")
    client = client_for(rep)
    response = client.post(f"/billing/quotes/{quote.pk}/approval/request/", follow=True)
    assert response.status_code == 200
    assert "Submitted for approval. The approvers have a task and an email." in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    # The same form sent again: a message, not an error page, and no second request.
    response = client.post(f"/billing/quotes/{quote.pk}/approval/request/", follow=True)
    assert response.status_code == 200
    assert f"Quote Draft quote {quote.pk} is waiting for approval." in response.content.decode()
    assert QuoteApproval.objects.count() == 1


def test_approval_routes_are_post_only_and_need_their_permissions(rep, approver):
    approvals_on()
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    assert client_for(approver).get(f"/billing/quotes/{quote.pk}/approval/approve/").status_code == 405
    assert client_for(rep).post(f"/billing/quotes/{quote.pk}/approval/approve/").status_code == 403
    assert client_for(rep).post(f"/billing/quotes/{quote.pk}/approval/reject/", {"comment": "x"}).status_code == 403
    viewer = user_make(Role.READ_ONLY)
    assert client_for(viewer).post(f"/billing/quotes/{quote.pk}/approval/request/").status_code == 403
    assert client_for(approver).post("/billing/quotes/999999/approval/approve/").status_code == 404
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL


def test_approving_through_the_page_records_the_comment(rep, approver):
    approvals_on()
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    response = client_for(approver).post(
        f"/billing/quotes/{quote.pk}/approval/approve/", {"comment": "OK for this year."}, follow=True
    )
    assert "Quote approved. It can be published now." in response.content.decode()
    assert QuoteApproval.objects.get().comment == "OK for this year."


def test_rejecting_without_a_comment_shows_the_form_with_the_error(rep, approver):
    approvals_on()
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)
    client = client_for(approver)
    response = client.post(f"/billing/quotes/{quote.pk}/approval/reject/", {"comment": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Say why you reject the quote, so the requester knows what to change." in body
    assert "Reject the quote “Website redesign”?" in body
    response = client.post(f"/billing/quotes/{quote.pk}/approval/reject/", {"comment": "Max 15%."}, follow=True)
    assert "Quote rejected. It is back in draft, with your comment." in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    # A late second rejection gets a message on the quote's page, not an error.
    response = client.post(f"/billing/quotes/{quote.pk}/approval/reject/", {"comment": "Again"}, follow=True)
    assert response.status_code == 200
    assert "Anna Admin already rejected this quote." in response.content.decode()


def test_self_approval_through_the_page_is_a_message(approver):
    approvals_on()
    user_make(Role.ADMIN, full_name="Bjørn Admin")
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=approver)
    response = client_for(approver).post(f"/billing/quotes/{quote.pk}/approval/approve/", follow=True)
    assert response.status_code == 200
    assert "You asked for this approval yourself: another approver has to decide on it." in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL


def test_the_approval_section_shows_reasons_decider_and_comment(rep, approver):
    from django.template.loader import render_to_string

    approvals_on()
    quote = discounted("25")
    section = quote_approval_panel(quote=quote, user=rep)
    body = render_to_string("billing/quotes/_approval.html", {"section": section})
    assert "Needs approval" in body and LIMIT_REASON % "25%" in body and "Submit for approval" in body
    assert f'action="/billing/quotes/{quote.pk}/approval/request/"' in body

    quote_request_approval(quote=quote, actor=rep)
    body = render_to_string(
        "billing/quotes/_approval.html", {"section": quote_approval_panel(quote=quote, user=approver)}
    )
    assert "Waiting for approval" in body
    assert f'action="/billing/quotes/{quote.pk}/approval/approve/"' in body
    assert f'formaction="/billing/quotes/{quote.pk}/approval/reject/"' in body
    rep_view = render_to_string(
        "billing/quotes/_approval.html", {"section": quote_approval_panel(quote=quote, user=rep)}
    )
    assert "approval/approve/" not in rep_view

    quote_reject(quote=quote, actor=approver, comment="Max <b>15%</b>.")
    body = render_to_string("billing/quotes/_approval.html", {"section": quote_approval_panel(quote=quote, user=rep)})
    assert "Rejected by Anna Admin" in body
    assert "Max &lt;b&gt;15%&lt;/b&gt;." in body


def test_two_approvers_deciding_at_once_make_one_decision(django_db_setup, live_tenant, eager_tasks):
    from tests.concurrency import in_threads

    approvals_on()
    rep = user_make(Role.SALES, full_name="Siri Sales")
    approvers = [user_make(Role.ADMIN, full_name=f"Admin {n}") for n in range(4)]
    quote = discounted("25")
    quote_request_approval(quote=quote, actor=rep)

    def decide(n):
        from django.db import connection

        connection.set_tenant(live_tenant)  # the real tenant (with its domain) for the links in the emails
        try:
            if n % 2:
                quote_reject(quote=Quote(pk=quote.pk), actor=approvers[n], comment="No")
            else:
                quote_approve(quote=Quote(pk=quote.pk), actor=approvers[n])
        except QuoteStateError as exc:
            return exc.messages[0]
        return "decided"

    outcomes = in_threads(4, decide)
    assert outcomes.count("decided") == 1
    approval = QuoteApproval.objects.get()
    winner = approval.decided_by.full_name
    verb = "approved" if approval.decision == "approved" else "rejected"
    assert sorted(o for o in outcomes if o != "decided") == [f"{winner} already {verb} this quote."] * 3
    quote.refresh_from_db()
    assert quote.status == (QuoteStatus.APPROVED if verb == "approved" else QuoteStatus.DRAFT)
    assert QuoteEvent.objects.filter(quote=quote, kind__in=["approved", "approval_rejected"]).count() == 1


@pytest.mark.usefixtures("media")
def test_publishing_waits_for_the_approval_and_a_price_change_after_it_waits_again(rep, approver):
    from billing.services.quote_publishing import quote_publish, quote_unpublish
    from tests.billing.quote_publishing_data import quote_make as publishable_quote

    approvals_on(percent=None, amount="1000")
    quote = publishable_quote(owner=rep)  # 1,000.00 plus 21% VAT
    needs_approval = [
        "This quote needs an approver's approval before it can be published.",
        "Its total of €1,210.00 is above the approval limit of €1,000.00.",
    ]
    with pytest.raises(ValidationError) as refused:
        quote_publish(quote=quote, actor=rep, notify=False)
    assert refused.value.messages == needs_approval

    quote_request_approval(quote=quote, actor=rep)
    quote_approve(quote=quote, actor=approver, comment="Fine")
    publication = quote_publish(quote=quote, actor=rep, notify=False)
    assert publication.revision == 1

    # Unpublished to change it: the same content republishes without a new approval, a new price does not.
    quote_unpublish(quote=quote, actor=rep)
    line = LineItem.objects.get(quote=quote)
    line.unit_price = Decimal("1000.01")
    line.save(update_fields=["unit_price"])
    with pytest.raises(ValidationError) as refused:
        quote_publish(quote=quote, actor=rep, notify=False)
    assert refused.value.messages == [
        needs_approval[0],
        "Its total of €1,210.01 is above the approval limit of €1,000.00.",
    ]


def test_the_quote_page_shows_the_approval_section_to_each_in_their_role(rep, approver):
    approvals_on()
    quote = discounted("25")
    body = client_for(rep).get(f"/billing/quotes/{quote.pk}/").content.decode()
    assert 'id="approval"' in body and LIMIT_REASON % "25%" in body
    assert f'action="/billing/quotes/{quote.pk}/approval/request/"' in body

    quote_request_approval(quote=quote, actor=rep)
    body = client_for(approver).get(f"/billing/quotes/{quote.pk}/").content.decode()
    assert "Siri Sales asked for approval on" in body
    assert f'action="/billing/quotes/{quote.pk}/approval/approve/"' in body

    approvals_on(enabled=False)
    other = quote_make()
    assert 'id="approval"' not in client_for(rep).get(f"/billing/quotes/{other.pk}/").content.decode()
