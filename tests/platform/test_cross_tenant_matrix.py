"""Signed in to tenant Alpha, ask for every object of tenant Bravo through every route that takes an id.

Every answer is 403 or 404, and not one byte of Bravo's data comes back. Routes added by later features join the
matrix by themselves, because it walks the URLconf.
"""

import secrets

import pytest
from django.db import connection
from django.urls.converters import IntConverter
from django_tenants.utils import schema_context

from commerce_hub.accounts.models import AuditEntry, Invitation, Role, User
from commerce_hub.accounts.models.invitations import token_hash
from commerce_hub.events.models import Delivery, OutboxEvent
from crm.models import Company, Contact, Deal, Pipeline, Stage
from tests.platform.urlwalk import fill, tenant_routes

SECRET = "BRAVO-SECRET-7f3a"


def _bravo_objects():
    """Bravo's objects of every kind, with ids that Alpha does not use, and a marker in every text."""
    with connection.cursor() as cursor:
        for i, table in enumerate(
            [
                "crm_company",
                "crm_contact",
                "crm_deal",
                "accounts_user",
                "accounts_invitation",
                "events_outboxevent",
                "events_delivery",
                "accounts_auditentry",
                "crm_pipeline",
                "crm_stage",
                "billing_invoice",
                "billing_creditnote",
            ]
        ):
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, 900000 + 1000 * i])
    pipeline = Pipeline.objects.create(name=f"{SECRET} pipeline")
    Stage.objects.create(pipeline=pipeline, name=f"{SECRET} stage", probability=50)
    user = User.objects.create_user(
        email="boss@bravo.example", password="x" * 12, full_name=f"{SECRET} Boss", role=Role.ADMIN
    )
    company = Company.objects.create(name=f"{SECRET} Fjord AS", country="NO", currency="NOK")
    contact = Contact.objects.create(
        first_name=SECRET, last_name="Nordmann", email="ola@bravo.example", company=company
    )
    deal = Deal.objects.create(
        name=f"{SECRET} deal",
        pipeline=pipeline,
        stage=pipeline.stages.first(),
        company=company,
        amount=1000,
        amount_currency="NOK",
    )
    token = secrets.token_urlsafe(32)
    from django.utils import timezone

    invitation = Invitation.objects.create(
        email="new@bravo.example",
        full_name=SECRET,
        role=Role.SALES,
        token_hash=token_hash(token),
        expires_at=timezone.now() + timezone.timedelta(days=7),
    )
    event = OutboxEvent.objects.create(name="test.secret", payload={"secret": SECRET})
    delivery = Delivery.objects.create(
        event=event, handler="tests.nothing", status=Delivery.Status.FAILED, last_error=SECRET
    )
    entry = AuditEntry.objects.create(action="test.secret", object_repr=SECRET)
    invoice, credit_note = _bravo_invoice(company, contact)
    ids = sorted(
        {
            o.pk
            for o in [user, company, contact, deal, invitation, event, delivery, entry, pipeline, invoice, credit_note]
        }
    )
    return ids, [token, invoice.public_token]


def _bravo_invoice(company, contact):
    from decimal import Decimal

    from billing.models import LineItem
    from billing.services.credit_notes import credit_note_create
    from billing.services.invoices import invoice_create, invoice_finalize

    invoice = invoice_create(actor=None, company=company, contacts=[contact], currency="NOK")
    LineItem.objects.create(invoice=invoice, name=f"{SECRET} line", unit_price=Decimal("100"), currency="NOK")
    invoice = invoice_finalize(invoice=invoice, actor=None)
    return invoice, credit_note_create(invoice=invoice, actor=None, amounts=[], lines=[], whole=True)


@pytest.fixture
def bravo(tenant_bravo, tenant_alpha):
    with schema_context(tenant_bravo.schema_name):
        ids, tokens = _bravo_objects()
    connection.set_tenant(tenant_alpha)
    return ids, tokens


def test_no_route_of_alpha_serves_bravo_objects(admin_client, bravo):
    ids, tokens = bravo
    # Routes whose parameters name an object (an id or a token); a fixed vocabulary like "companies" is not one.
    routes = [r for r in tenant_routes() if any(getattr(c, "example", None) is None for c in r.converters.values())]
    assert any(isinstance(c, IntConverter) for r in routes for c in r.converters.values()), "no id routes found"
    checked = set()
    for route in routes:
        int_params = [n for n, c in route.converters.items() if isinstance(c, IntConverter)]
        values = ids if int_params else tokens
        for value in values:
            path = fill(route, lambda _name, _conv, v=value: v)
            for method in ("get", "post"):
                response = getattr(admin_client, method)(path)
                body = response.content.decode(errors="replace")
                # A one-time sign-in link from another tenant just sends the visitor to the login page; after many
                # misses on hosted links the client address is rate-limited (429), a refusal too.
                refused = response.status_code in (403, 404, 405, 429) or (
                    response.status_code == 302 and response["Location"] == "/login/"
                )
                assert refused, f"{method.upper()} {path}: {response.status_code}"
                assert SECRET not in body, f"{method.upper()} {path} leaked Bravo data"
                checked.add(route.name)
    assert len(ids) == 11
    assert {
        "crm:company_detail",
        "crm:contact_detail",
        "crm:deal_detail",
        "accounts:user_detail",
        "accounts:user_deactivate",
        "accounts:user_reactivate",
        "accounts:invitation_revoke",
        "events:delivery_retry",
        "accounts:welcome",
        "accounts:invitation_accept",
        "accounts:password_reset_confirm",
        "billing:invoice_detail",
        "billing:invoice_pdf",
        "billing:invoice_payment_new",
        "billing:credit_note_pdf",
        "billing:invoice_hosted",
        "billing:invoice_hosted_pdf",
    } <= checked


def test_alpha_pages_list_only_alpha_rows(admin_client, bravo):
    for path in [
        "/crm/companies/",
        "/crm/contacts/",
        "/crm/deals/",
        "/settings/users/",
        "/settings/audit/",
        "/settings/events/?status=failed",
        "/billing/invoices/",
        "/",
    ]:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.content.decode(), path
