from django.core.exceptions import ValidationError


def form_add_errors(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on a form: field errors next to their fields, the rest at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
