"""Forms of Settings → Quotes and of quote templates. They turn text into values; billing.services.quote_settings and
billing.services.quote_templates decide what is allowed, so the page shows the services' messages next to the
fields."""

from __future__ import annotations

from django import forms
from django.conf import settings as django_settings
from django.utils.translation import gettext_lazy as _

from billing.forms.fields import AmountField, LocalizedDecimalField, decimal_input
from billing.models import QuoteLayout, QuoteSettings, QuoteTemplate
from billing.selectors.quote_settings import PipelineStages
from billing.services.quote_settings import EXPIRY_DAYS_MAX, EXPIRY_DAYS_MIN, won_stage_field


class ApprovalsForm(forms.Form):
    approvals_enabled = forms.BooleanField(
        label=_("Require approval for large discounts or totals"),
        required=False,
        help_text=_("An approver must approve such a quote before it can be published."),
    )
    approval_discount_percent = LocalizedDecimalField(
        label=_("Discount above (%)"),
        required=False,
        help_text=_(
            "The largest discount on a line, or of the whole quote, as a share of the price before discounts. "
            "Exactly this much needs no approval. Leave it empty for no discount limit."
        ),
    )
    approval_total_amount = AmountField(
        label=_("Total above"),
        required=False,
        help_text=_(
            "Quotes in another currency are converted at the day's exchange rate; without a rate they need "
            "approval. Leave it empty for no total limit."
        ),
    )
    approval_total_currency = forms.ChoiceField(
        label=_("Currency of the total"), choices=[(code, code) for code in django_settings.CURRENCIES]
    )

    @classmethod
    def initial_for(cls, settings: QuoteSettings, company_currency: str) -> dict:
        return {
            "approvals_enabled": settings.approvals_enabled,
            "approval_discount_percent": decimal_input(settings.approval_discount_percent),
            "approval_total_amount": decimal_input(settings.approval_total_amount, min_decimals=2),
            "approval_total_currency": settings.approval_total_currency or company_currency,
        }


class DefaultsForm(forms.Form):
    expiry_days = forms.IntegerField(
        label=_("Days until a new quote expires"),
        required=False,  # the service says what is allowed, in the same words for every caller
        widget=forms.NumberInput(attrs={"min": EXPIRY_DAYS_MIN, "max": EXPIRY_DAYS_MAX, "inputmode": "numeric"}),
        help_text=_("From 1 to 365 days. Each quote can change its own expiration date."),
    )
    signature_required = forms.BooleanField(label=_("Ask the buyer for an e-signature"), required=False)
    payment_enabled = forms.BooleanField(
        label=_("Collect payment through the checkout"),
        required=False,
        help_text=_("The buyer pays after signing, or without signing when no signature is asked for."),
    )

    @classmethod
    def initial_for(cls, settings: QuoteSettings) -> dict:
        return {
            "expiry_days": settings.expiry_days,
            "signature_required": settings.signature_required,
            "payment_enabled": settings.payment_enabled,
        }


class WonStagesForm(forms.Form):
    """One select per pipeline: its stages, or "Do not move"."""

    def __init__(self, *args, rows: list[PipelineStages], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            name = won_stage_field(row.pipeline.pk)
            self.fields[name] = forms.ChoiceField(
                label=row.pipeline.name,
                required=False,
                choices=[("", _("Do not move the deal"))] + [(str(stage.pk), stage.name) for stage in row.stages],
                initial=str(row.won_stage.pk) if row.won_stage else "",
                error_messages={"invalid_choice": _("This stage is no longer in the pipeline; choose another one.")},
            )

    def service_values(self) -> dict:
        return {row.pipeline.pk: self.cleaned_data.get(won_stage_field(row.pipeline.pk)) or None for row in self.rows}


class NumberingForm(forms.Form):
    prefix = forms.CharField(
        label=_("Quote number prefix"), max_length=12, help_text=_("Letters, digits, dashes or slashes.")
    )
    start_number = forms.IntegerField(label=_("Next quote number"))


class QuoteTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    layout = forms.ChoiceField(label=_("Layout"), choices=QuoteLayout.choices, widget=forms.RadioSelect)
    accent_color = forms.CharField(
        label=_("Accent colour"),
        max_length=7,
        required=False,
        help_text=_("Like #0f766e. Leave it empty to use the colour from Branding."),
        widget=forms.TextInput(attrs={"placeholder": "#0f766e", "autocomplete": "off", "spellcheck": "false"}),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG or WebP, at most 1 MB. Without one, quotes print the logo from Branding."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove this template's logo"), required=False)
    header_text = forms.CharField(
        label=_("Header text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The greeting above the lines."),
    )
    footer_text = forms.CharField(label=_("Footer text"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    terms = forms.CharField(
        label=_("Terms"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("A quote's own terms, when it has them, are printed instead."),
    )

    def __init__(self, *args, template: QuoteTemplate | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if template is not None and template.builtin_key:
            standard = _("Leave it empty to print the standard text in the quote's language.")
            for name in ("header_text", "footer_text", "terms"):
                self.fields[name].help_text = f"{self.fields[name].help_text} {standard}".strip()
        if template is None or not template.logo:
            del self.fields["remove_logo"]

    @classmethod
    def initial_for(cls, template: QuoteTemplate) -> dict:
        return {
            "name": template.name,
            "layout": template.layout,
            "accent_color": template.accent_color,
            "header_text": template.header_text,
            "footer_text": template.footer_text,
            "terms": template.terms,
        }


class RejectForm(forms.Form):
    comment = forms.CharField(
        label=_("Why do you reject it?"),
        required=False,  # the service asks for it, in the same words on every page
        widget=forms.Textarea(attrs={"rows": 3}),
    )
