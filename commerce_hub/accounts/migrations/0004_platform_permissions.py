from django.db import migrations


class Migration(migrations.Migration):
    # The apps' permissions are registered by their AppConfigs and synced after migrate; the model declares the
    # platform's own. State only: the permission rows stay.
    dependencies = [
        ('accounts', '0003_permission_labels'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='capability',
            options={'default_permissions': (), 'managed': False, 'permissions': [('export_data', 'Export index views'), ('manage_settings', 'Manage company settings and branding'), ('manage_users', 'Invite, deactivate and assign roles to users'), ('view_audit_log', 'View the audit log and event deliveries')]},
        ),
    ]
