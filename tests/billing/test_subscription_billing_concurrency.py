"""Never twice, never skipped: two billing runs at once, a run stopped halfway, and a worker process killed in the
middle of a batch, then run again: every due period is billed exactly once and the invoice numbers have no gap."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from billing.models import Invoice, NumberSeries, Subscription
from billing.services.subscription_billing import subscriptions_bill_due
from tests.billing.subscribing import subscription_make
from tests.concurrency import in_threads
from tests.platform.test_celery_worker import BASE_DIR, _database_url

RUN_AT = datetime.combine(date(2027, 12, 31), clock(0, 30), tzinfo=ZoneInfo("Europe/Amsterdam"))


def _subscriptions(count: int) -> dict[int, int]:
    """`count` monthly subscriptions, each some months behind; {id: periods due by RUN_AT}."""
    due = {}
    for n in range(count):
        start = date(2027, 1 + n % 12, 1 + n % 28)
        subscription = subscription_make(start=start)
        due[subscription.pk] = 12 - (start.month - 1)
    return due


def _assert_billed_exactly_once(due: dict[int, int]) -> None:
    per_subscription = Counter(Invoice.objects.values_list("subscription_id", flat=True))
    assert dict(per_subscription) == due
    pairs = list(Invoice.objects.values_list("subscription_id", "period_start"))
    assert len(pairs) == len(set(pairs))
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1001, 1001 + sum(due.values())))
    series = NumberSeries.objects.get(key=NumberSeries.INVOICE)
    assert series.last_used == 1000 + sum(due.values())
    for subscription in Subscription.objects.all():
        assert subscription.periods_billed == due[subscription.pk]
        assert subscription.next_billing_date > RUN_AT.date()


def test_two_runs_at_once_bill_each_period_once(django_db_setup, live_tenant):
    due = _subscriptions(30)
    results = in_threads(2, lambda n: subscriptions_bill_due(now=RUN_AT, batch_size=4))
    assert sum(r.invoices for r in results) == sum(due.values())
    assert all(r.failed == [] for r in results)
    _assert_billed_exactly_once(due)
    assert subscriptions_bill_due(now=RUN_AT).invoices == 0


class Stop(Exception):
    pass


def test_a_run_stopped_halfway_then_run_again_bills_every_period_once(django_db_setup, live_tenant):
    due = _subscriptions(20)

    def stop_after_two(batch: int) -> None:
        if batch == 2:
            raise Stop

    with pytest.raises(Stop):
        subscriptions_bill_due(now=RUN_AT, batch_size=5, after_batch=stop_after_two)
    assert Subscription.objects.filter(periods_billed__gt=0).count() == 10
    subscriptions_bill_due(now=RUN_AT, batch_size=5)
    _assert_billed_exactly_once(due)


KILLED_RUN = """
import os, sys, time
import django
django.setup()
from django_tenants.utils import schema_context
from billing.services import subscription_billing, numbering
from datetime import datetime
from zoneinfo import ZoneInfo
calls = []
take = numbering.numbers_take
def slow_take(**kwargs):
    calls.append(1)
    if len(calls) == 3:  # in the middle of the third batch, its invoices inserted and not committed
        open(sys.argv[1], "w").write("inside")
        time.sleep(120)
    return take(**kwargs)
subscription_billing.numbers_take = slow_take
with schema_context("t_live"):
    subscription_billing.subscriptions_bill_due(
        now=datetime(2027, 12, 31, 0, 30, tzinfo=ZoneInfo("Europe/Amsterdam")), batch_size=4
    )
"""


def test_a_worker_killed_in_the_middle_of_a_batch_then_run_again_bills_every_period_once(
    django_db_setup, live_tenant, tmp_path
):
    due = _subscriptions(16)
    marker = Path(tmp_path) / "inside"
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "commerce_hub.settings"}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(marker)], env=env, cwd=BASE_DIR)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert proc.poll() is None, "the run ended before it reached the third batch"
            assert time.monotonic() < deadline, "the run did not reach the third batch in time"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    # Two batches of four committed; the third died with its process (Postgres rolled it back).
    deadline = time.monotonic() + 30
    while Subscription.objects.filter(periods_billed__gt=0).count() != 8:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    subscriptions_bill_due(now=RUN_AT, batch_size=4)
    _assert_billed_exactly_once(due)
