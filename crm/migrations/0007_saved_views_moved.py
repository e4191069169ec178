"""The CRM's saved views move to the one saved-view table of every index (commerce_hub.saved_views), keeping their
ids so that bookmarked links (?view=<id>) still open them."""

from django.db import migrations

FIELDS = ("id", "name", "owner_id", "query", "columns", "created_by_id", "created_at")


def forward(apps, schema_editor):
    old = apps.get_model("crm", "SavedView")
    new = apps.get_model("saved_views", "SavedView")
    new.objects.bulk_create(
        new(index=f"crm.{row['object_type']}", **{f: row[f] for f in FIELDS})
        for row in old.objects.values("object_type", *FIELDS)
    )
    # Rows came with their ids: the next view continues after the highest.
    schema_editor.execute(
        "SELECT setval(pg_get_serial_sequence('saved_views_savedview', 'id'), "
        "COALESCE((SELECT MAX(id) FROM saved_views_savedview), 1))"
    )


def backward(apps, schema_editor):
    old = apps.get_model("crm", "SavedView")
    new = apps.get_model("saved_views", "SavedView")
    rows = new.objects.filter(index__startswith="crm.").values("index", *FIELDS)
    old.objects.bulk_create(
        old(object_type=row["index"].removeprefix("crm."), **{f: row[f] for f in FIELDS}) for row in rows
    )
    new.objects.filter(index__startswith="crm.").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_deal_amount_precision"),
        ("saved_views", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="SavedView"),
    ]
