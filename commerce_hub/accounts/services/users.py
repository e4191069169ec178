import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commerce_hub.accounts.models import Invitation, Role, User
from commerce_hub.accounts.models.invitations import token_hash
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events import catalogue as events
from commerce_hub.events.services import event_emit
from commerce_hub.mail import email_queue


def _user_snapshot(user: User) -> dict:
    return {"email": user.email, "full_name": user.full_name, "role": user.role, "is_active": user.is_active}


def user_create(*, email: str, full_name: str, password: str, role: str, actor, language: str = "en") -> User:
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("A user with this email already exists.")})
    user = User(email=email, full_name=full_name.strip(), role=role, language=language)
    password_validation.validate_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        try:
            user.save()
        except IntegrityError as exc:  # a concurrent create of the same address
            raise ValidationError({"email": _("A user with this email already exists.")}) from exc
        audit_record(actor=actor, action="user.created", obj=user, after=_user_snapshot(user))
        event_emit(name=events.USER_CREATED, payload={"user_id": user.pk, "role": user.role})
    return user


def user_set_role(*, user: User, role: str, actor: User) -> User:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.role == role:
            return locked
        if locked.role == Role.ADMIN and role != Role.ADMIN:
            _ensure_another_active_admin(locked)
        before = _user_snapshot(locked)
        locked.role = role
        locked.save(update_fields=["role"])
        audit_record(actor=actor, action="user.role_changed", obj=locked, before=before, after=_user_snapshot(locked))
    return locked


def user_deactivate(*, user: User, actor: User) -> User:
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            return locked
        if locked.role == Role.ADMIN:
            _ensure_another_active_admin(locked)
        before = _user_snapshot(locked)
        locked.is_active = False
        locked.deactivated_at = timezone.now()
        locked.save(update_fields=["is_active", "deactivated_at"])
        audit_record(actor=actor, action="user.deactivated", obj=locked, before=before, after=_user_snapshot(locked))
        event_emit(name=events.USER_DEACTIVATED, payload={"user_id": locked.pk})
    # Sessions are per schema; ending them signs the user out everywhere at once.
    _end_sessions_of(locked)
    return locked


def user_reactivate(*, user: User, actor: User) -> User:
    with transaction.atomic():
        updated = User.objects.filter(pk=user.pk, is_active=False).update(is_active=True, deactivated_at=None)
        user.refresh_from_db()
        if updated:
            audit_record(actor=actor, action="user.reactivated", obj=user, after=_user_snapshot(user))
    return user


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language."))
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


def _ensure_another_active_admin(user: User) -> None:
    # Locks the other admins too, so two admins demoting each other at once cannot leave none.
    others = list(User.objects.select_for_update().filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk))
    if not others:
        raise ValidationError(_("This is the last active admin. Make someone else an admin first."))


def _end_sessions_of(user: User) -> None:
    from django.contrib.sessions.models import Session

    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()


def user_invite(*, email: str, full_name: str, role: str, actor: User, accept_url_for) -> Invitation:
    """Invite someone by email. `accept_url_for(token)` builds the absolute link; only the token's hash is stored."""
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("A user with this email already exists.")})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        Invitation.objects.filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        invitation = _invitation_insert(
            email=email,
            full_name=full_name.strip(),
            role=role,
            token_hash=token_hash(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        audit_record(
            actor=actor,
            action="user.invited",
            obj=invitation,
            object_repr=email,
            after={"email": email, "role": role},
        )
        event_emit(name=events.USER_INVITED, payload={"invitation_id": invitation.pk, "role": role})
        email_queue(
            to=email,
            name="invitation",
            context={
                "invitation": invitation,
                "inviter": actor,
                "accept_url": accept_url_for(token),
                "valid_days": settings.INVITATION_VALID_DAYS,
            },
            language=actor.language,
        )
    return invitation


def _invitation_insert(**fields) -> Invitation:
    try:
        with transaction.atomic():
            return Invitation.objects.create(**fields)
    except IntegrityError as exc:  # another admin invited the same address at the same moment
        raise ValidationError({"email": [_("An invitation to this address was just sent.")]}) from exc


def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    with transaction.atomic():
        if Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        ):
            audit_record(actor=actor, action="user.invitation_revoked", obj=invitation, object_repr=invitation.email)


def invitation_get_open(token: str) -> Invitation | None:
    invitation = Invitation.objects.filter(token_hash=token_hash(token)).first()
    return invitation if invitation is not None and invitation.is_open else None


def invitation_accept(*, token: str, full_name: str, password: str, language: str = "en") -> User:
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(token_hash=token_hash(token)).first()
        if invitation is None or not invitation.is_open:
            raise ValidationError(_("This invitation is no longer valid. Ask your admin for a new one."))
        user = user_create(
            email=invitation.email,
            full_name=full_name,
            password=password,
            role=invitation.role,
            actor=None,
            language=language,
        )
        # Conditional update: a double submit of the same link creates one user, not two.
        Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(accepted_at=timezone.now())
        audit_record(actor=user, action="user.invitation_accepted", obj=invitation, object_repr=invitation.email)
    return user
