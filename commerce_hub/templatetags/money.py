from django import template

from commerce_hub.money import money_format, number_format, unit_price_format

register = template.Library()


@register.simple_tag(name="money")
def money_tag(amount, currency):
    return money_format(amount, currency)


@register.simple_tag(name="unit_price")
def unit_price_tag(amount, currency):
    return unit_price_format(amount, currency)


@register.filter(name="money")
def money_filter(value):
    """{{ deal.amount|money }} for a django-money Money value."""
    if value is None:
        return ""
    return money_format(value.amount, str(value.currency))


@register.filter
def localize_number(value):
    return number_format(value) if value is not None else ""
