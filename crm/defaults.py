"""The lifecycle stages and sales pipeline every new tenant starts with (created by migration crm.0003)."""

from django.utils.translation import gettext_noop

# Labels are stored in English and shown through gettext, so the defaults appear in the reader's language
# until an admin renames them.
LIFECYCLE_STAGES = [
    ("subscriber", gettext_noop("Subscriber")),
    ("lead", gettext_noop("Lead")),
    ("mql", gettext_noop("Marketing qualified lead")),
    ("sql", gettext_noop("Sales qualified lead")),
    ("opportunity", gettext_noop("Opportunity")),
    ("customer", gettext_noop("Customer")),
    ("evangelist", gettext_noop("Evangelist")),
    ("other", gettext_noop("Other")),
]

PIPELINE_NAME = gettext_noop("Sales pipeline")
PIPELINE_STAGES = [
    # name, win probability (%), kind
    (gettext_noop("Appointment scheduled"), 20, "open"),
    (gettext_noop("Qualified to buy"), 40, "open"),
    (gettext_noop("Presentation scheduled"), 60, "open"),
    (gettext_noop("Decision maker bought-in"), 80, "open"),
    (gettext_noop("Contract sent"), 90, "open"),
    (gettext_noop("Closed won"), 100, "won"),
    (gettext_noop("Closed lost"), 0, "lost"),
]
