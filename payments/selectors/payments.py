from django.db.models import QuerySet

from payments.models import Payment


def payment_list() -> QuerySet[Payment]:
    return Payment.objects.select_related("invoice", "company", "contact")
