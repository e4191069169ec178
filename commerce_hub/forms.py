from django.core.exceptions import ValidationError


def form_add_errors(form, exc: ValidationError, *, field_map: dict | None = None) -> None:
    """Show a service's ValidationError on a form: field errors next to their fields, the rest at the top.
    `field_map` renames a service's field names to the form's where they differ."""
    field_map = field_map or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = field_map.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
