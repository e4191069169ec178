"""One saved-view model for every index page: the CRM record indexes and the invoice index store their views in it,
each under its own index name, and the migration brought the views of both old tables across."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from commerce_hub.saved_views.models import SavedView

BEFORE = [("crm", "0006_deal_amount_precision"), ("billing", "0008_money_precision")]
AFTER = [("crm", "0007_saved_views_moved"), ("billing", "0009_saved_views")]


def test_views_of_both_old_tables_move_to_the_one_table(tenant_alpha, admin_user):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    old.get_model("crm", "SavedView").objects.create(
        id=7,
        object_type="deal",
        name="Big deals",
        owner_id=admin_user.pk,
        query="amount_min=1000",
        columns=["name", "amount"],
        created_by_id=admin_user.pk,
    )
    old.get_model("billing", "InvoiceSavedView").objects.create(
        name="Overdue NOK", owner_id=None, query="currency=NOK&base=overdue", created_by_id=admin_user.pk
    )
    with connection.cursor() as cursor:  # the old tables are dropped next, which pending row checks would prevent
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    assert list(SavedView.objects.order_by("id").values_list("id", "index", "name", "owner", "query", "columns")) == [
        (7, "crm.deal", "Big deals", admin_user.pk, "amount_min=1000", ["name", "amount"]),
        (8, "billing.invoice", "Overdue NOK", None, "currency=NOK&base=overdue", []),
    ]
    # The CRM view kept its id, so its bookmarked link still opens it; new views continue after the moved ones.
    assert SavedView.objects.create(index="crm.company", name="Next").pk == 9
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('crm_savedview'), to_regclass('billing_invoicesavedview')")
        assert cursor.fetchone() == (None, None)


def test_each_index_sees_only_its_own_views(admin_client, admin_user):
    SavedView.objects.create(index="crm.company", name="Dutch companies", query="country=NL", owner=admin_user)
    deal_view = SavedView.objects.create(index="crm.deal", name="Big deals", query="amount_min=1000", owner=None)

    companies = admin_client.get("/crm/companies/")
    invoices = admin_client.get("/billing/invoices/")

    assert [v.name for v in companies.context["saved_views"]] == ["Dutch companies"]
    assert list(invoices.context["saved_views"]) == []
    # A CRM view's id on the invoice index is no invoice view.
    opened = admin_client.get(f"/billing/invoices/?view={deal_view.pk}")
    assert "That saved view does not exist (any more); showing all invoices." in opened.content.decode()
