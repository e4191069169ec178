"""Quote templates: the look (layout, logo, accent colour) and standard texts (header, footer, terms) of quotes.

Built-in templates ship with every tenant; admins edit them and add their own. A template is never deleted, only
archived: quotes keep pointing at the template they were made with (a PROTECT foreign key), and an archived template
is no longer offered for new quotes. Exactly one template is the default (a partial unique index holds it), and the
default cannot be archived.
"""

from __future__ import annotations

import hashlib
import re

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.models import QuoteLayout, QuoteTemplate
from billing.selectors.quote_templates import (  # noqa: F401 - quote_template_texts is part of this module's API
    BUILTINS,
    DEFAULT_BUILTIN,
    quote_template_default_get,
    quote_template_texts,
)
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.organization.services import logo_validate

NAME_MAX = 100
HEADER_MAX = FOOTER_MAX = 2000
TERMS_MAX = 10_000
LOGO_FOLDER = "quote-logos"
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _snapshot(template: QuoteTemplate) -> dict:
    return {
        "name": template.name,
        "layout": template.layout,
        "accent_color": template.accent_color,
        "logo": template.logo.name if template.logo else "",
        "header_text": template.header_text,
        "footer_text": template.footer_text,
        "terms": template.terms,
        "is_default": template.is_default,
        "archived": template.archived,
    }


def quote_templates_ensure() -> QuoteTemplate:
    """Create the built-in templates that are missing and make Classic the default when no template is; returns
    the default. Idempotent and safe to race: the unique indexes on builtin_key and the default decide."""
    with transaction.atomic():
        for key, (name, layout) in BUILTINS.items():
            try:
                with transaction.atomic():
                    QuoteTemplate.objects.get_or_create(builtin_key=key, defaults={"name": name, "layout": layout})
            except IntegrityError:
                pass  # created at the same moment by another request
        default = QuoteTemplate.objects.filter(is_default=True).first()
        if default is not None and not default.archived:
            return default
        if default is None:
            try:
                with transaction.atomic():
                    QuoteTemplate.objects.filter(builtin_key=DEFAULT_BUILTIN).update(is_default=True, archived=False)
            except IntegrityError:
                pass
        return QuoteTemplate.objects.get(is_default=True)


def quote_template_default() -> QuoteTemplate:
    """The template new quotes start with; the built-in templates are put back first where they are missing (a
    tenant whose rows were emptied), so there always is one."""
    return quote_template_default_get() or quote_templates_ensure()


def _clean(
    *, name: str, layout: str, accent_color: str, header_text: str, footer_text: str, terms: str, exclude_pk=None
) -> dict:
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = [_("Give the template a name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Keep the name under %(max)d characters.") % {"max": NAME_MAX}]
    elif QuoteTemplate.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        errors["name"] = [_("Another template is called %(name)s.") % {"name": name}]
    if layout not in QuoteLayout.values:
        errors["layout"] = [_("Choose one of the layouts.")]
    accent_color = (accent_color or "").strip()
    if accent_color and not COLOR.match(accent_color):
        errors["accent_color"] = [_("Use a colour like #0f766e.")]
    texts = {
        "header_text": ((header_text or "").strip(), HEADER_MAX),
        "footer_text": ((footer_text or "").strip(), FOOTER_MAX),
        "terms": ((terms or "").strip(), TERMS_MAX),
    }
    for field, (text, limit) in texts.items():
        if len(text) > limit:
            errors[field] = [_("Keep this under %(max)s characters.") % {"max": f"{limit:,}"}]
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "layout": layout,
        "accent_color": accent_color.lower(),
        **{field: text for field, (text, _limit) in texts.items()},
    }


def _logo_extension(logo) -> str | None:
    """The stored file's extension for an acceptable logo (checked like the Branding logo), None for no upload."""
    if logo is None:
        return None
    try:
        return logo_validate(logo)
    except ValidationError as exc:
        raise ValidationError({"logo": exc.messages}) from exc


def _logo_store(template: QuoteTemplate, upload, extension: str) -> None:
    """Store the logo under its content hash: never the uploader's file name, and a file a quote printed is never
    overwritten by a later upload (old files stay; the same logo uploaded twice is one file)."""
    upload.seek(0)
    content = upload.read()
    path = f"{LOGO_FOLDER}/{hashlib.sha256(content).hexdigest()}.{extension}"
    if default_storage.exists(path):
        template.logo.name = path
    else:
        template.logo.name = default_storage.save(path, ContentFile(content))


