"""A buyer in chromium, on a phone and on a desktop: opens the published quote, asks for a code, enters it, draws a
signature with signature_pad and signs; the page then offers the signed copy. A second buyer, who types, sees the
drawing pad refuse an empty drawing first."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from billing.models import QuoteSigner, QuoteStatus
from billing.services.quote_publishing import quote_publish
from tests.billing.quote_publishing_data import buyer_with_contacts, last_code, quote_make

pytestmark = pytest.mark.e2e


@pytest.fixture
def quote_data(live_tenant, settings, tmp_path, eager_tasks):
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": settings.STORAGES["default"]["BACKEND"], "OPTIONS": {"location": str(tmp_path)}}
    }
    company, contacts = buyer_with_contacts(
        ("Kari", "Nordmann", "kari@fjordline.example"), ("Ola", "Berg", "ola@fjordline.example")
    )
    quote = quote_make(
        company=company,
        contacts=contacts,
        signing_order="fixed",
        lines=(
            ("Implementation", "1", "4500.00", "BTW 21%", "one_time"),
            ("Fleet tracking licence", "25", "12.50", "BTW 21%", "monthly"),
        ),
    )
    publication = quote_publish(quote=quote, actor=None)
    signers = {s.email: s.pk for s in QuoteSigner.objects.filter(publication=publication)}
    connection.set_schema_to_public()
    return {"token": publication.token, "signers": signers, "quote": quote.pk}


def _code(email):
    with schema_context("t_live"):
        return last_code(email)


def test_a_buyer_draws_and_signs_on_a_phone_and_the_next_types_on_a_desktop(
    browser, live_server_port, quote_data, screenshot
):
    base = f"http://live.localhost:{live_server_port}"
    url = f"{base}/billing/q/{quote_data['token']}/"

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB", has_touch=True)
    page = phone.new_page()
    page.set_default_timeout(15000)
    page.goto(url)
    expect(page.get_by_role("heading", name="Fleet tracking rollout")).to_be_visible()
    expect(page.get_by_text("Ola Berg signs first", exact=False)).to_have_count(0)
    expect(page.get_by_text("Kari Nordmann signs first. You can sign once they have.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot(page, "quote-hosted-390")
    page.get_by_role("button", name="I am Kari Nordmann: email me a code").click()
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    page.get_by_label("Code").fill("000000" if _code("kari@fjordline.example") != "000000" else "111111")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That code is not right. You have 4 more tries.")).to_be_visible()
    page.get_by_label("Code").fill(_code("kari@fjordline.example"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Sign as Kari Nordmann")).to_be_visible()
    page.get_by_label("Draw my signature").check()
    canvas = page.locator("canvas[data-pad-canvas]")
    expect(canvas).to_be_visible()
    # An empty drawing is refused in the page, before anything is sent.
    page.get_by_label("I have read the quote and its terms", exact=False).check()
    page.get_by_role("button", name="Sign the quote").click()
    expect(page.get_by_text("Draw your signature in the box, or choose to type it.")).to_be_visible()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + box["height"] * (0.3 if step % 2 else 0.7), steps=4)
    page.mouse.up()
    screenshot(page, "quote-sign-390")
    page.get_by_role("button", name="Sign the quote").click()
    expect(
        page.get_by_text("Thank you for signing. We will email you the signed copy once everyone has signed.")
    ).to_be_visible()
    phone.close()

    with schema_context("t_live"):
        kari = QuoteSigner.objects.get(pk=quote_data["signers"]["kari@fjordline.example"])
        assert kari.signature_kind == "drawn" and kari.signature_image.startswith("data:image/png;base64,")
        assert "HeadlessChrome" in kari.user_agent and kari.ip_address == "127.0.0.1"

    desktop = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = desktop.new_page()
    page.set_default_timeout(15000)
    page.goto(url)
    screenshot(page, "quote-hosted-1440")
    page.get_by_role("button", name="I am Ola Berg: email me a code").click()
    page.get_by_label("Code").fill(_code("ola@fjordline.example"))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Your full name").fill("Ola Berg")
    page.get_by_label("I have read the quote and its terms", exact=False).check()
    screenshot(page, "quote-sign-1440")
    page.get_by_role("button", name="Sign the quote").click()
    expect(
        page.get_by_text("Everyone has signed: the signed copy is on its way by email.", exact=False)
    ).to_be_visible()
    expect(page.get_by_role("button", name="Download the signed PDF")).to_be_visible()
    screenshot(page, "quote-signed-1440")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the signed PDF").click()
    assert download.value.suggested_filename == "Q-1001-signed.pdf"
    desktop.close()
    with schema_context("t_live"):
        from billing.models import Quote

        assert Quote.objects.get(pk=quote_data["quote"]).status == QuoteStatus.SIGNED
