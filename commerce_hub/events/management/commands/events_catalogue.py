import json

from django.core.management.base import BaseCommand

from commerce_hub.events.catalogue import event_types


class Command(BaseCommand):
    help = "List every domain event: name, version, payload fields and the app that owns it."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print a JSON list, for webhooks and workflows.")

    def handle(self, *args, **options):
        types = event_types()
        if options["json"]:
            self.stdout.write(json.dumps([t.as_dict() for t in types], indent=2))
            return
        width = max((len(t.name) for t in types), default=10)
        for t in types:
            fields = ", ".join(t.fields)
            optional = f" [optional: {', '.join(t.optional)}]" if t.optional else ""
            self.stdout.write(f"{t.name:<{width}}  v{t.version}  {t.app:<12}  {fields}{optional}")
