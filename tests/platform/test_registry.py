"""Apps plug into the platform through commerce_hub.registry: a new app's AppConfig adds its menu entry, permission
and queue, and the platform picks them up without an edit of its own."""

import re
import sys
import types

import pytest
from django.apps import AppConfig
from django.contrib.auth.models import Permission
from django.test import Client

from commerce_hub import registry
from commerce_hub.accounts.apps import permissions_sync
from commerce_hub.accounts.models import Role
from commerce_hub.accounts.roles import ROLE_PERMISSIONS, permissions_for_role
from commerce_hub.celery import QUEUE_PREFIX, app, queue_names, route_for_task
from tests.conftest import user_make

READ = {
    "view_crm",
    "view_products",
    "view_quotes",
    "view_invoices",
    "view_payments",
    "view_subscriptions",
    "view_reports",
}

# The grants each role had when roles.py listed every app's permissions itself.
EXPECTED_GRANTS = {
    # Sales reps create, finalize and send the invoices of their deals (issue 11).
    Role.SALES: READ
    | {
        "edit_crm",
        "import_crm",
        "export_data",
        "edit_quotes",
        "create_invoices",
        "edit_invoices",
        "create_custom_line_items",
    },
    Role.FINANCE: READ
    | {
        "export_data",
        "manage_products",
        "create_invoices",
        "edit_invoices",
        "create_custom_line_items",
        "manage_payments",
        "manage_refunds",
        "manage_subscriptions",
    },
    Role.READ_ONLY: READ,
    Role.ADMIN: READ
    | {
        "edit_crm",
        "delete_crm",
        "import_crm",
        "export_data",
        "manage_products",
        "edit_quotes",
        "approve_quotes",  # added with quote approvals: admins approve by default
        "create_invoices",
        "edit_invoices",
        "create_custom_line_items",
        "manage_payments",
        "manage_refunds",
        "manage_subscriptions",
        "manage_settings",
        "manage_users",
        "view_audit_log",
    },
}


@pytest.mark.parametrize("role", list(EXPECTED_GRANTS))
def test_each_role_grants_what_it_granted_before_the_apps_registered_their_permissions(role):
    assert ROLE_PERMISSIONS[role] == EXPECTED_GRANTS[role]


def test_each_app_registers_its_own_permissions():
    owners = {spec.codename: spec.app for spec in registry.registered_permissions()}
    assert {code for code, app_name in owners.items() if app_name == "accounts"} == {
        "export_data",
        "manage_settings",
        "manage_users",
        "view_audit_log",
    }
    assert {code for code, app_name in owners.items() if app_name == "crm"} == {
        "view_crm",
        "edit_crm",
        "delete_crm",
        "import_crm",
    }
    assert {code for code, app_name in owners.items() if app_name == "payments"} == {"manage_refunds"}


def test_queues_routes_and_beat_come_from_the_apps():
    assert set(queue_names()) == {
        "default",
        "events",
        "email",
        "billing",
        "payments",
        "webhooks",
        "sync",
        "migrations",
    }
    routes = {
        name: (route_for_task(name, (), {}, {}) or {}).get("queue")
        for name in [
            "commerce_hub.mail.email_deliver",
            "commerce_hub.events.deliver",
            "billing.invoices_daily",
            "payments.webhooks.stripe_event",
            "payments.charge",
            "integrations.exact_sync",
            "crm.import_run",
            "commerce_hub.tenancy.schemas_migrate",
        ]
    }
    assert routes == {
        "commerce_hub.mail.email_deliver": QUEUE_PREFIX + "email",
        "commerce_hub.events.deliver": QUEUE_PREFIX + "events",
        "billing.invoices_daily": QUEUE_PREFIX + "billing",
        "payments.webhooks.stripe_event": QUEUE_PREFIX + "webhooks",
        "payments.charge": QUEUE_PREFIX + "payments",
        "integrations.exact_sync": QUEUE_PREFIX + "sync",
        "crm.import_run": None,  # the default queue
        "commerce_hub.tenancy.schemas_migrate": QUEUE_PREFIX + "migrations",
    }
    beat = registry.registered_beat()
    assert beat["billing-invoices-daily"] == {"task": "billing.invoices_daily_all_tenants", "schedule": 3600.0}
    assert beat["tenancy-spare-pool"] == {"task": "commerce_hub.tenancy.spare_pool_refill", "schedule": 300.0}
    assert beat["events-sweep-all-tenants"]["task"] == "commerce_hub.events.sweep_all_tenants"
    assert app.conf.task_default_queue == QUEUE_PREFIX + "default"


