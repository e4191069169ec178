from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events import catalogue as events
from commerce_hub.events.services import event_emit
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.organization.selectors import organization_profile_forget
from commerce_hub.validators import registration_number_normalize, vat_number_normalize

PROFILE_FIELDS = [
    "legal_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "vat_number",
    "registration_number",
    "default_currency",
    "timezone",
    "language",
]
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
LOGO_MAX_PIXELS = 4000


def _snapshot(profile: OrganizationProfile) -> dict:
    return {name: getattr(profile, name) for name in PROFILE_FIELDS + ["accent_color"]} | {"logo": profile.logo.name}


def organization_profile_initialize(*, legal_name: str) -> OrganizationProfile:
    profile, _created = OrganizationProfile.objects.get_or_create(pk=1, defaults={"legal_name": legal_name})
    return profile


def organization_profile_update(*, actor, data: dict) -> OrganizationProfile:
    """Update the company profile. VAT and registration numbers are checked against the country's rules."""
    errors = {}
    country = data.get("country", "")
    try:
        data["vat_number"] = vat_number_normalize(data.get("vat_number", ""), country)
    except ValidationError as exc:
        errors["vat_number"] = exc.messages
    try:
        data["registration_number"] = registration_number_normalize(data.get("registration_number", ""), country)
    except ValidationError as exc:
        errors["registration_number"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        profile, _created = OrganizationProfile.objects.select_for_update().get_or_create(
            pk=1, defaults={"legal_name": data.get("legal_name", "")}
        )
        before = _snapshot(profile)
        for name in PROFILE_FIELDS:
            if name in data:
                setattr(profile, name, data[name])
        profile.full_clean(exclude=["logo"])
        profile.save()
        audit_record(
            actor=actor,
            action="settings.profile_updated",
            obj=profile,
            before=before,
            after=_snapshot(profile),
        )
        event_emit(
            name=events.ORGANIZATION_UPDATED,
            payload={"fields": sorted(k for k in before if before[k] != _snapshot(profile)[k])},
        )
        transaction.on_commit(organization_profile_forget)
    return profile


def logo_validate(upload) -> str:
    """Return the file extension for an acceptable logo, or raise with the reason."""
    if upload.size > settings.LOGO_MAX_BYTES:
        raise ValidationError(
            _("The logo is %(size)d KB; the limit is %(limit)d KB.")
            % {"size": upload.size // 1024, "limit": settings.LOGO_MAX_BYTES // 1024}
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(_("Upload a PNG, JPEG or WebP image.")) from exc
    finally:
        upload.seek(0)
    if image_format not in LOGO_FORMATS:
        raise ValidationError(_("Upload a PNG, JPEG or WebP image."))
    if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
        raise ValidationError(_("Use an image of at most %(max)d × %(max)d pixels.") % {"max": LOGO_MAX_PIXELS})
    return LOGO_FORMATS[image_format]


def branding_update(*, actor, accent_color: str, logo=None, remove_logo: bool = False) -> OrganizationProfile:
    extension = logo_validate(logo) if logo is not None else None
    with transaction.atomic():
        profile = OrganizationProfile.objects.select_for_update().get(pk=1)
        before = _snapshot(profile)
        profile.accent_color = accent_color
        profile.full_clean(exclude=["logo"])
        old_logo = profile.logo.name
        if logo is not None:
            # The stored name is ours, never the uploader's (no path tricks, no misleading extensions).
            profile.logo.save(f"logo.{extension}", logo, save=False)
        elif remove_logo:
            profile.logo = ""
        profile.save()
        audit_record(
            actor=actor,
            action="settings.branding_updated",
            obj=profile,
            before=before,
            after=_snapshot(profile),
        )
        if old_logo and old_logo != profile.logo.name:
            storage = profile.logo.storage
            transaction.on_commit(lambda: storage.delete(old_logo))
        transaction.on_commit(organization_profile_forget)
    return profile
