"""A worker killed in the middle of a charge: the processor has charged, the answer was never recorded. Running the
task again asks the processor by the attempt's key and records that one charge: at most one successful payment."""

import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal

import pytest

from billing.models import InvoicePayment
from billing.selectors.receivables import invoice_figures
from commerce_hub.celery import QUEUE_PREFIX
from payments.models import MethodKind, Payment, PaymentStatus, SimulatedObject
from payments.processors.builtin import CARD_SUCCESS
from payments.services.payments import payment_charge_saved, payment_process
from payments.services.saved_methods import payment_method_save
from tests.payments.paying import open_invoice
from tests.platform.test_celery_worker import BASE_DIR, _database_url

pytestmark = pytest.mark.celery_worker


def _wait_for(check, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError("the worker did not get there in time")


@pytest.fixture
def hanging_worker(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_QUEUE_PREFIX": QUEUE_PREFIX}
    log = open(BASE_DIR / ".data" / "test-crash-worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.payments.crash_worker",
            "worker",
            "-Q",
            QUEUE_PREFIX + "payments",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
            "-n",
            f"crash-{uuid.uuid4().hex[:6]}@%h",
        ],
        env=env,
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=20)
    log.close()


def test_killing_the_worker_mid_charge_and_running_again_charges_once(hanging_worker, live_tenant):
    invoice = open_invoice()
    saved = payment_method_save(
        company_id=invoice.company_id,
        contact_id=None,
        method=MethodKind.CARD,
        method_data={"number": CARD_SUCCESS},
        attempt_key="crash-setup",
    )
    payment = payment_charge_saved(invoice=invoice, saved_method=saved, attempt_key="crash-renewal")

    # The worker takes the task, the processor charges, and the worker hangs before recording the answer.
    _wait_for(lambda: SimulatedObject.objects.filter(kind="payment").exists())
    os.kill(hanging_worker.pid, signal.SIGKILL)
    hanging_worker.wait(timeout=20)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED and payment.called_at is not None

    # The task runs again (the message was not acknowledged): it asks, finds the charge, records it.
    again = payment_process(payment_id=payment.pk)
    assert again.status == PaymentStatus.SUCCEEDED
    assert SimulatedObject.objects.filter(kind="payment").count() == 1
    assert Payment.objects.filter(invoice=invoice, status=PaymentStatus.SUCCEEDED).count() == 1
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1
    assert invoice_figures(invoice).paid == Decimal("242.00")
