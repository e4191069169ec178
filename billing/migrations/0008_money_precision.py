from decimal import Decimal

from django.db import migrations, models


def late_fee_in_company_currency(apps, schema_editor):
    """A fixed late fee entered before it had a currency was meant in the company's currency."""
    OrganizationProfile = apps.get_model("organization", "OrganizationProfile")
    InvoiceSettings = apps.get_model("billing", "InvoiceSettings")
    profile = OrganizationProfile.objects.first()
    currency = (profile.default_currency if profile else "") or "EUR"
    InvoiceSettings.objects.update(late_fee_currency=currency)


class Migration(migrations.Migration):
    """The late fee in the width of every stored amount (commerce_hub.money), with its own currency."""

    dependencies = [
        ("billing", "0007_receivables_ledger"),
        ("organization", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="invoicesettings",
            name="late_fee_amount",
            field=models.DecimalField(
                decimal_places=4, default=Decimal("0"), max_digits=20, verbose_name="fixed late fee"
            ),
        ),
        migrations.AddField(
            model_name="invoicesettings",
            name="late_fee_currency",
            field=models.CharField(default="EUR", max_length=3, verbose_name="currency of the fixed late fee"),
        ),
        migrations.RunPython(late_fee_in_company_currency, migrations.RunPython.noop),
    ]
