from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceHubConfig(AppConfig):
    """The platform package: shared templates tags, management commands and helpers for every app."""

    name = "commerce_hub"
    verbose_name = "Commerce Hub"

    def ready(self):
        from commerce_hub import registry

        registry.register_queue("default")
        registry.register_queue("email", routes=["commerce_hub.mail.*"])

        # The menu's frame: Home on top, Admin at the bottom; apps add their sections between (orders 10-90).
        registry.register_nav_section(key="home", label="", order=0)
        registry.register_nav_section(key="admin", label=_("Admin"), order=100)
        registry.register_nav_entry(
            key="home", label=_("Home"), section="home", order=0, url_name="home", is_default=True
        )
        registry.register_nav_entry(
            key="settings",
            label=_("Settings"),
            section="admin",
            order=10,
            targets=[
                ("accounts.manage_settings", "organization:profile"),
                ("accounts.manage_users", "accounts:users"),
                ("accounts.view_audit_log", "accounts:audit_log"),
            ],
        )
