from collections.abc import Callable

from django.core.exceptions import ValidationError


def form_add_errors(form, exc: ValidationError, *, field_map: dict | Callable[[str], str] | None = None) -> None:
    """Show a service's ValidationError on a form: field errors next to their fields, the rest at the top (the
    summary of templates/partials/form_errors.html). `field_map` renames a service's field names to the form's where
    they differ: a dict, or a function of the service's name."""
    rename = field_map if callable(field_map) else (lambda name: (field_map or {}).get(name, name))
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = rename(field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
