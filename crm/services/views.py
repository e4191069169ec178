"""Saved index views and exports."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from commerce_hub.accounts.services.audit import audit_record
from crm.models import SavedView

# What a saved view must not carry: the page cursor and the view selector itself.
_TRANSIENT = ("after", "view", "csrfmiddlewaretoken")


def saved_view_create(*, object_type: str, name: str, query: str, shared: bool, actor) -> SavedView:
    params = QueryDict(query, mutable=True)
    for key in _TRANSIENT:
        params.pop(key, None)
    name = name.strip()
    query = params.urlencode()
    if len(query) > SavedView._meta.get_field("query").max_length:
        raise ValidationError({"name": [_("This view has too many filters to save; remove some first.")]})
    if shared and not actor.has_perm("accounts.edit_crm"):
        raise ValidationError({"shared": [_("Your role cannot share views with the team.")]})
    owner = None if shared else actor
    with transaction.atomic():
        clash = SavedView.objects.filter(object_type=object_type, name__iexact=name, owner=owner)
        if clash.exists():
            raise ValidationError({"name": [_("You already have a view with this name.")]})
        view = SavedView.objects.create(object_type=object_type, name=name, owner=owner, query=query, created_by=actor)
        if shared:
            audit_record(actor=actor, action="crm.view_shared", obj=view)
    return view


def saved_view_delete(*, view: SavedView, actor) -> None:
    """Your own views are yours to delete; shared views need someone who manages settings (or made it)."""
    if view.owner_id is None and view.created_by_id != actor.pk and not actor.has_perm("accounts.manage_settings"):
        raise ValidationError(_("Only its creator or an admin can delete a shared view."))
    if view.owner_id is not None and view.owner_id != actor.pk:
        raise ValidationError(_("This view belongs to someone else."))
    with transaction.atomic():
        audit_record(actor=actor, action="crm.view_deleted", obj=view)
        view.delete()
