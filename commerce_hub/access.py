"""Permission checks and access-checked getters. Every view goes through these.

Another tenant's rows are not in this schema at all, so a foreign id is a plain 404; the permission check turns a
row that exists but is not for this user into a 403.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404


class MissingPermission(PermissionDenied):
    """A 403 for a permission the user's role lacks: the 403 page names it and who can grant it."""

    def __init__(self, perms):
        super().__init__("")
        self.perms = list(perms)


def require_perm(*perms: str):
    """Signed-out users go to the login page; signed-in users without every permission get a 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perms(perms):
                raise MissingPermission([p for p in perms if not request.user.has_perm(p)])
            return view(request, *args, **kwargs)

        wrapped.required_perms = perms
        return wrapped

    return decorator


def get_for_user(user, queryset, perm: str, **lookup):
    if not user.has_perm(perm):
        raise MissingPermission([perm])
    return get_object_or_404(queryset, **lookup)
