from decimal import Decimal

from django.db import migrations

# The VAT rates in force in the Netherlands and Norway; every new tenant starts with them (cloned template).
DEFAULT_RATES = [
    # name, rate, category, country
    ("BTW 21%", "21", "standard", "NL"),
    ("BTW 9%", "9", "reduced", "NL"),
    ("BTW 0%", "0", "zero", "NL"),
    ("MVA 25%", "25", "standard", "NO"),
    ("MVA 15%", "15", "reduced", "NO"),
    ("MVA 12%", "12", "reduced", "NO"),
    ("MVA 0%", "0", "zero", "NO"),
    ("EU reverse charge", "0", "reverse_charge", ""),
]


def create_rates(apps, schema_editor):
    TaxRate = apps.get_model("billing", "TaxRate")
    if TaxRate.objects.exists():
        return
    for position, (name, rate, category, country) in enumerate(DEFAULT_RATES):
        TaxRate.objects.create(name=name, rate=Decimal(rate), category=category, country=country, position=position)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(create_rates, migrations.RunPython.noop)]
