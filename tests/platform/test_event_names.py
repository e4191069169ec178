"""Code names events by their catalogue constants, never by a string or a name built with an f-string."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("commerce_hub", "crm", "billing", "payments", "integrations")
LITERAL_NAME = re.compile(r"""(event_emit\(\s*name=|@handler\(\s*|invoice_change_record\([^)]*\bevent=)f?["']""", re.S)
# Still naming their events by string; each switches to billing.events constants.
PENDING: set[str] = set()


def test_no_event_is_named_by_a_string():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in PENDING:
                continue
            if LITERAL_NAME.search(path.read_text()):
                offenders.append(relative)
    assert offenders == []
