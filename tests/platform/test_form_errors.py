"""One way for every form to show a service's errors: next to the field they name, the rest on top."""

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from commerce_hub.forms import form_add_errors


class _Form(forms.Form):
    name = forms.CharField(required=False)
    p__size = forms.CharField(required=False)


def _bound() -> _Form:
    form = _Form({"name": "x", "p__size": "y"})
    assert form.is_valid()
    return form


def test_field_errors_go_next_to_their_field_and_unknown_keys_on_top():
    form = _bound()
    form_add_errors(form, ValidationError({"name": ["Too short."], "total": ["Too large."]}))
    assert form.errors == {"name": ["Too short."], "__all__": ["Too large."]}


def test_errors_without_a_field_go_on_top():
    form = _bound()
    form_add_errors(form, ValidationError(["Nothing to save.", "Try again."]))
    assert form.errors == {"__all__": ["Nothing to save.", "Try again."]}


def test_service_names_are_renamed_by_a_map_or_a_function():
    by_dict, by_function = _bound(), _bound()
    form_add_errors(by_dict, ValidationError({"title": ["Required."]}), field_map={"title": "name"})
    form_add_errors(
        by_function, ValidationError({"p:size": ["Not a size."]}), field_map=lambda key: key.replace(":", "__")
    )
    assert by_dict.errors == {"name": ["Required."]}
    assert by_function.errors == {"p__size": ["Not a size."]}


def test_the_summary_partial_lists_errors_on_top_or_points_to_the_fields():
    on_top, on_fields = _bound(), _bound()
    form_add_errors(on_top, ValidationError(["Nothing to save."]))
    form_add_errors(on_fields, ValidationError({"name": ["Too short."]}))
    assert "<p>Nothing to save.</p>" in render_to_string("partials/form_errors.html", {"form": on_top})
    assert "Please correct the fields marked below." in render_to_string(
        "partials/form_errors.html", {"form": on_fields}
    )
