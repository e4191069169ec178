from django import template
from django.utils.html import format_html

from commerce_hub.idempotency.services import key_new
from commerce_hub.idempotency.web import FIELD

register = template.Library()


@register.simple_tag
def idempotency_field():
    """A hidden field with a fresh key, each time the form renders: submitting this rendering twice acts once."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, key_new())
