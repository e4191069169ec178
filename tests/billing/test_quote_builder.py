"""The quote builder: a quote made from a deal (or with a new deal), its eight steps, its lines flowing back to the
deal, the record page, the Quotes panel and deal timeline, deleting drafts, and what a stale tab, a read-only role
and another tenant's id get."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.editor import owner_for
from billing.models import (
    DocumentAdjustment,
    LineItem,
    Quote,
    QuoteEvent,
    QuotePublication,
    QuoteSettings,
    QuoteSigner,
    QuoteStatus,
    QuoteTemplate,
)
from billing.quote_sections import quote_detail_sections_register, quote_detail_sections_unregister
from billing.services import line_items as line_services
from billing.services import quotes as services
from billing.services.quote_records import QuoteStateError
from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.events.models import OutboxEvent
from commerce_hub.idempotency.services import key_new
from commerce_hub.idempotency.web import FIELD
from crm.models import Company, Contact, Deal
from crm.services.records import record_delete
from tests.billing.invoicing import seller_ready
from tests.billing.quote_builder_data import (
    buyer_make,
    client_for,
    deal_make,
    line_make,
    priced_deal,
    quote_make,
    text_of,
)
from tests.conftest import user_make

STEP = "/billing/quotes/{pk}/build/{step}/"


def step_url(quote, step: str) -> str:
    return STEP.format(pk=quote.pk, step=step)


def lines_of(**owner) -> list[tuple]:
    return [
        (line.position, line.name, line.sku, line.quantity, line.unit_price, line.currency, str(line.tax_rate or ""))
        for line in LineItem.objects.filter(**owner).select_related("tax_rate").order_by("position", "id")
    ]


def adjustments_of(**owner) -> list[tuple]:
    return list(DocumentAdjustment.objects.filter(**owner).order_by("position").values_list("kind", "label", "percent"))


@pytest.fixture
def sales(tenant_alpha):
    return client_for(Role.SALES, full_name="Sander Sales")


@pytest.fixture
def buyer(tenant_alpha):
    return buyer_make()


@pytest.fixture
def deal(buyer):
    company, contact = buyer
    return priced_deal(company=company, contacts=[contact])


SCANNER = (0, "Scanner", "SCN-1", Decimal("2"), Decimal("199.99"), "EUR", "BTW 21%")
CABLE = (1, "Cable", "", Decimal("3"), Decimal("10.00"), "EUR", "BTW 21%")


# --- creating ---------------------------------------------------------------------------------------------------------


def test_a_quote_from_a_deal_copies_exactly_its_buyer_lines_and_adjustments(deal, buyer, admin_user):
    company, contact = buyer
    QuoteTemplate.objects.update(is_default=False)
    template = QuoteTemplate.objects.create(name="House style", is_default=True)
    quote = services.quote_create_from_deal(deal=deal, actor=admin_user)

    assert (quote.status, quote.title, quote.currency, quote.language) == ("draft", "Warehouse scanners", "EUR", "nb")
    assert quote.expires_on == timezone.localdate() + timedelta(days=30)
    assert (quote.company, list(quote.contacts.all()), quote.deal, quote.template) == (
        company,
        [contact],
        deal,
        template,
    )
    assert (quote.owner, quote.created_by, quote.number) == (admin_user, admin_user, None)
    assert lines_of(quote=quote) == [SCANNER, CABLE]
    assert adjustments_of(quote=quote) == [("discount", "Loyalty", Decimal("10.0000"))]
    assert quote.total == Decimal("468.25")
    # Copies: the deal keeps its own rows.
    assert lines_of(deal=deal) == [SCANNER, CABLE]
    assert not LineItem.objects.filter(quote=quote, pk__in=LineItem.objects.filter(deal=deal).values("pk")).exists()
    event = QuoteEvent.objects.get(quote=quote)
    assert (event.kind, event.to_status, event.actor, event.data) == (
        "created",
        "draft",
        admin_user,
        {"deal_id": deal.pk},
    )
    outbox = OutboxEvent.objects.filter(name="quote.created").last()
    assert outbox.payload == {"id": quote.pk, "number": None, "deal_id": deal.pk}


def test_a_new_quote_takes_the_quote_settings_defaults(deal, admin_user):
    QuoteSettings.objects.update_or_create(
        pk=1, defaults={"expiry_days": 14, "signature_required": False, "payment_enabled": True}
    )
    QuoteTemplate.objects.update(is_default=False)  # no default template: the quote has none
    quote = services.quote_create_from_deal(deal=deal, actor=admin_user)
    assert quote.expires_on == timezone.localdate() + timedelta(days=14)
    assert (quote.signature_required, quote.payment_enabled, quote.template) == (False, True, None)
    assert quote.payment_methods == ["bank_transfer", "card"]


def test_a_deal_whose_lines_are_in_another_currency_is_refused_and_nothing_is_created(deal, admin_user):
    line_make("deal", deal, name="Kroner line", quantity="1", price="5", currency="NOK", position=2)
    with pytest.raises(ValidationError) as exc:
        services.quote_create_from_deal(deal=deal, actor=admin_user)
    assert exc.value.messages == [
        "Some of the deal's line items are not in its currency (EUR). Fix them on the deal first."
    ]
    assert not Quote.objects.exists()


def test_new_quote_from_the_deal_panel_twice_with_one_key_makes_one_quote(sales, deal):
    key = {FIELD: key_new()}
    first = sales.post(f"/billing/quotes/from-deal/{deal.pk}/", key)
    second = sales.post(f"/billing/quotes/from-deal/{deal.pk}/", key)
    quote = Quote.objects.get()
    assert first["Location"] == second["Location"] == step_url(quote, "details")
    assert quote.owner == sales.user  # the deal has no owner: the rep who made the quote sends it
    assert QuoteEvent.objects.filter(quote=quote, kind="created").count() == 1


def test_a_quote_from_scratch_creates_its_deal_in_the_first_stage(sales, buyer):
    company, contact = buyer
    response = sales.post(
        "/billing/quotes/new/",
        {"name": "Fleet tablets", "company": "", "contact": f"{contact.email} (#{contact.pk})", "currency": "NOK"}
        | {FIELD: key_new()},
    )
    quote = Quote.objects.get()
    assert response["Location"] == step_url(quote, "details")
    deal = quote.deal
    assert (deal.name, deal.company, list(deal.contacts.all()), str(deal.amount_currency)) == (
        "Fleet tablets",
        company,
        [contact],
        "NOK",
    )
    assert deal.stage == deal.pipeline.stages.order_by("position", "id").first()
    assert (quote.currency, quote.company, list(quote.contacts.all()), quote.owner) == (
        "NOK",
        company,
        [contact],
        sales.user,
    )


def test_a_quote_from_scratch_needs_a_name_and_a_buyer(sales):
    response = sales.post("/billing/quotes/new/", {"name": " ", "currency": "EUR"} | {FIELD: key_new()})
    assert response.status_code == 400
    text = text_of(response)
    assert "This field is required." in text
    assert "Choose who the quote is for: a company or a contact." in text
    response = sales.post(
        "/billing/quotes/new/", {"name": "X", "company": "Nobody Ltd", "currency": "EUR"} | {FIELD: key_new()}
    )
    assert "Choose a company from the list." in text_of(response)
    assert not Deal.objects.exists() and not Quote.objects.exists()


# --- lines: the quote's lines are the deal's -------------------------------------------------------------------------


def edit_data(line, **changes) -> dict:
    """The editor's inline form as a browser posts it, with the line's current values."""
    data = {
        "quantity": str(line.quantity.normalize()),
        "unit_price": f"{line.unit_price.normalize():f}",
        "discount_type": "",
        "discount_value": "",
        "tax_rate": str(line.tax_rate_id or ""),
        "frequency": line.frequency,
        "term": "",
        "billing_start": line.billing_start,
        "billing_start_date": "",
        "billing_start_delay": "",
        "unit_cost": "",
    } | changes
    return {f"line{line.pk}-{key}": value for key, value in data.items()}


def test_editing_a_quote_line_in_the_editor_updates_the_deal_lines_and_amount(sales, deal):
    quote = quote_make(deal)
    scanner = LineItem.objects.get(quote=quote, name="Scanner")
    response = sales.post(f"/billing/quotes/{quote.pk}/line-items/{scanner.pk}/edit/", edit_data(scanner, quantity="3"))
    assert response.status_code == 302
    scanner3 = (0, "Scanner", "SCN-1", Decimal("3"), Decimal("199.99"), "EUR", "BTW 21%")
    assert lines_of(quote=quote) == lines_of(deal=deal) == [scanner3, CABLE]
    assert adjustments_of(deal=deal) == [("discount", "Loyalty", Decimal("10.0000"))]
    # 3 × 199.99 + 3 × 10.00 = 629.97; less 10 % (63.00) = 566.97; VAT 21 % 119.06: 686.03.
    quote.refresh_from_db()
    assert quote.total == Decimal("686.03")
    deal.refresh_from_db()
    assert (deal.amount.amount, str(deal.amount.currency)) == (Decimal("629.97"), "EUR")  # the lines' TCV
    assert OutboxEvent.objects.filter(name="deal.line_items_changed", payload={"id": deal.pk}).exists()
    assert OutboxEvent.objects.filter(name="quote.line_items_changed", payload={"id": quote.pk}).exists()


def test_adding_removing_and_reordering_quote_lines_follow_on_the_deal(deal, admin_user):
    quote = quote_make(deal)
    owner = owner_for("quote", quote)
    line_services.line_item_create_custom(
        owner=owner,
        values=line_services.CustomLineValues(
            quantity=Decimal(1), unit_price=Decimal("49"), frequency="monthly", term=12, name="Support"
        ),
        save_to_library=False,
        actor=admin_user,
    )
    deal.refresh_from_db()
    # A monthly line counts twelve months in the deal amount: 429.98 + 12 × 49 = 1,017.98.
    assert deal.amount.amount == Decimal("1017.98")
    assert [row[1] for row in lines_of(deal=deal)] == ["Scanner", "Cable", "Support"]
    cable = LineItem.objects.get(quote=quote, name="Cable")
    line_services.line_item_delete(owner=owner, line=cable, actor=admin_user)
    support = LineItem.objects.get(quote=quote, name="Support")
    line_services.line_item_move(owner=owner, line=support, direction="up", actor=admin_user)
    assert [(row[0], row[1]) for row in lines_of(deal=deal)] == [(0, "Support"), (1, "Scanner")]
    deal.refresh_from_db()
    assert deal.amount.amount == Decimal("987.98")  # 399.98 + 588.00
    assert LineItem.objects.filter(deal=deal).count() == 2  # replaced, never piled up


def test_editing_the_deal_lines_leaves_the_quote_alone(deal, admin_user):
    quote = quote_make(deal)
    line_services.line_item_delete(
        owner=owner_for("deal", deal), line=LineItem.objects.get(deal=deal, name="Cable"), actor=admin_user
    )
    assert lines_of(quote=quote) == [SCANNER, CABLE]


def test_published_quote_lines_are_refused_with_the_reason(sales, deal, admin_user):
    quote = quote_make(deal, status=QuoteStatus.PUBLISHED, number="Q-1001", sequence=1001)
    scanner = LineItem.objects.get(quote=quote, name="Scanner")
    with pytest.raises(ValidationError) as exc:
        line_services.line_item_update(
            owner=owner_for("quote", quote),
            line=scanner,
            values=line_services.LineValues(quantity=Decimal(5), unit_price=Decimal(1)),
            actor=admin_user,
        )
    assert exc.value.messages == ["Quote Q-1001 is published: unpublish it to change it."]
    response = sales.post(f"/billing/quotes/{quote.pk}/line-items/{scanner.pk}/edit/", edit_data(scanner, quantity="5"))
    assert response.status_code == 403
    assert lines_of(quote=quote) == lines_of(deal=deal) == [SCANNER, CABLE]


# --- the builder's steps ----------------------------------------------------------------------------------------------


def test_each_step_shows_where_the_rep_is_and_the_way_back_and_on(sales, deal):
    quote = quote_make(deal)
    response = sales.get(step_url(quote, "parties"))
    text = text_of(response)
    assert response.status_code == 200
    assert "Buyer and sender Step 2 of 8" in text
    html = response.content.decode()
    assert f'href="{step_url(quote, "details")}">← Back' in html
    assert 'aria-current="page">2. Buyer and sender</a>' in html
    assert "Save and continue →" in text
    review = text_of(sales.get(step_url(quote, "terms")))
    assert "Step 7 of 8" in review and "Save and review →" in review


def test_the_details_step_saves_and_goes_on_to_the_buyer(sales, deal):
    quote = quote_make(deal)
    expires = timezone.localdate() + timedelta(days=60)
    response = sales.post(
        step_url(quote, "details"),
        {"title": "Scanners for Bergen", "expires_on": expires.isoformat(), "language": "en", "currency": "EUR"},
    )
    assert response["Location"] == step_url(quote, "parties")
    quote.refresh_from_db()
    assert (quote.title, quote.expires_on, quote.language, quote.template) == (
        "Scanners for Bergen",
        expires,
        "en",
        None,
    )
    event = QuoteEvent.objects.filter(quote=quote).last()
    assert (event.kind, event.actor, event.data) == (
        "edited",
        sales.user,
        {"step": "details", "fields": ["expires_on", "language", "template", "title"]},
    )
    assert AuditEntry.objects.filter(action="quote.edited", object_id=str(quote.pk)).exists()
    # Saving it again unchanged leaves no second entry.
    sales.post(
        step_url(quote, "details"),
        {"title": "Scanners for Bergen", "expires_on": expires.isoformat(), "language": "en", "currency": "EUR"},
    )
    assert QuoteEvent.objects.filter(quote=quote, kind="edited").count() == 1


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"expires_on": "yesterday"}, "The expiration date cannot be in the past."),
        ({"expires_on": "2026-02-30"}, "Enter a valid date."),
        ({"expires_on": "far"}, "Choose an expiration date within ten years."),
        ({"title": ""}, "This field is required."),
        ({"currency": "NOK"}, "Remove the line items first: they are priced in EUR."),
        ({"currency": "XYZ"}, "Select a valid choice. XYZ is not one of the available choices."),
        ({"template": "999999"}, "Select a valid choice. That choice is not one of the available choices."),
    ],
)
def test_the_details_step_refuses_bad_input_next_to_the_field_and_saves_nothing(sales, deal, changes, field_message):
    quote = quote_make(deal)
    today = timezone.localdate()
    dates = {"yesterday": today - timedelta(days=1), "far": today + timedelta(days=3651)}
    data = {"title": "New title", "expires_on": quote.expires_on.isoformat(), "language": "en", "currency": "EUR"}
    data |= {k: (dates[v].isoformat() if v in dates else v) for k, v in changes.items()}
    response = sales.post(step_url(quote, "details"), data)
    assert response.status_code == 400
    text = text_of(response)
    assert "Please correct the fields marked below." in text
    assert field_message in text
    before = quote.title
    quote.refresh_from_db()
    assert (quote.title, quote.currency) == (before, "EUR")


def test_the_currency_changes_while_nothing_is_priced(deal, admin_user):
    quote = quote_make(deal_make())
    values = services.QuoteDetails(
        title="Empty", expires_on=quote.expires_on, language="en", currency="NOK", template_id=None
    )
    quote = services.quote_update_details(quote=quote, values=values, actor=admin_user)
    assert (quote.currency, quote.total) == ("NOK", Decimal("0.00"))


def test_the_buyer_step_sets_company_contacts_and_sender(sales, deal, buyer):
    quote = quote_make(deal)
    company, kari = buyer
    other = Company.objects.create(name="Havbris AS")
    ola = Contact.objects.create(first_name="Ola", last_name="Havbris", email="ola@havbris.example", company=other)
    rep = user_make(Role.SALES, full_name="Rita Rep")
    response = sales.post(
        step_url(quote, "parties"),
        {
            "company": f"Havbris AS (#{other.pk})",
            "contacts": [],
            "add_contact": f"{ola.email} (#{ola.pk})",
            "owner": rep.pk,
        },
    )
    assert response["Location"] == step_url(quote, "lines")
    quote.refresh_from_db()
    assert (quote.company, list(quote.contacts.all()), quote.owner) == (other, [ola], rep)
    # The next visit offers the new company's people and whoever is on the deal.
    page = text_of(sales.get(step_url(quote, "parties")))
    assert "Ola Havbris" in page and "Kari Nordmann" in page
    assert QuoteEvent.objects.filter(quote=quote, kind="edited").last().data == {
        "step": "parties",
        "fields": ["company", "contacts", "owner"],
    }


def test_the_buyer_step_refuses_a_forged_contact_and_an_unknown_company(sales, deal):
    quote = quote_make(deal)
    stranger = Contact.objects.create(first_name="Sam", last_name="Stranger", email="sam@elsewhere.example")
    response = sales.post(
        step_url(quote, "parties"), {"company": "No Such Company", "contacts": [stranger.pk, "x"], "owner": "999999"}
    )
    assert response.status_code == 400
    text = text_of(response)
    assert "Choose a company from the list." in text
    assert "“x” is not a valid value." in text
    assert "Select a valid choice. That choice is not one of the available choices." in text
    quote.refresh_from_db()
    assert list(quote.contacts.values_list("email", flat=True)) == ["kari@fjordline.example"]


def test_the_options_step_needs_a_payment_method_when_collecting_payment(sales, deal):
    quote = quote_make(deal)
    colleague = user_make(Role.ADMIN, full_name="Cora Countersign")
    data = {"signature_required": "on", "countersigners": [colleague.pk], "signing_order": "fixed"}
    response = sales.post(step_url(quote, "options"), data | {"payment_enabled": "on"})
    assert response.status_code == 400
    assert "Accept at least one payment method, or do not collect payment." in text_of(response)
    response = sales.post(step_url(quote, "options"), data | {"payment_enabled": "on", "payment_methods": ["card"]})
    assert response["Location"] == step_url(quote, "terms")
    quote.refresh_from_db()
    assert (quote.signature_required, quote.signing_order, quote.payment_enabled, quote.payment_methods) == (
        True,
        "fixed",
        True,
        ["card"],
    )
    assert list(quote.countersigners.all()) == [colleague]


def test_the_terms_step_saves_comments_and_terms_and_goes_to_the_review(sales, deal):
    quote = quote_make(deal)
    response = sales.post(step_url(quote, "terms"), {"comments": "  Thanks, Kari!  ", "terms": "Net 14."})
    assert response["Location"] == step_url(quote, "review")
    quote.refresh_from_db()
    assert (quote.comments, quote.terms) == ("Thanks, Kari!", "Net 14.")
    response = sales.post(step_url(quote, "terms"), {"comments": "x" * 2001, "terms": ""})
    assert "Ensure this value has at most 2000 characters (it has 2001)." in text_of(response)


def test_the_line_items_step_is_the_shared_editor_on_the_quote(sales, deal):
    quote = quote_make(deal)
    response = sales.get(step_url(quote, "lines"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="line-editor"' in html
    assert f'href="/billing/quotes/{quote.pk}/line-items/custom/"' in html
    assert "Editing the quote's line items also updates the deal's line items and its amount." in text_of(response)


def test_an_empty_quote_editor_speaks_of_the_quote(sales):
    quote = quote_make(deal_make())
    text = text_of(sales.get(step_url(quote, "lines")))
    assert "No line items yet Add products from the library or type a custom line item. " in text
    assert "Amounts are in the quote's currency." in text
    viewer = client_for(Role.READ_ONLY)
    assert "This quote has no line items." in text_of(viewer.get(f"/billing/quotes/{quote.pk}/line-items/"))


def test_the_summary_step_adds_and_removes_one_time_adjustments_for_quote_and_deal(sales, deal):
    quote = quote_make(deal)
    data = {"action": "add", "adjustment-kind": "fee", "adjustment-label": "Setup", "adjustment-mode": "amount"}
    response = sales.post(step_url(quote, "summary"), data | {"adjustment-value": "25"})
    assert response["Location"] == step_url(quote, "summary")
    fee = DocumentAdjustment.objects.get(quote=quote, label="Setup")
    assert list(DocumentAdjustment.objects.filter(deal=deal).values_list("label", "amount")) == [
        ("Loyalty", None),
        ("Setup", Decimal("25.000000")),
    ]
    quote.refresh_from_db()
    assert quote.total == Decimal("493.25")  # 468.25 and a 25.00 fee
    response = sales.post(step_url(quote, "summary"), data | {"adjustment-value": "1e40"})
    assert response.status_code == 400
    assert "That number is too long." in text_of(response) or "Enter a number below" in text_of(response)
    response = sales.post(step_url(quote, "summary"), {"action": "remove", "adjustment": fee.pk})
    assert response["Location"] == step_url(quote, "summary")
    assert adjustments_of(deal=deal) == adjustments_of(quote=quote) == [("discount", "Loyalty", Decimal("10.0000"))]
    other = quote_make(priced_deal(name="Other deal"))
    foreign = DocumentAdjustment.objects.get(quote=other)
    assert sales.post(step_url(quote, "summary"), {"action": "remove", "adjustment": foreign.pk}).status_code == 404


def test_the_schedule_step_links_to_the_schedule_editor(sales, deal):
    quote = quote_make(deal)
    response = sales.get(step_url(quote, "schedule"))
    assert "No payment schedule: the buyer pays the whole total at once." in text_of(response)
    assert f'href="/billing/quotes/{quote.pk}/schedule/"' in response.content.decode()


def test_the_review_lists_what_blocks_publishing(sales, deal):
    seller_ready()
    quote = quote_make(deal)
    response = sales.get(step_url(quote, "review"))
    text = text_of(response)
    assert "Nothing stands in the way of publishing this quote." in text
    # The preview reads as the buyer will read it: in the quote's language (Norwegian here), whoever reviews it.
    assert "Scanner" in text and "Totalt 468,25 €" in text and "€468.25" not in text
    quote.contacts.clear()
    Quote.objects.filter(pk=quote.pk).update(expires_on=timezone.localdate() - timedelta(days=1), company=None)
    LineItem.objects.filter(quote=quote).delete()
    text = text_of(sales.get(step_url(quote, "review")))
    assert (
        "Before you can publish: Add at least one line item. Choose the buyer: a company or a contact. "
        "The expiration date has passed: choose a later one. "
        "Add a buyer contact: the buyer's contacts sign the quote." in text
    )


def test_steps_of_a_published_quote_send_the_rep_to_its_page_with_the_reason(sales, deal):
    quote = quote_make(deal)
    form = {"title": "Changed", "expires_on": quote.expires_on.isoformat(), "language": "en", "currency": "EUR"}
    # Another tab publishes the quote between showing the form and posting it.
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.PUBLISHED, number="Q-1001", sequence=1001)
    response = sales.post(step_url(quote, "details"), form, follow=True)
    assert response.redirect_chain == [(f"/billing/quotes/{quote.pk}/", 302)]
    assert "Quote Q-1001 is published: unpublish it to change it." in text_of(response)
    quote.refresh_from_db()
    assert quote.title == "Warehouse scanners"
    response = sales.get(step_url(quote, "lines"), follow=True)
    assert "Quote Q-1001 is published: unpublish it to change it." in text_of(response)
    with pytest.raises(QuoteStateError) as exc:
        services.quote_update_terms(quote=quote, comments="x", terms="", actor=sales.user)
    assert exc.value.messages == ["Quote Q-1001 is published: unpublish it to change it."]


def test_a_quote_published_while_the_service_waits_is_refused_under_its_lock(deal, admin_user):
    quote = quote_make(deal)
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.PENDING_APPROVAL)
    with pytest.raises(QuoteStateError) as exc:  # `quote` is the stale copy the view loaded
        services.quote_update_parties(quote=quote, company=None, contacts=[], owner=None, actor=admin_user)
    assert exc.value.messages == [f"Quote Draft quote {quote.pk} is waiting for approval."]


def test_an_unknown_step_is_not_found(sales, deal):
    quote = quote_make(deal)
    assert sales.get(step_url(quote, "payment")).status_code == 404


# --- the record page --------------------------------------------------------------------------------------------------


def test_a_draft_record_page_offers_the_steps_publishing_and_deleting(sales, deal):
    seller_ready()
    quote = quote_make(deal)
    response = sales.get(f"/billing/quotes/{quote.pk}/")
    text, html = text_of(response), response.content.decode()
    assert response.status_code == 200
    assert '<span class="badge badge-muted" id="quote-status">Draft</span>' in html
    assert "Build the quote" in text
    assert f'href="{step_url(quote, "review")}"' in html
    assert f'action="/billing/quotes/{quote.pk}/publish/"' in html
    assert "Submit for approval" not in text  # approvals are off
    assert "Edit (makes a new revision)" not in text
    assert f'href="/billing/quotes/{quote.pk}/delete/"' in html
    assert f'href="/billing/quotes/{quote.pk}/pdf/"' in html and "Preview PDF" in text
    assert "Quote created" in text and "Not published yet." in text
    assert "€468.25" in text  # the preview: the document as it stands


def test_a_draft_page_says_what_blocks_publishing_and_disables_the_button(sales, deal):
    quote = quote_make(deal)
    LineItem.objects.filter(quote=quote).delete()
    response = sales.get(f"/billing/quotes/{quote.pk}/")
    assert "Before you can publish: Add at least one line item." in text_of(response)
    assert '<button type="submit" disabled aria-describedby="publish-problems">Publish</button>' in (
        response.content.decode()
    )


def test_a_quote_above_the_approval_limits_is_submitted_for_approval_not_published(sales, deal):
    seller_ready()
    QuoteSettings.objects.update_or_create(
        pk=1,
        defaults={"approvals_enabled": True, "approval_total_amount": Decimal("500"), "approval_total_currency": "EUR"},
    )
    within = quote_make(deal)  # 468.25
    response = sales.get(f"/billing/quotes/{within.pk}/")
    assert "Submit for approval" not in text_of(response)
    assert '<button type="submit">Publish</button>' in response.content.decode()
    above = quote_make(deal)
    Quote.objects.filter(pk=above.pk).update(title="Bigger")
    LineItem.objects.filter(quote=above, name="Cable").update(quantity=Decimal(10))  # a total of 544.48
    for url in (f"/billing/quotes/{above.pk}/", step_url(above, "review")):
        response = sales.get(url)
        html, text = response.content.decode(), text_of(response)
        assert f'action="/billing/quotes/{above.pk}/approval/request/"' in html and "Submit for approval" in text
        assert "Before you can publish: An approver must approve it, because:" in text
        assert '<button type="submit" disabled aria-describedby="publish-problems">Publish</button>' in html


def test_a_published_quote_page_shows_revisions_signers_and_the_new_revision_button(sales, deal, buyer):
    _company, kari = buyer
    quote = quote_make(deal, status=QuoteStatus.VIEWED, number="Q-1001", sequence=1001, revision=2)
    old = QuotePublication.objects.create(
        quote=quote,
        revision=1,
        token="a" * 43,
        snapshot={},
        pdf_path="x.pdf",
        pdf_sha256="0" * 64,
        replaced_at=timezone.now(),
    )
    current = QuotePublication.objects.create(
        quote=quote,
        revision=2,
        token="b" * 43,
        snapshot={},
        pdf_path="y.pdf",
        pdf_sha256="1" * 64,
        published_by=sales.user,
    )
    Quote.objects.filter(pk=quote.pk).update(publication=current)
    QuoteSigner.objects.create(
        publication=current,
        role="buyer",
        contact=kari,
        name="Kari Nordmann",
        email=kari.email,
        signed_at=timezone.now(),
        signature_kind="typed",
        signature_name="Kari Nordmann",
        pdf_sha256="1" * 64,
    )
    QuoteSigner.objects.create(publication=current, role="countersigner", name="Cora", email="cora@alpha.example")
    QuoteEvent.objects.create(quote=quote, kind="published", to_status="published", actor=sales.user)
    response = sales.get(f"/billing/quotes/{quote.pk}/")
    text, html = text_of(response), response.content.decode()
    assert "Viewed" in text and "Q-1001 · revision 2" in text
    assert f'action="/billing/quotes/{quote.pk}/unpublish/"' in html and "Edit (makes a new revision)" in text
    assert "Build the quote" not in text and "Delete draft" not in text and "/publish/" not in html
    assert "Revision 2" in text and "Revision 1" in text and "current" in text and "replaced" in text
    assert f'href="/billing/q/{current.token}/"' in html and f'href="/billing/q/{old.token}/"' in html
    assert "Kari Nordmann Buyer kari@fjordline.example Signed" in text  # the signatures section
    assert "Cora Countersigner cora@alpha.example Not signed yet" in text
    assert "Published" in text  # the timeline


def test_registered_sections_show_on_the_record_page_in_order(sales, deal):
    quote = quote_make(deal)
    quote_detail_sections_register(
        name="test-b", template="billing/quotes/_status.html", context_fn=lambda r, q: {"x": 1}, order=2
    )
    quote_detail_sections_register(name="test-hidden", template="no/such.html", context_fn=lambda r, q: None)
    quote_detail_sections_register(name="test-a", template="billing/quotes/_status.html", order=1)
    try:
        response = sales.get(f"/billing/quotes/{quote.pk}/")
        names = [section.name for section, _context in response.context["sections"]]
        assert [n for n in names if n.startswith("test-")] == ["test-a", "test-b"]
        assert response.status_code == 200
    finally:
        for name in ("test-a", "test-b", "test-hidden"):
            quote_detail_sections_unregister(name)


# --- panels and the deal's timeline -----------------------------------------------------------------------------------


def test_the_deal_page_has_a_quotes_panel_with_a_new_quote_button(sales, deal):
    response = sales.get(f"/crm/deals/{deal.pk}/")
    html = response.content.decode()
    assert 'id="quotes-panel"' in html
    assert "A new quote copies this deal's company, contacts and line items." in text_of(response)
    assert f'action="/billing/quotes/from-deal/{deal.pk}/"' in html
    quote = quote_make(deal)
    response = sales.get(f"/crm/deals/{deal.pk}/")
    text = text_of(response)
    assert f'href="/billing/quotes/{quote.pk}/"' in response.content.decode()
    assert "Draft Warehouse scanners Draft" in text and "€468.25" in text
    assert f'href="/billing/quotes/?deal_id={deal.pk}"' in response.content.decode()


def test_company_and_contact_pages_list_their_quotes_without_a_new_button(sales, deal, buyer):
    company, kari = buyer
    quote = quote_make(deal)
    for url, query in (
        (f"/crm/companies/{company.pk}/", f"company_id={company.pk}"),
        (f"/crm/contacts/{kari.pk}/", f"contact_id={kari.pk}"),
    ):
        response = sales.get(url)
        html = response.content.decode()
        assert f'href="/billing/quotes/{quote.pk}/"' in html, url
        assert f'href="/billing/quotes/?{query}"' in html
        assert "/billing/quotes/from-deal/" not in html


def test_the_panel_lists_the_ten_newest_and_says_there_are_more(sales, deal):
    quotes = [quote_make(deal) for _ in range(11)]
    response = sales.get(f"/crm/deals/{deal.pk}/")
    panel = next(ctx for panel, ctx in response.context["panels"] if panel.name == "quotes")
    assert [q.pk for q in panel["rows"]] == [q.pk for q in reversed(quotes)][:10]
    assert panel["has_more"] is True


def test_the_deal_timeline_shows_its_quotes_state_changes(sales, deal):
    quote = quote_make(deal, actor=sales.user)
    QuoteEvent.objects.create(quote=quote, kind="edited", actor=sales.user, data={"step": "terms"})
    QuoteEvent.objects.create(quote=quote, kind="published", from_status="draft", to_status="published")
    QuoteEvent.objects.create(quote=quote, kind="odd_new_kind", to_status="declined")
    text = text_of(sales.get(f"/crm/deals/{deal.pk}/"))
    assert "Quote Warehouse scanners : Status changed to Declined" in text
    assert "Quote Warehouse scanners : Published" in text
    assert "Quote Warehouse scanners : Quote created" in text
    assert "Comments and terms edited" not in text  # edits stay on the quote's own page


# --- deleting ---------------------------------------------------------------------------------------------------------


def test_a_draft_is_deleted_and_the_deal_keeps_its_lines(sales, deal):
    quote = quote_make(deal)
    assert "Delete this draft quote?" in text_of(sales.get(f"/billing/quotes/{quote.pk}/delete/"))
    response = sales.post(f"/billing/quotes/{quote.pk}/delete/", follow=True)
    assert "Draft quote deleted. The deal and its line items stay." in text_of(response)
    assert not Quote.objects.exists() and not LineItem.objects.filter(quote__isnull=False).exists()
    assert lines_of(deal=deal) == [SCANNER, CABLE]
    assert AuditEntry.objects.filter(action="quote.deleted", object_id=str(quote.pk)).exists()


def test_a_quote_that_was_published_is_never_deleted(sales, deal):
    quote = quote_make(deal, revision=1, number="Q-1001", sequence=1001)
    response = sales.post(f"/billing/quotes/{quote.pk}/delete/", follow=True)
    assert "Quote Q-1001 has been published, so it is kept." in text_of(response)
    assert Quote.objects.filter(pk=quote.pk).exists()
    pending = quote_make(deal, status=QuoteStatus.PENDING_APPROVAL)
    with pytest.raises(QuoteStateError) as exc:
        services.quote_delete(quote=pending, actor=sales.user)
    assert exc.value.messages == ["Only a draft quote can be deleted."]


def test_a_deal_with_quotes_is_kept(deal, admin_user):
    quote = quote_make(deal)
    with pytest.raises(ValidationError) as exc:
        record_delete(record=deal, actor=admin_user)
    assert exc.value.messages == [f"This deal cannot be deleted: quote {quote.title} belongs to it."]
    assert Deal.objects.filter(pk=deal.pk).exists()


# --- who may do what --------------------------------------------------------------------------------------------------


def test_a_read_only_user_sees_quotes_but_cannot_build_or_create_them(deal):
    viewer = client_for(Role.READ_ONLY)
    quote = quote_make(deal)
    page = viewer.get(f"/billing/quotes/{quote.pk}/")
    assert page.status_code == 200
    assert "Build the quote" not in text_of(page) and "/publish/" not in page.content.decode()
    assert viewer.get(step_url(quote, "details")).status_code == 403
    assert viewer.post(step_url(quote, "terms"), {"comments": "x", "terms": ""}).status_code == 403
    assert viewer.post(f"/billing/quotes/from-deal/{deal.pk}/", {FIELD: key_new()}).status_code == 403
    assert viewer.post(f"/billing/quotes/{quote.pk}/delete/").status_code == 403
    scanner = LineItem.objects.get(quote=quote, name="Scanner")
    assert viewer.post(f"/billing/quotes/{quote.pk}/line-items/{scanner.pk}/delete/").status_code == 403
    panel = viewer.get(f"/crm/deals/{deal.pk}/").content.decode()
    assert 'id="quotes-panel"' in panel and "/billing/quotes/from-deal/" not in panel
    quote.refresh_from_db()
    assert quote.comments == "" and LineItem.objects.filter(quote=quote).count() == 2


def test_another_tenants_quote_and_deal_are_not_found(sales, deal):
    with schema_context("t_bravo"):
        bravo_quote = quote_make(priced_deal(name="Bravo deal", id=987_654_321))
    assert not Quote.objects.filter(pk=bravo_quote.pk).exists()
    assert not Deal.objects.filter(pk=987_654_321).exists()
    for url in (
        f"/billing/quotes/{bravo_quote.pk}/",
        step_url(bravo_quote, "details"),
        f"/billing/quotes/{bravo_quote.pk}/line-items/",
        f"/billing/quotes/{bravo_quote.pk}/delete/",
    ):
        assert sales.get(url).status_code == 404, url
    assert sales.post("/billing/quotes/from-deal/987654321/", {FIELD: key_new()}).status_code == 404
    assert not Quote.objects.exists()
