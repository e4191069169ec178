from django import template
from django.utils.translation import gettext

from crm.selectors import lifecycle_labels

register = template.Library()


@register.filter
def lifecycle(key: str) -> str:
    """The lifecycle stage's label, in the reader's language while it keeps its default English name."""
    label = lifecycle_labels().get(key)
    return gettext(label) if label else (key or "")
