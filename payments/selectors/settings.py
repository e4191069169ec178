from payments.models import PaymentSettings


def payment_settings() -> PaymentSettings:
    """The tenant's payment settings; created with the defaults on first use."""
    settings, _created = PaymentSettings.objects.get_or_create(pk=1)
    return settings
