"""Exact Online tests: the local fake Exact, a connected tenant, and test data (a company, a deal with lines)."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from billing.models import LineItem, TaxRate
from crm.models import Company, Deal, Pipeline
from integrations.exact.services.connection import connection_complete, connection_start
from integrations.exact.services.setup import SetupValues, exact_settings_save
from tests.integrations.fake_exact import fake_exact  # noqa: F401 - the fixture

REDIRECT = "https://alpha.localhost/integrations/exact/callback/"


def connect(fake) -> object:
    """The OAuth dance without a browser: start, let the fake grant a code for our state, complete."""
    session = {}
    url = connection_start(session=session, country="nl", redirect_uri=REDIRECT)
    state = parse_qs(urlsplit(url).query)["state"][0]
    return connection_complete(session=session, code=fake.code_issue(REDIRECT), state=state)


@pytest.fixture
def exact(fake_exact, tenant_alpha):  # noqa: F811
    connect(fake_exact)
    return fake_exact


def settings_save(**values):
    return exact_settings_save(values=SetupValues(**values))


def company_make(name="Fjordline AS", **fields) -> Company:
    defaults = {"vat_number": "NL000099998B57", "city": "Amsterdam", "country": "NL", "lifecycle_stage": "customer"}
    return Company.objects.create(name=name, **(defaults | fields))


def deal_make(company=None, lines=(("Consulting", "2", "100.00", "BTW 21%"),)) -> Deal:
    pipeline = Pipeline.objects.get(is_default=True)
    first = pipeline.stages.order_by("position").first()
    deal = Deal.objects.create(name="Big deal", pipeline=pipeline, stage=first, company=company or company_make())
    for position, (name, quantity, price, tax) in enumerate(lines):
        LineItem.objects.create(
            deal=deal,
            position=position,
            name=name,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            currency="EUR",
            tax_rate=TaxRate.objects.get(name=tax) if tax else None,
        )
    return deal


def won_stage(pipeline):
    return pipeline.stages.get(kind="won")


def elapse(fake, seconds: float) -> None:
    """Time passes for Exact and for us: the fake's clock moves on, and our stored token times move back."""
    from datetime import timedelta

    from django.db.models import F

    from integrations.models import ExactConnection

    fake.clock(seconds)
    ExactConnection.objects.filter(pk=1).update(
        access_expires_at=F("access_expires_at") - timedelta(seconds=seconds),
        refreshed_at=F("refreshed_at") - timedelta(seconds=seconds),
    )