@pytest.fixture
def loyalty_app():
    """A new app, `loyalty`, that registers a menu entry, a permission, a queue and a periodic job from its
    AppConfig, exactly as crm and billing do."""
    module = types.ModuleType("loyalty")
    module.__path__ = []
    sys.modules["loyalty"] = module

    class LoyaltyConfig(AppConfig):
        name = "loyalty"
        path = "/nonexistent/loyalty"

        def ready(self):
            registry.register_permissions("loyalty", [("view_loyalty", "View loyalty points", ("finance",))])
            registry.register_nav_section(key="loyalty", label="Loyalty", order=40)
            registry.register_nav_entry(
                key="points",
                label="Points",
                section="loyalty",
                order=10,
                url_name="home",
                permission="accounts.view_loyalty",
            )
            registry.register_queue("loyalty", routes=["loyalty.*"])
            registry.register_beat("loyalty-expire", task="loyalty.points_expire", schedule=86400.0)

    saved = (
        dict(registry._permissions),
        dict(registry._nav_sections),
        dict(registry._nav_entries),
        dict(registry._queues),
        dict(registry._beat),
    )
    LoyaltyConfig("loyalty", module).ready()
    yield
    for store, before in zip(
        (registry._permissions, registry._nav_sections, registry._nav_entries, registry._queues, registry._beat),
        saved,
        strict=True,
    ):
        store.clear()
        store.update(before)
    del sys.modules["loyalty"]


def test_a_new_apps_menu_entry_permission_and_queue_appear_without_touching_the_platform(tenant_alpha, loyalty_app):
    permissions_sync(using="default")
    assert Permission.objects.filter(content_type__model="capability", codename="view_loyalty").exists()
    assert "accounts.view_loyalty" in permissions_for_role(Role.FINANCE)
    assert "accounts.view_loyalty" not in permissions_for_role(Role.SALES)
    assert "accounts.view_loyalty" in permissions_for_role(Role.ADMIN)

    assert "loyalty" in queue_names()
    assert route_for_task("loyalty.points_expire", (), {}, {}) == {"queue": QUEUE_PREFIX + "loyalty"}
    assert registry.registered_beat()["loyalty-expire"]["task"] == "loyalty.points_expire"

    finance = Client(HTTP_HOST="alpha.localhost")
    finance.force_login(user_make(Role.FINANCE))
    sales = Client(HTTP_HOST="alpha.localhost")
    sales.force_login(user_make(Role.SALES))
    assert ("Loyalty", "Points", "/") in nav_of(finance.get("/crm/companies/").content.decode())
    assert not any(item[0] == "Loyalty" for item in nav_of(sales.get("/crm/companies/").content.decode()))


def nav_of(html: str) -> list[tuple[str, str, str]]:
    """(section heading, link text, href) of each link in the main navigation."""
    nav = html.split("<nav>", 1)[1].split("</nav>", 1)[0]
    items, heading = [], ""
    for match in re.finditer(r'<p class="nav-heading">([^<]*)</p>|<a href="([^"]*)"[^>]*>([^<]*)</a>', nav):
        if match.group(1) is not None:
            heading = match.group(1)
        else:
            items.append((heading, match.group(3), match.group(2)))
    return items


