"""Approvals remember the priced content they cover and the approvers' tasks; every tenant gets the three built-in
quote templates (Classic is the default)."""

from django.db import migrations, models

# (builtin_key, name, layout, accent colour, default). The texts stay empty: a built-in template prints the standard
# texts of billing.services.quote_templates in the quote's language until an admin writes its own.
BUILTIN_TEMPLATES = [
    ("classic", "Classic", "classic", "", True),
    ("modern", "Modern", "modern", "", False),
    ("compact", "Compact", "compact", "", False),
]


def builtin_templates_create(apps, schema_editor):
    QuoteTemplate = apps.get_model("billing", "QuoteTemplate")
    has_default = QuoteTemplate.objects.filter(is_default=True).exists()
    for key, name, layout, accent, default in BUILTIN_TEMPLATES:
        QuoteTemplate.objects.get_or_create(
            builtin_key=key,
            defaults={
                "name": name,
                "layout": layout,
                "accent_color": accent,
                "is_default": default and not has_default,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0011_quotes"),
        ("crm", "0007_saved_views_moved"),
    ]

    operations = [
        migrations.AddField(
            model_name="quoteapproval",
            name="fingerprint",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="quoteapproval",
            name="tasks",
            field=models.ManyToManyField(blank=True, related_name="+", to="crm.task"),
        ),
        migrations.RunPython(builtin_templates_create, migrations.RunPython.noop),
    ]
