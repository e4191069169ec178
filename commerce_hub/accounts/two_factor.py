"""Two-factor authentication with TOTP (django-otp) and single-use recovery codes (django-otp's static device).

A user has at most one authenticator (a TOTP device named "authenticator") and one set of ten recovery codes. Setup
creates an unconfirmed device, shows its QR code, and confirms it with a first valid code; only then do the recovery
codes exist, shown once. Sign-in then asks for a code from either device (a recovery code is used up).
"""

import base64
from urllib.parse import quote, urlencode

import segno
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from commerce_hub.accounts.models import Role

DEVICE_NAME = "authenticator"
RECOVERY_CODE_COUNT = 10
SESSION_VERIFIED = "_ch_2fa_ok"


def user_has_two_factor(user) -> bool:
    return user.is_authenticated and user_has_device(user, confirmed=True)


def two_factor_required_for(user) -> bool:
    from commerce_hub.accounts.policy import security_policy

    return (
        user.is_authenticated
        and user.role in (Role.ADMIN, Role.FINANCE)
        and security_policy().require_two_factor_for_admins_and_finance
    )


def totp_device_pending(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=DEVICE_NAME).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def totp_secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def totp_config_url(device: TOTPDevice, *, issuer: str) -> str:
    """The otpauth:// URL authenticator apps read (Key Uri Format), labelled with the workspace and the email."""
    issuer = issuer.replace(":", "").strip() or "Commerce Hub"
    label = quote(f"{issuer}:{device.user.email}")
    params = urlencode(
        {
            "secret": totp_secret_base32(device),
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
            "issuer": issuer,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{params}"


def totp_qr_data_uri(device: TOTPDevice, *, issuer: str) -> str:
    return segno.make(totp_config_url(device, issuer=issuer), error="m").svg_data_uri(scale=4)


def totp_confirm(*, user, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the pending device with a valid code. Returns the new recovery codes, or None for a wrong code."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if device.confirmed or not device.verify_token(token):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        return recovery_codes_regenerate(user)


def recovery_codes_regenerate(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def token_verify(user, token: str) -> bool:
    """A valid code from the authenticator, or an unused recovery code (which is then used up)."""
    token = (token or "").strip().lower()
    if not token:
        return False
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(token):
                return True
    return False


def two_factor_remove(user) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


def session_mark_verified(request) -> None:
    request.session[SESSION_VERIFIED] = True