def quote_template_create(
    *,
    actor,
    name: str,
    layout: str = QuoteLayout.CLASSIC,
    accent_color: str = "",
    header_text: str = "",
    footer_text: str = "",
    terms: str = "",
    logo=None,
) -> QuoteTemplate:
    values = _clean(
        name=name,
        layout=layout,
        accent_color=accent_color,
        header_text=header_text,
        footer_text=footer_text,
        terms=terms,
    )
    extension = _logo_extension(logo)
    with transaction.atomic():
        template = QuoteTemplate(**values)
        if extension is not None:
            _logo_store(template, logo, extension)
        template.save()
        audit_record(
            actor=actor,
            action="billing.quote_template_created",
            obj=template,
            after=_snapshot(template),
        )
    return template


def quote_template_update(
    *,
    actor,
    template: QuoteTemplate,
    name: str,
    layout: str,
    accent_color: str = "",
    header_text: str = "",
    footer_text: str = "",
    terms: str = "",
    logo=None,
    remove_logo: bool = False,
) -> QuoteTemplate:
    """Change a template. Quotes published before keep what they printed (their publication froze it); drafts
    print the new look from their next publication."""
    values = _clean(
        name=name,
        layout=layout,
        accent_color=accent_color,
        header_text=header_text,
        footer_text=footer_text,
        terms=terms,
        exclude_pk=template.pk,
    )
    extension = _logo_extension(logo)
    with transaction.atomic():
        locked = QuoteTemplate.objects.select_for_update().get(pk=template.pk)
        before = _snapshot(locked)
        for field, value in values.items():
            setattr(locked, field, value)
        if extension is not None:
            _logo_store(locked, logo, extension)
        elif remove_logo:
            locked.logo = ""
        after = _snapshot(locked)
        if after == before:
            return locked
        locked.save()
        changed = [key for key in after if after[key] != before[key]]
        audit_record(
            actor=actor,
            action="billing.quote_template_changed",
            obj=locked,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    return locked


def quote_template_set_default(*, actor, template: QuoteTemplate) -> QuoteTemplate:
    """Make `template` the one new quotes start with. Quotes made before keep their template."""
    with transaction.atomic():
        # Every current default is locked first, so two admins choosing different defaults at once take turns and
        # the partial unique index never sees two.
        previous = list(QuoteTemplate.objects.select_for_update().filter(is_default=True))
        locked = QuoteTemplate.objects.select_for_update().get(pk=template.pk)
        if locked.archived:
            raise ValidationError(_("An archived template cannot be the default; restore it first."))
        if locked.is_default:
            return locked
        QuoteTemplate.objects.filter(is_default=True).update(is_default=False)
        QuoteTemplate.objects.filter(pk=locked.pk).update(is_default=True)
        locked.is_default = True
        audit_record(
            actor=actor,
            action="billing.quote_template_default_changed",
            obj=locked,
            before={"default": previous[0].name if previous else None},
            after={"default": locked.name},
        )
    return locked


def quote_template_archive(*, actor, template: QuoteTemplate) -> QuoteTemplate:
    """Stop offering a template for new quotes. Quotes that use it keep it; nothing is deleted."""
    with transaction.atomic():
        locked = QuoteTemplate.objects.select_for_update().get(pk=template.pk)
        if locked.is_default:
            raise ValidationError(
                _("The default template cannot be archived; make another template the default first.")
            )
        if locked.archived:
            return locked
        locked.archived = True
        locked.save(update_fields=["archived"])
        audit_record(
            actor=actor,
            action="billing.quote_template_archived",
            obj=locked,
            before={"archived": False},
            after={"archived": True, "quotes": locked.quotes.count()},
        )
    return locked


def quote_template_restore(*, actor, template: QuoteTemplate) -> QuoteTemplate:
    with transaction.atomic():
        locked = QuoteTemplate.objects.select_for_update().get(pk=template.pk)
        if not locked.archived:
            return locked
        locked.archived = False
        locked.save(update_fields=["archived"])
        audit_record(
            actor=actor,
            action="billing.quote_template_restored",
            obj=locked,
            before={"archived": True},
            after={"archived": False},
        )
    return locked
