"""Saving and deleting views of index pages."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.saved_views import SavedViewIndex
from commerce_hub.saved_views.models import SavedView

# What a saved view must not carry: the page cursor and the view selector itself.
_TRANSIENT = ("after", "view", "csrfmiddlewaretoken")


def saved_view_create(*, index: SavedViewIndex, name: str, query: str, shared: bool, actor) -> SavedView:
    params = QueryDict(query, mutable=True)
    for key in _TRANSIENT:
        params.pop(key, None)
    name, query = name.strip(), params.urlencode()
    if not name:
        raise ValidationError({"name": [_("Give the view a name.")]})
    if len(query) > SavedView._meta.get_field("query").max_length:
        raise ValidationError({"name": [_("This view has too many filters to save; remove some first.")]})
    if shared and not actor.has_perm(index.share_perm):
        raise ValidationError({"shared": [_("Your role cannot share views with the team.")]})
    owner = None if shared else actor
    with transaction.atomic():
        # Two saves of the same name racing both pass this check; a duplicate name is harmless, so no lock.
        if SavedView.objects.filter(index=index.name, name__iexact=name, owner=owner).exists():
            raise ValidationError({"name": [_("You already have a view with this name.")]})
        view = SavedView.objects.create(index=index.name, name=name, owner=owner, query=query, created_by=actor)
        if shared:
            audit_record(actor=actor, action=f"{index.audit_prefix}.view_shared", obj=view)
    return view


def saved_view_check_delete(*, view: SavedView, actor) -> None:
    """Your own views are yours to delete; shared views need their creator or someone who manages settings."""
    if view.owner_id is None and view.created_by_id != actor.pk and not actor.has_perm("accounts.manage_settings"):
        raise ValidationError(_("Only its creator or an admin can delete a shared view."))
    if view.owner_id is not None and view.owner_id != actor.pk:
        raise ValidationError(_("This view belongs to someone else."))


def saved_view_delete(*, index: SavedViewIndex, view: SavedView, actor) -> None:
    saved_view_check_delete(view=view, actor=actor)
    with transaction.atomic():
        audit_record(actor=actor, action=f"{index.audit_prefix}.view_deleted", obj=view)
        view.delete()
