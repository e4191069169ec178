import pytest
from django.test import Client

from commerce_hub.accounts.models import Role
from commerce_hub.accounts.roles import ALL_CODENAMES, ROLE_PERMISSIONS
from tests.conftest import user_make
from tests.platform.urlwalk import fill, tenant_routes

# Pages a signed-out visitor may open: signing in and the links that arrive by email.
OPEN_ROUTES = {
    "accounts:login",
    # The second sign-in step: it answers only to a session that passed the password (tests/platform/test_hardening).
    "accounts:login_verify",
    "accounts:logout",
    "accounts:welcome",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:invitation_accept",
    "language_set",
    # The buyer's hosted invoice page and its PDF: the unguessable token is the key (tests/billing/test_invoice_pages).
    "billing:invoice_hosted",
    "billing:invoice_hosted_pdf",
    # The buyer's hosted quote page, its PDFs, signing, accepting and declining (tests/billing/test_quote_*).
    "billing:quote_hosted",
    "billing:quote_hosted_pdf",
    "billing:quote_hosted_signed_pdf",
    "billing:quote_sign_code",
    "billing:quote_sign_verify",
    "billing:quote_sign",
    "billing:quote_accept",
    "billing:quote_decline",
    # The buyer's checkout and the built-in processor's simulated bank pages, keyed by the same kind of token
    # (tests/payments/test_checkout.py, test_simulator.py).
    "payments:checkout",
    "payments:checkout_returned",
    "payments:checkout_payment",
    "payments:checkout_cancel",
    "payments:simulator",
    # A payment link's buyer page and its thank-you page (tests/billing/test_payment_link_checkout.py), and the
    # page where a buyer whose charge failed enters a new card (tests/payments/test_subscription_method_page.py).
    "billing:payment_link_hosted",
    "billing:payment_link_done",
    "payments:subscription_method",
}


def test_every_other_route_sends_signed_out_visitors_to_login(client_alpha):
    routes = [r for r in tenant_routes() if r.name not in OPEN_ROUTES]
    assert len(routes) >= 20
    for route in routes:
        path = fill(route, lambda _n, _c: 1)
        response = client_alpha.get(path)
        assert response.status_code in (302, 405), f"{path}: {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith("/login/?next="), path


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        (Role.READ_ONLY, "/settings/company/", 403),
        (Role.READ_ONLY, "/settings/users/", 403),
        (Role.READ_ONLY, "/settings/audit/", 403),
        (Role.READ_ONLY, "/crm/companies/", 200),
        (Role.READ_ONLY, "/billing/invoices/", 200),
        (Role.SALES, "/settings/branding/", 403),
        (Role.SALES, "/crm/deals/", 200),
        (Role.SALES, "/billing/quotes/", 200),
        (Role.FINANCE, "/payments/", 200),
        (Role.FINANCE, "/settings/users/", 403),
        (Role.ADMIN, "/settings/users/", 200),
        (Role.ADMIN, "/settings/events/", 200),
    ],
)
def test_roles_open_exactly_their_pages(tenant_alpha, role, path, status):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    response = client.get(path)
    assert response.status_code == status
    if status == 403:
        assert "Your role does not include the permission" in response.content.decode()


def test_a_403_names_the_missing_permission_and_the_admins_who_can_grant_it(tenant_alpha):
    user_make(Role.ADMIN, full_name="Anna Admin")
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.SALES))
    page = client.get("/settings/users/").content.decode()
    assert "Your role does not include the permission “Invite, deactivate and assign roles to users”." in page
    assert "The admins of this workspace can grant it by changing your role: Anna Admin." in page
    assert "Your role does not allow this" not in page
    htmx = client.get("/settings/users/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 403 and "<html" not in htmx.content.decode()
    assert "data-error-message>Your role does not include the permission" in htmx.content.decode()


def test_role_permissions_are_the_documented_sets(tenant_alpha):
    sales, finance, viewer = user_make(Role.SALES), user_make(Role.FINANCE), user_make(Role.READ_ONLY)
    assert sales.has_perm("accounts.create_custom_line_items")
    assert not sales.has_perm("accounts.manage_refunds")
    assert sales.has_perms(["accounts.create_invoices", "accounts.edit_invoices"])
    assert not sales.has_perm("accounts.manage_payments")
    assert finance.has_perms(
        [
            "accounts.view_invoices",
            "accounts.create_invoices",
            "accounts.edit_invoices",
            "accounts.manage_payments",
            "accounts.manage_refunds",
        ]
    )
    assert not finance.has_perm("accounts.manage_settings")
    assert viewer.get_all_permissions() == {f"accounts.{c}" for c in ROLE_PERMISSIONS[Role.READ_ONLY]}
    assert not any(viewer.has_perm(f"accounts.{c}") for c in ["edit_crm", "manage_payments", "manage_users"])
    assert ROLE_PERMISSIONS[Role.ADMIN] == ALL_CODENAMES


def test_deactivated_user_has_no_permissions(tenant_alpha):
    user = user_make(Role.ADMIN, is_active=False)
    assert user.get_all_permissions() == set()


def test_permission_rows_exist_for_every_codename(tenant_alpha):
    from django.contrib.auth.models import Permission

    codenames = set(
        Permission.objects.filter(content_type__app_label="accounts", content_type__model="capability").values_list(
            "codename", flat=True
        )
    )
    assert codenames == set(ALL_CODENAMES)
