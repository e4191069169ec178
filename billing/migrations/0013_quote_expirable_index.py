"""The expiry job finds the quotes it may expire (neither signed, accepted, paid nor declined) in id order."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0012_quote_approval_fingerprint_builtin_templates")]

    operations = [
        migrations.AddIndex(
            model_name="quote",
            index=models.Index(
                condition=models.Q(
                    ("expires_on__isnull", False),
                    ("status__in", ["draft", "pending_approval", "approved", "published", "viewed"]),
                ),
                fields=["id"],
                name="billing_quote_expirable",
            ),
        ),
    ]
