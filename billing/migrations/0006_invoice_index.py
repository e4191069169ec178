from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_invoice_guards_and_defaults")]

    operations = [
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(status="open"),
                fields=["due_date", "id"],
                include=["status", "currency", "total"],
                name="billing_invoice_open_due",
            ),
        ),
    ]
