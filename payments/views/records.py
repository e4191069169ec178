from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render

from payments.selectors.payments import payment_list


@login_required
@permission_required("accounts.view_payments", raise_exception=True)
def payment_index(request):
    return render(request, "payments/payments/index.html", {"payments": payment_list()[:50], "active_nav": "payments"})
