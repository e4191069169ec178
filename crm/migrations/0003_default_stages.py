from decimal import Decimal

from django.db import migrations

from crm.defaults import LIFECYCLE_STAGES, PIPELINE_NAME, PIPELINE_STAGES


def create_defaults(apps, schema_editor):
    LifecycleStage = apps.get_model("crm", "LifecycleStage")
    Pipeline = apps.get_model("crm", "Pipeline")
    Stage = apps.get_model("crm", "Stage")
    for position, (key, label) in enumerate(LIFECYCLE_STAGES):
        LifecycleStage.objects.get_or_create(key=key, defaults={"label": label, "position": position})
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name=PIPELINE_NAME, is_default=True)
        for position, (name, probability, kind) in enumerate(PIPELINE_STAGES):
            Stage.objects.create(pipeline=pipeline, name=name, probability=Decimal(probability), kind=kind,
                                 position=position)


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_records_configuration")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
