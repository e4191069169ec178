"""What the checkout page shows the same way to every buyer in a language, rendered once per process and language
and then reused: its blank form fields, and the built-in processor's test inputs. Not with DEBUG, where templates
change under a running server.

The page shows every payment method's form at once. A blank field goes through partials/field.html like every other
form's, and its markup (label, widget, help) is decided by its form class, name, id, language and initial value
alone, since the checkout forms never change a field per instance (payments.forms.checkout.CheckoutForm). A field
sent back with the buyer's input or errors renders as usual.
"""

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from payments.processors import builtin

register = template.Library()

FIELD_TEMPLATE = "partials/field.html"
# Keys are the forms' fields times the languages (a few hundred at most); anything past the bound renders as usual.
_BLANK_MAX = 512
_blank: dict[tuple, SafeString] = {}


@register.simple_tag
def checkout_field(field) -> SafeString:
    """{% include "partials/field.html" with field=... %}, with a blank field's markup reused."""
    value = field.value()
    key = None
    if not (field.form.is_bound or settings.DEBUG) and (value is None or isinstance(value, str | int)):
        key = (type(field.form), field.html_name, field.auto_id, get_language(), value)
        markup = _blank.get(key)
        if markup is not None:
            return markup
    markup = get_template(FIELD_TEMPLATE).render({"field": field})
    if key is not None and len(_blank) < _BLANK_MAX:
        _blank[key] = markup
    return markup


TEST_INPUTS_TEMPLATE = "payments/checkout/_test_mode.html"
_test_inputs: dict[str, SafeString] = {}


def _grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@register.simple_tag
def checkout_test_inputs() -> SafeString:
    """The built-in processor's test cards, IBANs and ACH account (payments/checkout/_test_mode.html): the same on
    every checkout in a language, so rendered once per language."""
    language = get_language() or ""
    markup = _test_inputs.get(language)
    if markup is None:
        markup = get_template(TEST_INPUTS_TEMPLATE).render(
            {
                "test_cards": [
                    (_grouped(builtin.CARD_SUCCESS), _("Succeeds")),
                    (_grouped(builtin.CARD_DECLINED), _("Declined")),
                    (_grouped(builtin.CARD_INSUFFICIENT_FUNDS), _("Insufficient funds")),
                    (_grouped(builtin.CARD_AUTHENTICATION), _("Asks for a confirmation step (3-D Secure)")),
                    (_grouped(builtin.CARD_DISPUTED), _("Succeeds, then the buyer disputes it")),
                ],
                "test_ibans": [
                    ("NL91ABNA0417164300", _("Settles")),
                    (sorted(builtin.SEPA_FAILING_IBANS)[-1], _("Fails when it settles")),
                ],
                "test_ach": (builtin.ACH_ROUTING_TEST, builtin.ACH_FAILING_ACCOUNT),
            }
        )
        if not settings.DEBUG and len(_test_inputs) < len(settings.LANGUAGES) * 2:
            _test_inputs[language] = markup
    return markup
