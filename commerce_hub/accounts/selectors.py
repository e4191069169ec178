from django.db.models import QuerySet

from commerce_hub.accounts.models import AuditEntry, Invitation, User


def user_list() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "full_name", "id")


def invitation_list_open() -> QuerySet[Invitation]:
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).select_related("invited_by")


def audit_entries_for_user(user: User, *, limit: int = 20) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type="accounts.user", object_id=str(user.pk))[:limit])


def users_with_permission(codename: str) -> list[User]:
    """Active users who hold `codename` ("accounts.manage_payments") through their role or a grant of their own:
    who gets the emails about what that permission lets them act on."""
    users = User.objects.filter(is_active=True).exclude(email="").order_by("pk")
    return [user for user in users.iterator() if user.has_perm(codename)]
