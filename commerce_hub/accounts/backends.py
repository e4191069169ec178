from django.contrib.auth.backends import ModelBackend

from commerce_hub.accounts.roles import permissions_for_role


class RoleBackend(ModelBackend):
    """Email and password login; permissions are the user's role plus any granted one by one."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_role_perm_cache"):
            user_obj._role_perm_cache = set(permissions_for_role(user_obj.role))
        return super().get_all_permissions(user_obj, obj) | user_obj._role_perm_cache
