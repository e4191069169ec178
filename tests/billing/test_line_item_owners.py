"""Documents join the line item editor by registering an owner kind; billing registers deals and invoices."""

from types import SimpleNamespace

import pytest
from django.urls import reverse

from billing import editor
from crm.models import Deal


def test_deals_and_invoices_are_registered_with_their_editor_routes():
    assert set(editor.owner_kinds()) == {"deal", "invoice"}
    assert reverse("billing:deal_line_items", args=[7]) == "/billing/deals/7/line-items/"
    assert reverse("billing:invoice_line_items", args=[7]) == "/billing/invoices/7/line-items/"


@pytest.fixture
def quote_kind():
    kind = editor.OwnerKind(
        kind="quote",
        model=Deal,
        column="quote",
        view_perm="accounts.view_quotes",
        edit_perm="accounts.edit_quotes",
        detail_url=lambda quote: f"/quotes/{quote.pk}/",
        title=lambda quote: f"Quote {quote.pk}",
        currency=lambda quote: "NOK",
    )
    editor.register_owner_kind(kind)
    yield kind
    editor._owner_kinds.pop("quote")


def test_a_kind_registered_later_is_served_by_the_editor(quote_kind):
    owner = editor.owner_for("quote", SimpleNamespace(pk=12))
    assert (owner.currency, owner.title, owner.detail_url, owner.lookup) == (
        "NOK",
        "Quote 12",
        "/quotes/12/",
        {"quote": owner.obj},
    )


def test_an_unregistered_kind_is_refused():
    with pytest.raises(KeyError):
        editor.owner_for("payment_link", SimpleNamespace(pk=1))