CRM = [
    ("CRM", "Contacts", "/crm/contacts/"),
    ("CRM", "Companies", "/crm/companies/"),
    ("CRM", "Deals", "/crm/deals/"),
    ("CRM", "Lists", "/crm/lists/"),
]
COMMERCE = [
    ("Commerce", "Products", "/billing/products/"),
    ("Commerce", "Quotes", "/billing/quotes/"),
    ("Commerce", "Invoices", "/billing/invoices/"),
    ("Commerce", "Payment links", "/billing/payment-links/"),
    ("Commerce", "Subscriptions", "/billing/subscriptions/"),
    ("Commerce", "Payments", "/payments/"),
    ("Commerce", "Payouts", "/payments/payouts/"),
    ("Commerce", "Exports", "/integrations/exports/"),
]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            Role.ADMIN,
            [
                ("", "Home", "/"),
                *CRM,
                ("CRM", "Imports", "/crm/import/"),
                ("CRM", "Tasks", "/crm/tasks/"),
                *COMMERCE,
                ("Admin", "Settings", "/settings/company/"),
            ],
        ),
        (
            Role.SALES,
            [
                ("", "Home", "/"),
                *CRM,
                ("CRM", "Imports", "/crm/import/"),
                ("CRM", "Tasks", "/crm/tasks/"),
                *COMMERCE,
            ],
        ),
        (Role.FINANCE, [("", "Home", "/"), *CRM, ("CRM", "Tasks", "/crm/tasks/"), *COMMERCE]),
        (Role.READ_ONLY, [("", "Home", "/"), *CRM, ("CRM", "Tasks", "/crm/tasks/"), *COMMERCE]),
    ],
)
def test_the_shell_shows_each_role_the_menu_it_had(tenant_alpha, role, expected):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    assert nav_of(client.get("/").content.decode()) == expected


def test_a_user_granted_only_the_audit_log_gets_settings_opening_the_audit_log(tenant_alpha):
    user = user_make(Role.READ_ONLY)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_log"))
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user)
    assert ("Admin", "Settings", "/settings/audit/") in nav_of(client.get("/").content.decode())


def test_the_active_page_is_highlighted(tenant_alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.ADMIN))
    html = client.get("/billing/invoices/").content.decode()
    assert '<a href="/billing/invoices/" class="active">Invoices</a>' in html
    assert '<a href="/" class="">Home</a>' in html


def tabs_of(html: str) -> list[tuple[str, str]]:
    tabs = html.split('<nav class="tabs"', 1)[1].split("</nav>", 1)[0]
    return [(m.group(2), m.group(1)) for m in re.finditer(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', tabs)]


def test_the_settings_pages_show_the_tabs_each_app_registered(tenant_alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.ADMIN))
    html = client.get("/settings/company/").content.decode()
    assert tabs_of(html) == [
        ("Company profile", "/settings/company/"),
        ("Branding", "/settings/branding/"),
        ("Pipelines", "/crm/settings/pipelines/"),
        ("Lifecycle stages", "/crm/settings/lifecycle-stages/"),
        ("Properties", "/crm/settings/properties/"),
        ("Exchange rates", "/billing/settings/exchange-rates/"),
        ("Tax rates", "/billing/settings/tax-rates/"),
        ("Invoices", "/billing/invoices/settings/"),
        ("Quotes", "/billing/quotes/settings/"),
        ("Subscriptions", "/billing/subscriptions/settings/"),
        ("Payments", "/payments/settings/"),
        ("E-invoicing", "/integrations/exports/settings/"),
        ("Exact Online", "/integrations/exact/"),
        ("Users", "/settings/users/"),
        ("Security", "/settings/security/"),
        ("Audit log", "/settings/audit/"),
        ("Event deliveries", "/settings/events/"),
    ]
    assert '<a href="/settings/company/" aria-current="page">Company profile</a>' in html


def test_someone_who_may_only_read_the_audit_log_sees_only_its_tabs(tenant_alpha):
    user = user_make(Role.READ_ONLY)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_log"))
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user)
    html = client.get("/settings/audit/").content.decode()
    assert tabs_of(html) == [("Audit log", "/settings/audit/"), ("Event deliveries", "/settings/events/")]
