"""The one-time sign-in link a new tenant's admin follows right after signup (tenancy makes it, accounts reads it)."""

from django.core import signing
from django.db import connection

# The salt keeps its first name so links made before it moved here still open.
WELCOME_SALT = "commerce_hub.tenancy.welcome"
# Emailed to confirm the address before the workspace opens: two days to find it.
WELCOME_MAX_AGE_SECONDS = 48 * 3600


def welcome_token_make(user) -> str:
    """A short-lived sign-in link for the admin who just signed up.

    Bound to the tenant's schema (every cloned schema numbers its users from 1, so a user id alone would sign
    someone in to another tenant) and to the user's last_login, so the link stops working once used.
    """
    return signing.TimestampSigner(salt=WELCOME_SALT).sign_object(
        {"s": connection.schema_name, "uid": user.pk, "ll": user.last_login.isoformat() if user.last_login else ""}
    )


def welcome_token_user(token: str):
    from commerce_hub.accounts.models import User

    try:
        data = signing.TimestampSigner(salt=WELCOME_SALT).unsign_object(token, max_age=WELCOME_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if data.get("s") != connection.schema_name:
        return None
    user = User.objects.filter(pk=data.get("uid"), is_active=True).first()
    if user is None:
        return None
    last_login = user.last_login.isoformat() if user.last_login else ""
    return user if last_login == data.get("ll") else None
