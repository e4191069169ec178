from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SecurityPolicy(models.Model):
    """The tenant's security settings: one row per tenant schema (pk 1), created on first read."""

    idle_timeout_minutes = models.PositiveIntegerField(
        _("sign out after inactivity (minutes)"),
        default=12 * 60,
        validators=[MinValueValidator(5), MaxValueValidator(7 * 24 * 60)],
    )
    require_two_factor_for_admins_and_finance = models.BooleanField(
        _("require two-factor authentication for admins and finance"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return "security policy"


class UserSession(models.Model):
    """A signed-in session of a user, so the user can see where they are signed in and sign out the others.

    The session itself stays in Django's session store; this row names its key. Rows of sessions that ended are
    removed when the session is signed out, and skipped (the store no longer has them) otherwise."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"session of {self.user_id}"
