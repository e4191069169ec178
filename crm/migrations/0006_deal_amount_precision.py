import djmoney.models.fields
from django.db import migrations


class Migration(migrations.Migration):
    """Deal amounts in the width of every stored amount: 4 decimals for any ISO 4217 currency (KWD has 3)."""

    dependencies = [
        ("crm", "0005_stage_archive"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deal",
            name="amount",
            field=djmoney.models.fields.MoneyField(
                blank=True, decimal_places=4, max_digits=20, null=True, verbose_name="amount"
            ),
        ),
    ]
