from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "commerce_hub.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from commerce_hub.accounts.roles import PLATFORM_PERMISSIONS
        from commerce_hub.registry import register_permissions, register_settings_tab

        register_permissions("accounts", PLATFORM_PERMISSIONS)
        register_settings_tab(
            key="users", label=_("Users"), order=900, url_name="accounts:users", permission="accounts.manage_users"
        )
        register_settings_tab(
            key="security",
            label=_("Security"),
            order=905,
            url_name="accounts:security_settings",
            permission="accounts.manage_settings",
        )
        register_settings_tab(
            key="audit",
            label=_("Audit log"),
            order=910,
            url_name="accounts:audit_log",
            permission="accounts.view_audit_log",
        )
        user_logged_in.connect(_session_stamp, dispatch_uid="accounts.session_stamp")
        user_logged_out.connect(_session_forget, dispatch_uid="accounts.session_forget")
        post_migrate.connect(permissions_sync, sender=self, dispatch_uid="accounts.permissions_sync")


def _session_stamp(sender, request, user, **_kwargs):
    from commerce_hub.accounts.sessions import session_stamp_login

    if request is not None and hasattr(request, "session"):
        session_stamp_login(request, user)


def _session_forget(sender, request, user, **_kwargs):
    from commerce_hub.accounts.sessions import session_forget

    if request is not None and hasattr(request, "session"):
        session_forget(request.session.session_key)


def permissions_sync(*, using="default", apps=None, **_kwargs):
    """Create the permission row of every registered permission on the Capability model, in the schema just migrated.

    Django creates the rows a model declares in Meta.permissions; the apps' permissions are registered at runtime,
    so they are created here, after every migrate of every schema (the tenant template included, which new tenants
    are cloned from). Labels follow the code."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from commerce_hub.accounts.models import Capability
    from commerce_hub.accounts.roles import all_permissions

    # The content type cache is per database alias, not per schema: each schema has its own rows.
    ContentType.objects.clear_cache()
    content_type = ContentType.objects.db_manager(using).get_for_model(Capability, for_concrete_model=False)
    wanted = dict(all_permissions())
    existing = dict(
        Permission.objects.using(using)
        .filter(content_type=content_type, codename__in=wanted)
        .values_list("codename", "name")
    )
    missing = [code for code in wanted if code not in existing]
    Permission.objects.using(using).bulk_create(
        [Permission(content_type=content_type, codename=code, name=wanted[code]) for code in missing]
    )
    for code, name in wanted.items():
        if code in existing and existing[code] != name:
            Permission.objects.using(using).filter(content_type=content_type, codename=code).update(name=name)
    ContentType.objects.clear_cache()
