"""Documents join the line item editor by registering an owner kind; billing registers deals and invoices."""

from types import SimpleNamespace

import pytest
from django.urls import reverse

from billing import editor
from crm.models import Deal


def test_deals_invoices_and_quotes_are_registered_with_their_editor_routes():
    assert {"deal", "invoice", "quote", "payment_link"} <= set(editor.owner_kinds())
    assert reverse("billing:deal_line_items", args=[7]) == "/billing/deals/7/line-items/"
    assert reverse("billing:invoice_line_items", args=[7]) == "/billing/invoices/7/line-items/"
    assert reverse("billing:quote_line_items", args=[7]) == "/billing/quotes/7/line-items/"


@pytest.fixture
def sample_kind():
    kind = editor.OwnerKind(
        kind="sample",
        model=Deal,
        column="sample",
        view_perm="accounts.view_crm",
        edit_perm="accounts.edit_crm",
        detail_url=lambda obj: f"/samples/{obj.pk}/",
        title=lambda obj: f"Sample {obj.pk}",
        currency=lambda obj: "NOK",
    )
    editor.register_owner_kind(kind)
    yield kind
    editor._owner_kinds.pop("sample")


def test_a_kind_registered_later_is_served_by_the_editor(sample_kind):
    owner = editor.owner_for("sample", SimpleNamespace(pk=12))
    assert (owner.currency, owner.title, owner.detail_url, owner.lookup) == (
        "NOK",
        "Sample 12",
        "/samples/12/",
        {"sample": owner.obj},
    )


def test_an_unregistered_kind_is_refused():
    with pytest.raises(KeyError):
        editor.owner_for("gift_card", SimpleNamespace(pk=1))
