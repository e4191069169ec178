"""Quote templates: the built-in ones every tenant has, custom ones admins create and edit, one default, archiving
instead of deleting, the theme's logo checked like the Branding logo, a preview per layout and language, and the
texts the quote document prints (quote_template_texts)."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from billing.models import Quote, QuoteTemplate
from billing.selectors.quote_templates import quote_template_choices, quote_template_texts
from billing.services.quote_templates import (
    quote_template_archive,
    quote_template_create,
    quote_template_default,
    quote_template_set_default,
    quote_templates_ensure,
)
from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.organization.selectors import organization_profile_forget
from crm.models import Deal, Pipeline
from tests.conftest import user_make

LIST = "/billing/quotes/settings/templates/"
NEW = "/billing/quotes/settings/templates/new/"
CLASSIC_TERMS = (
    "This quote is valid until its expiration date. Prices are in the currency shown and exclude VAT unless stated "
    "otherwise. Recurring items are billed in advance for each period. Our general terms and conditions apply."
)


def builtin(key) -> QuoteTemplate:
    return QuoteTemplate.objects.get(builtin_key=key)


def png(size=(120, 40), color=(15, 118, 110)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return SimpleUploadedFile("../../evil name.png", buffer.getvalue(), content_type="image/png")


def form_data(**values):
    data = {"name": "Enterprise", "layout": "modern", "accent_color": "#1D4ED8", "header_text": "", "footer_text": ""}
    data["terms"] = ""
    data.update(values)
    return data


def quote_using(template) -> Quote:
    pipeline = Pipeline.objects.get(is_default=True)
    deal = Deal.objects.create(name="Deal", pipeline=pipeline, stage=pipeline.stages.first())
    return Quote.objects.create(
        title="Q", expires_on=timezone.localdate() + timedelta(days=30), currency="EUR", deal=deal, template=template
    )


# --- built-in templates -----------------------------------------------------------------------------------------------


def test_every_tenant_has_the_three_built_in_templates_with_classic_the_default(tenant_alpha):
    rows = list(
        QuoteTemplate.objects.order_by("builtin_key").values_list("builtin_key", "name", "layout", "is_default")
    )
    assert rows == [
        ("classic", "Classic", "classic", True),
        ("compact", "Compact", "compact", False),
        ("modern", "Modern", "modern", False),
    ]
    assert quote_template_default() == builtin("classic")


def test_missing_built_in_templates_are_put_back(tenant_alpha):
    QuoteTemplate.objects.all().delete()
    assert quote_template_default().builtin_key == "classic"
    assert QuoteTemplate.objects.count() == 3
    assert quote_templates_ensure() == builtin("classic")  # idempotent
    assert QuoteTemplate.objects.count() == 3


def test_built_in_templates_print_their_standard_texts_until_an_admin_writes_their_own(tenant_alpha):
    classic = builtin("classic")
    texts = quote_template_texts(classic, "en")
    assert texts["layout"] == "classic"
    assert texts["terms"] == CLASSIC_TERMS
    assert texts["header_text"].startswith("Dear customer,")
    assert texts["footer_text"] == "Questions about this quote? Reply to the email it came with."
    classic.terms = "Our own terms."
    classic.save(update_fields=["terms"])
    assert quote_template_texts(classic, "en")["terms"] == "Our own terms."


def test_a_custom_template_prints_only_its_own_texts(admin_user):
    template = quote_template_create(actor=admin_user, name="Plain", layout="compact", terms="  Net 14.  ")
    texts = quote_template_texts(template, "nb")
    assert (texts["header_text"], texts["footer_text"], texts["terms"]) == ("", "", "Net 14.")


def test_the_theme_falls_back_to_the_branding_colour_and_logo(admin_user):
    OrganizationProfile.objects.filter(pk=1).update(accent_color="#aa3300", logo="branding/logo.png")
    organization_profile_forget()
    template = quote_template_create(actor=admin_user, name="Plain")
    assert quote_template_texts(template, "en")["accent_color"] == "#aa3300"
    assert quote_template_texts(template, "en")["logo_path"] == "branding/logo.png"
    own = quote_template_create(actor=admin_user, name="Blue", accent_color="#1D4ED8", logo=png())
    theme = quote_template_texts(own, "en")
    assert theme["accent_color"] == "#1d4ed8"
    assert theme["logo_path"] == own.logo.name
    assert quote_template_texts(None, "en")["layout"] == "classic"  # None: the default template


# --- the list and the forms -------------------------------------------------------------------------------------------


def test_the_list_shows_built_in_and_custom_templates_with_their_use(admin_client, admin_user):
    custom = quote_template_create(actor=admin_user, name="Enterprise", layout="modern")
    quote_using(custom)
    quote_using(custom)
    response = admin_client.get(LIST)
    assert response.status_code == 200
    rows = [(t.name, t.is_default, bool(t.builtin_key), t.quote_count) for t in response.context["templates"]]
    assert rows == [
        ("Classic", True, True, 0),
        ("Enterprise", False, False, 2),
        ("Compact", False, True, 0),
        ("Modern", False, True, 0),
    ]
    body = response.content.decode()
    assert f'href="/billing/quotes/settings/templates/{custom.pk}/preview/"' in body
    assert f'action="/billing/quotes/settings/templates/{custom.pk}/default/"' in body
    # The default has no archive or default buttons.
    classic = builtin("classic")
    assert f"/templates/{classic.pk}/archive/" not in body


def test_an_admin_creates_a_template_with_a_logo_stored_under_its_own_name(admin_client, admin_user):
    response = admin_client.post(NEW, form_data(logo=png()))
    assert response.status_code == 302 and response["Location"] == LIST
    template = QuoteTemplate.objects.get(name="Enterprise")
    assert (template.layout, template.accent_color, template.builtin_key, template.is_default) == (
        "modern",
        "#1d4ed8",
        "",
        False,
    )
    assert template.logo.name.startswith("quote-logos/") and template.logo.name.endswith(".png")
    assert "evil" not in template.logo.name and ".." not in template.logo.name
    entry = AuditEntry.objects.get(action="billing.quote_template_created")
    assert entry.actor == admin_user and entry.after["name"] == "Enterprise"
    logo = admin_client.get(f"/billing/quotes/settings/templates/{template.pk}/logo/")
    assert logo.status_code == 200 and b"".join(logo.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "classic"}, "name", "Another template is called classic."),
        ({"accent_color": "red"}, "accent_color", "Use a colour like #0f766e."),
        ({"accent_color": "#12345g"}, "accent_color", "Use a colour like #0f766e."),
        ({"layout": "fancy"}, "layout", "Select a valid choice. fancy is not one of the available choices."),
        ({"terms": "x" * 10_001}, "terms", "Keep this under 10,000 characters."),
        ({"header_text": "x" * 2001}, "header_text", "Keep this under 2,000 characters."),
    ],
)
def test_bad_template_input_is_an_error_next_to_its_field(admin_client, values, field, message):
    response = admin_client.post(NEW, form_data(**values))
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert not QuoteTemplate.objects.filter(builtin_key="").exists()


def test_a_logo_is_checked_like_the_branding_logo(admin_client, settings):
    not_image = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = admin_client.post(NEW, form_data(logo=not_image))
    assert response.status_code == 400
    assert response.context["form"].errors["logo"] == ["Upload a PNG, JPEG or WebP image."]
    too_wide = png(size=(4001, 10))
    response = admin_client.post(NEW, form_data(logo=too_wide))
    assert response.context["form"].errors["logo"] == ["Use an image of at most 4000 × 4000 pixels."]
    settings.LOGO_MAX_BYTES = 100
    response = admin_client.post(NEW, form_data(logo=png()))
    assert response.context["form"].errors["logo"][0].startswith("The logo is 0 KB; the limit is 0 KB.")
    assert not QuoteTemplate.objects.filter(builtin_key="").exists()


def test_editing_a_template_audits_what_changed(admin_client, admin_user):
    classic = builtin("classic")
    url = f"/billing/quotes/settings/templates/{classic.pk}/"
    page = admin_client.get(url).content.decode()
    assert "The greeting above the lines. Leave it empty to print the standard text in the quote's language." in page
    response = admin_client.post(url, form_data(name="Classic", layout="classic", accent_color="", terms="Net 30."))
    assert response.status_code == 302
    classic.refresh_from_db()
    assert (classic.terms, classic.layout, classic.builtin_key) == ("Net 30.", "classic", "classic")
    entry = AuditEntry.objects.get(action="billing.quote_template_changed")
    assert (entry.before, entry.after) == ({"terms": ""}, {"terms": "Net 30."})


def test_editing_can_remove_a_templates_logo(admin_client, admin_user):
    template = quote_template_create(actor=admin_user, name="Logo", logo=png())
    url = f"/billing/quotes/settings/templates/{template.pk}/"
    response = admin_client.post(url, form_data(name="Logo", remove_logo="on"))
    assert response.status_code == 302
    template.refresh_from_db()
    assert not template.logo


# --- default and archive ----------------------------------------------------------------------------------------------


def test_there_is_only_ever_one_default(admin_client, admin_user):
    modern = builtin("modern")
    response = admin_client.post(f"/billing/quotes/settings/templates/{modern.pk}/default/", follow=True)
    assert "New quotes now start with the template “Modern”." in response.content.decode()
    assert list(QuoteTemplate.objects.filter(is_default=True)) == [modern]
    assert quote_template_default() == modern
    assert list(quote_template_choices())[0] == modern
    entry = AuditEntry.objects.get(action="billing.quote_template_default_changed")
    assert (entry.before, entry.after) == ({"default": "Classic"}, {"default": "Modern"})
    quote_template_set_default(actor=admin_user, template=modern)  # again: nothing changes
    assert QuoteTemplate.objects.filter(is_default=True).count() == 1


def test_archiving_asks_first_and_keeps_the_template_for_quotes_that_use_it(admin_client, admin_user):
    custom = quote_template_create(actor=admin_user, name="Enterprise")
    quote = quote_using(custom)
    url = f"/billing/quotes/settings/templates/{custom.pk}/archive/"
    page = admin_client.get(url).content.decode()
    assert "Archive the template “Enterprise”?" in page
    assert "1 quote uses it and keeps it: nothing is deleted." in page
    custom.refresh_from_db()
    assert custom.archived is False  # asking changed nothing
    response = admin_client.post(url, follow=True)
    assert "Template “Enterprise” archived." in response.content.decode()
    custom.refresh_from_db()
    quote.refresh_from_db()
    assert custom.archived is True and quote.template == custom
    assert custom not in quote_template_choices()
    admin_client.post(f"/billing/quotes/settings/templates/{custom.pk}/restore/")
    custom.refresh_from_db()
    assert custom.archived is False


def test_the_default_cannot_be_archived_nor_an_archived_one_made_default(admin_client, admin_user):
    classic = builtin("classic")
    response = admin_client.post(f"/billing/quotes/settings/templates/{classic.pk}/archive/", follow=True)
    assert (
        "The default template cannot be archived; make another template the default first." in response.content.decode()
    )
    classic.refresh_from_db()
    assert classic.archived is False
    compact = quote_template_archive(actor=admin_user, template=builtin("compact"))
    with pytest.raises(ValidationError) as refused:
        quote_template_set_default(actor=admin_user, template=compact)
    assert refused.value.messages == ["An archived template cannot be the default; restore it first."]
    assert list(QuoteTemplate.objects.filter(is_default=True)) == [classic]


@pytest.mark.parametrize("role", [Role.FINANCE, Role.SALES, Role.READ_ONLY])
def test_only_admins_manage_templates(tenant_alpha, role):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    modern = builtin("modern")
    assert client.get(LIST).status_code == 403
    assert client.post(NEW, form_data()).status_code == 403
    assert client.post(f"/billing/quotes/settings/templates/{modern.pk}/default/").status_code == 403
    assert client.post(f"/billing/quotes/settings/templates/{modern.pk}/archive/").status_code == 403
    modern.refresh_from_db()
    assert (modern.is_default, modern.archived) == (False, False)
    assert not QuoteTemplate.objects.filter(name="Enterprise").exists()


def test_a_template_of_no_one_is_a_404(admin_client):
    assert admin_client.get("/billing/quotes/settings/templates/999999/").status_code == 404
    assert admin_client.post("/billing/quotes/settings/templates/999999/default/").status_code == 404


# --- previews ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["classic", "modern", "compact"])
def test_each_built_in_layout_has_a_preview_of_a_priced_sample_quote(admin_client, key):
    template = builtin(key)
    response = admin_client.get(f"/billing/quotes/settings/templates/{template.pk}/preview/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'class="quote-preview layout-{key}"' in body
    assert "Implementation project" in body and "Training day" in body
    # 4,800 + 2 x 950 less 10% + 5 x 39 a month, before VAT; the engine priced it.
    assert response.context["document"]["summary"].subtotal == 4800 + 1710 + 195
    assert "Quote Q-1001" in body


def test_the_preview_speaks_the_quotes_language(admin_client):
    classic = builtin("classic")
    body = admin_client.get(f"/billing/quotes/settings/templates/{classic.pk}/preview/?language=nb").content.decode()
    assert 'lang="nb"' in body
    assert '<th class="num">Antall</th>' in body and "Beskrivelse" in body
    dutch = admin_client.get(f"/billing/quotes/settings/templates/{classic.pk}/preview/?language=nl").content.decode()
    assert '<th class="num">Aantal</th>' in dutch
    forged = admin_client.get(f"/billing/quotes/settings/templates/{classic.pk}/preview/?language=<x>")
    assert forged.status_code == 200 and forged.context["language"] == "en"
