"""Everything the Exact Online connector adds to the platform, called from IntegrationsConfig.ready()."""

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from commerce_hub import registry
    from integrations.exact import handlers, panel, tasks  # noqa: F401 - registers the handlers and tasks

    registry.register_urls("integrations/exact/", "integrations.exact.urls")
    registry.register_settings_tab(
        key="exact", label=_("Exact Online"), order=95, url_name="exact:settings", permission="accounts.manage_settings"
    )
    # Payment status comes back from Exact every ten minutes: a few calls per tenant, far inside 60 a minute.
    registry.register_beat(
        "integrations-exact-receivables", task="integrations.exact.receivables_pull_all_tenants", schedule=600.0
    )
    panel.register()
