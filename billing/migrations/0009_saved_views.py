"""Saved invoice views move to the one saved-view table of every index (commerce_hub.saved_views). They take new
ids after the CRM's views, which kept theirs; a bookmarked invoice view link shows all invoices with a notice."""

from django.db import migrations

FIELDS = ("name", "owner_id", "query", "created_by_id", "created_at")
INDEX = "billing.invoice"


def forward(apps, schema_editor):
    old = apps.get_model("billing", "InvoiceSavedView")
    new = apps.get_model("saved_views", "SavedView")
    new.objects.bulk_create(new(index=INDEX, **row) for row in old.objects.order_by("id").values(*FIELDS))


def backward(apps, schema_editor):
    old = apps.get_model("billing", "InvoiceSavedView")
    new = apps.get_model("saved_views", "SavedView")
    old.objects.bulk_create(old(**row) for row in new.objects.filter(index=INDEX).order_by("id").values(*FIELDS))
    new.objects.filter(index=INDEX).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_money_precision"),
        ("crm", "0007_saved_views_moved"),
        ("saved_views", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="InvoiceSavedView"),
    ]
