from django.core.management.commands.makemessages import Command as MakeMessagesCommand


class Command(MakeMessagesCommand):
    """Also extracts `_L("...")`, the short name several modules give gettext_lazy for field labels."""

    xgettext_options = [*MakeMessagesCommand.xgettext_options, "--keyword=_L"]
