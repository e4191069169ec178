"""Reads of quote templates: the list admins manage, the choices a rep picks from, the default, and the texts and
theme a quote prints with in its language (quote_template_texts, for the document builder)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing import pricing
from billing.models import QuoteLayout, QuoteTemplate, TaxRate
from billing.models.choices import Frequency
from commerce_hub.organization.selectors import organization_profile_cached

# The built-in templates every tenant has: builtin key -> (stored name, layout). The data migration
# (billing/migrations/0012_...) creates them; billing.services.quote_templates.quote_templates_ensure() puts back
# any that went missing.
BUILTINS = {
    "classic": ("Classic", QuoteLayout.CLASSIC),
    "modern": ("Modern", QuoteLayout.MODERN),
    "compact": ("Compact", QuoteLayout.COMPACT),
}
DEFAULT_BUILTIN = "classic"

# The standard texts of the built-in templates, printed when the template's own text is empty. Marked for
# translation so a quote in Dutch or Norwegian prints them in its own language.
STANDARD_TEXTS = {
    "classic": {
        "header_text": _(
            "Dear customer,\n\nThank you for your interest. We are pleased to offer you the following. "
            "We look forward to working with you."
        ),
        "footer_text": _("Questions about this quote? Reply to the email it came with."),
        "terms": _(
            "This quote is valid until its expiration date. Prices are in the currency shown and exclude VAT "
            "unless stated otherwise. Recurring items are billed in advance for each period. Our general terms "
            "and conditions apply."
        ),
    },
    "modern": {
        "header_text": _("Hello,\n\nHere is the proposal we discussed. Everything you need is on this page."),
        "footer_text": _("Thank you for considering us."),
        "terms": _(
            "Valid until the expiration date. Amounts exclude VAT unless stated otherwise. Recurring items renew "
            "each period until cancelled. Our general terms and conditions apply."
        ),
    },
    "compact": {
        "header_text": _("Our quote, as agreed."),
        "footer_text": "",
        "terms": _("Valid until the expiration date. Prices exclude VAT unless stated otherwise. General terms apply."),
    },
}
TEXT_FIELDS = ("header_text", "footer_text", "terms")


def quote_template_list(*, include_archived: bool = True) -> QuerySet[QuoteTemplate]:
    """Templates for the admin's list: the default first, then built-in ones, then by name; with how many quotes
    use each (one grouped query)."""
    qs = QuoteTemplate.objects.annotate(quote_count=Count("quotes"))
    if not include_archived:
        qs = qs.filter(archived=False)
    return qs.order_by("archived", "-is_default", "builtin_key", "name", "id")


def quote_template_choices() -> QuerySet[QuoteTemplate]:
    """The templates a rep may pick for a quote: every one not archived, the default first."""
    return QuoteTemplate.objects.filter(archived=False).order_by("-is_default", "name", "id")


def quote_template_default_get() -> QuoteTemplate | None:
    """The template new quotes start with (None only where the built-in templates were removed; the services'
    quote_template_default() puts them back)."""
    return QuoteTemplate.objects.filter(is_default=True, archived=False).first()


def quote_template_texts(template: QuoteTemplate | None, language: str) -> dict:
    """What a quote printed with `template` in `language` ("en", "nl", "nb") shows, for the document builder:

    layout ("classic", "modern" or "compact"), accent_color ("#rrggbb": the template's, else the Branding colour),
    logo_path (storage path of the template's logo, else the Branding logo's, else ""), header_text, footer_text and
    terms (the template's own text; where it is empty, a built-in template's standard text in `language`, a custom
    template's nothing). `template` None is the default template. A quote's own terms, when it has them, come before
    the template's: that choice is the document builder's.
    """
    # Without a template, or without any template row at all: the default one, else Classic as it ships.
    template = template or quote_template_default_get() or QuoteTemplate(builtin_key=DEFAULT_BUILTIN, layout="classic")
    profile = organization_profile_cached()
    standard = STANDARD_TEXTS.get(template.builtin_key, {})
    texts = {}
    with translation.override(language):
        for name in TEXT_FIELDS:
            own = (getattr(template, name) or "").strip()
            texts[name] = own or str(standard.get(name, "") or "")
    return {
        "layout": template.layout,
        "accent_color": template.accent_color or profile.accent_color or "#0f766e",
        "logo_path": template.logo.name if template.logo else (profile.logo.name if profile.logo else ""),
        **texts,
    }


def quote_template_sample(*, language: str, number: str) -> dict:
    """A sample quote for a template's preview, in `language`: the company as seller, three typical lines (a project,
    discounted training days, a monthly licence) at the company's standard VAT rate, priced by the pricing engine
    in the company currency."""
    from billing.selectors.quote_settings import quote_settings_get

    profile = organization_profile_cached()
    currency = profile.default_currency or "EUR"
    rate = (
        TaxRate.objects.filter(country=profile.country, category=TaxRate.Category.STANDARD, is_archived=False)
        .order_by("position", "id")
        .first()
    )
    tax = {"tax_rate": rate.rate, "tax_label": rate.name} if rate is not None else {}
    with translation.override(language):
        rows = [
            (gettext("Implementation project"), Decimal(1), Decimal(4800), None, Frequency.ONE_TIME),
            (gettext("Training day"), Decimal(2), Decimal(950), Decimal(10), Frequency.ONE_TIME),
            (gettext("Software licence, per user"), Decimal(5), Decimal(39), None, Frequency.MONTHLY),
        ]
        inputs = [
            pricing.LineInput(
                quantity=quantity,
                unit_price=price,
                currency=currency,
                discount_type=pricing.DiscountType.PERCENT if discount else None,
                discount_value=discount or Decimal(0),
                frequency=pricing.Frequency(frequency),
                term_months=12 if frequency == Frequency.MONTHLY else None,
                **tax,
            )
            for _name, quantity, price, discount, frequency in rows
        ]
        summary = pricing.document_summary(inputs, currency=currency)
        lines = [
            {
                "name": name,
                "quantity": quantity,
                "unit_price": price,
                "discount_percent": discount,
                "frequency": str(Frequency(frequency).label) if frequency != Frequency.ONE_TIME else "",
                "net": result.net,
            }
            for (name, quantity, price, discount, frequency), result in zip(rows, summary.lines, strict=True)
        ]
        buyer = gettext("Sample Customer Ltd")
    today = timezone.localdate()
    return {
        "number": number,
        "currency": currency,
        "date": today,
        "expires_on": today + timedelta(days=quote_settings_get().expiry_days),
        "seller": profile,
        "buyer": buyer,
        "lines": lines,
        "summary": summary,
    }
