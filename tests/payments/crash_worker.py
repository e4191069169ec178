"""A Celery app for the worker-crash test: the real app, with the built-in processor made to hang right after it
has made the charge, so the test can kill the worker at the worst moment (charged, answer not recorded).

Started as `celery -A tests.payments.crash_worker worker`; never imported by the product."""

import time

import django

django.setup()

from commerce_hub.celery import app  # noqa: E402
from payments.processors import builtin  # noqa: E402

_charge = builtin.BuiltinProcessor.payment_create


def _charge_then_hang(self, request):
    result = _charge(self, request)
    time.sleep(600)  # the test kills the worker during this sleep
    return result


builtin.BuiltinProcessor.payment_create = _charge_then_hang

__all__ = ["app"]
