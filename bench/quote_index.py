"""The quotes index, a deal's Quotes panel and the expiry job at a million quotes, against plain SQL doing the same
work, measured in the same run.

    python -m commerce_hub.embedded exec -- python bench/quote_index.py [--rows 1000000]

Creates a tenant of its own in <DATABASE_URL name>_bench (20,000 companies, contacts and deals from seed_demo, 20
sales reps) and fills it with COPY: --rows quotes (BENCH_QUOTES, default 1,000,000) made over two years, each on a
deal (and its company), most with an owner, expiring 14 to 60 days after they were made; those past their date
were signed, accepted, paid, declined or expired (the hourly job has run), the others are drafts, awaiting or with
approval, with the buyer, signed, accepted or paid. Then, every case interleaved with the others round by round:
  default  - the index's first page (All, newest first)
  filtered - With the buyer (published and viewed) of one owner, total between 1,000 and 5,000
  deep     - the default view's page after the 500,000th quote (a keyset cursor)
  panel    - the Quotes panel of a deal (its newest ten and whether there are more); "view" is the deal's page
each as
  view     - GET through Django's test client: the whole page in the shell
  query    - the selector's queryset for that page, evaluated (and its rows decorated)
  orm sql  - the SQL that queryset sends, run by hand (what the database costs, without the ORM)
  raw      - hand-written SQL returning the same 51 (11) rows and columns with the same joins
and, after moving the date BENCH_EXPIRE_DAYS (30) days ahead:
  expire   - quotes_expire over the whole table: the quotes past their date set to expired, a quote event, an audit
             entry and an outbox event each; against one SQL statement (UPDATE ... RETURNING and INSERT ... SELECT)
             writing the same rows. The table is put back between runs (not timed), runs alternate. The enqueue to
             the broker after commit is switched off for both: no worker runs here, and the tenant is dropped.
Prints p50/p95 (expire: each run and the median) and the ratios. The tenant is dropped at the end (BENCH_KEEP=1
keeps it for the next run, which then skips the seeding).
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crm_index import _bench_database_url, _percentiles  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 30))
EXPIRE_ROUNDS = int(os.environ.get("BENCH_EXPIRE_ROUNDS", 3))
EXPIRE_DAYS = int(os.environ.get("BENCH_EXPIRE_DAYS", 30))
SUBDOMAIN = "bench-quotes"
SCHEMA = "t_bench_quotes"
COMPANIES = 20_000
REPS = 20
DEEP = 500_000  # the rows before the deep page's cursor (at most half the table)

# What an index row selects: the quote with its company, owner and deal (quote_rows' select_related).
_ROW = (
    "SELECT q.*, c.*, u.*, d.* FROM billing_quote q LEFT JOIN crm_company c ON c.id = q.company_id "
    "LEFT JOIN accounts_user u ON u.id = q.owner_id JOIN crm_deal d ON d.id = q.deal_id"
)
RAW_DEFAULT = f"{_ROW} ORDER BY q.created_at DESC, q.id DESC LIMIT 51"
RAW_FILTERED = (
    f"{_ROW} WHERE q.status IN ('published', 'viewed') AND q.owner_id = %(owner)s "
    "AND q.total >= %(low)s AND q.total <= %(high)s ORDER BY q.created_at DESC, q.id DESC LIMIT 51"
)
RAW_DEEP = f"{_ROW} WHERE (q.created_at, q.id) < (%(at)s, %(id)s) ORDER BY q.created_at DESC, q.id DESC LIMIT 51"
RAW_PANEL = f"{_ROW} WHERE q.deal_id = %(deal)s ORDER BY q.created_at DESC, q.id DESC LIMIT 11"

# quotes_expire's work in one statement: every live quote past its date (skipping rows another transaction holds),
# expired, with the quote event, audit entry and outbox event it writes for each.
RAW_EXPIRE = """
WITH due AS (
    SELECT id, number, status, revision, title FROM billing_quote
    WHERE status IN ('draft', 'pending_approval', 'approved', 'published', 'viewed') AND expires_on < %(today)s
    FOR UPDATE SKIP LOCKED
), expired AS (
    UPDATE billing_quote q SET status = 'expired', expired_at = %(now)s, updated_at = %(now)s
    FROM due WHERE q.id = due.id RETURNING q.id
), quote_events AS (
    INSERT INTO billing_quoteevent (quote_id, kind, from_status, to_status, actor_id, data, at)
    SELECT id, 'expired', status, 'expired', NULL, '{}', %(now)s FROM due
), audit AS (
    INSERT INTO accounts_auditentry (created_at, actor_id, actor_email, action, object_type, object_id, object_repr,
                                     before, after, request_id, ip_address)
    SELECT %(now)s, NULL, '', 'quote.expired', 'billing.quote', id::text, left(COALESCE(number, title), 200),
           jsonb_build_object('status', status), '{"status": "expired"}', '', NULL FROM due
)
INSERT INTO events_outboxevent (name, payload, created_at, request_id)
SELECT 'quote.expired', jsonb_build_object('id', id, 'number', number, 'revision', revision), %(now)s, '' FROM due
"""


def _seed(rows: int, today: date) -> None:
    """COPY the quotes straight into the tenant's table, oldest first (ids grow with created_at, as they do)."""
    from django.db import connection
    from django.utils import timezone

    from commerce_hub.accounts.models import User
    from crm.models import Deal

    rng = random.Random(20261204)
    if not User.objects.filter(email__endswith="@bench.example").exists():
        User.objects.bulk_create(
            [
                User(email=f"rep{n}@bench.example", full_name=f"Rep {n:02}", role="sales", password="!")
                for n in range(REPS)
            ]
        )
    owners = list(User.objects.filter(email__endswith="@bench.example").values_list("id", flat=True))
    deals = list(Deal.objects.values_list("id", "company_id"))
    now = timezone.now()
    span = timedelta(days=730)
    with connection.cursor() as cursor:
        sequence = cursor.execute("SELECT COALESCE(MAX(sequence), 1000) FROM billing_quote").fetchone()[0]

    def quotes():
        nonlocal sequence
        for i in range(rows):
            created = now - span + span * (i + rng.random()) / rows
            expires = created.date() + timedelta(days=rng.choice((14, 30, 30, 30, 60)))
            r = rng.random()
            if expires < today:  # the buyer answered, or the hourly job expired it
                status = (
                    "expired"
                    if r < 0.45
                    else "declined"
                    if r < 0.6
                    else "signed"
                    if r < 0.7
                    else "accepted"
                    if r < 0.8
                    else "paid"
                )
            else:
                status = (
                    "draft"
                    if r < 0.25
                    else "pending_approval"
                    if r < 0.3
                    else "approved"
                    if r < 0.35
                    else "published"
                    if r < 0.6
                    else "viewed"
                    if r < 0.8
                    else "signed"
                    if r < 0.88
                    else "accepted"
                    if r < 0.93
                    else "paid"
                    if r < 0.98
                    else "declined"
                )
            numbered = status not in ("draft", "pending_approval", "approved")
            if numbered:
                sequence += 1
            total = Decimal(rng.randrange(10_000, 5_000_000)) / 100 if numbered or rng.random() < 0.9 else None
            deal_id, company_id = rng.choice(deals)
            yield (
                status,
                f"Q-{sequence}" if numbered else None,
                sequence if numbered else None,
                1 if numbered else 0,
                f"Proposal {i}",
                expires,
                "EUR" if rng.random() < 0.6 else "NOK",
                deal_id,
                company_id,
                rng.choice(owners) if rng.random() < 0.95 else None,
                total,
                created,
                created if numbered else None,
                datetime.combine(expires, datetime.min.time(), created.tzinfo) if status == "expired" else None,
            )

    columns = (
        "status, number, sequence, revision, title, expires_on, currency, deal_id, company_id, owner_id, total, "
        "created_at, published_at, expired_at"
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY billing_quote ({columns}, updated_at, language, comments, terms, signature_required, signing_order, "
            "payment_enabled, payment_methods, decline_reason) FROM STDIN"
        ) as copy:
            for row in quotes():
                copy.write_row((*row, row[11], "en", "", "", True, "any", False, "[]", ""))
        # What autovacuum does soon after a bulk load: statistics, and the visibility map for index-only scans.
        for table in ("billing_quote", "crm_deal", "crm_company", "accounts_user"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_QUOTES", 1_000_000)))
    rows = parser.parse_args().rows
    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")
    os.environ["DEBUG"] = "0"  # no query log; the plain static storage needs no collectstatic run
    os.environ["COMMERCE_HUB_TESTING"] = "1"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from billing.models import Quote
    from billing.services.quote_publishing import EXPIRABLE
    from commerce_hub.accounts.models import User
    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap
    from crm.models import Deal

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate_schemas", shared=True, verbosity=0)
    platform_bootstrap()
    call_command("migrate_schemas", verbosity=0)

    keep = os.environ.get("BENCH_KEEP") == "1"
    tenant = Tenant.objects.filter(schema_name=SCHEMA).first()
    try:
        if tenant is None:
            call_command("seed_demo", "--subdomain", SUBDOMAIN, "--no-progress")
            call_command("seed_demo", "--subdomain", SUBDOMAIN, "--scale", str(COMPANIES), "--no-progress")
            tenant = Tenant.objects.get(schema_name=SCHEMA)
        with schema_context(SCHEMA):
            today = timezone.localdate()
            if Quote.objects.count() < rows:
                print(f"seeding {rows:,} quotes into {SCHEMA} ...", flush=True)
                started = time.perf_counter()
                _seed(rows, today)
                print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
            admin = User.objects.get(role="admin", email__startswith="admin@")
            owner = User.objects.filter(email__endswith="@bench.example").order_by("id").first()
            # A deal with as many quotes as the median deal has, newest first like the panel.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT deal_id FROM billing_quote GROUP BY deal_id ORDER BY COUNT(*), deal_id "
                    "OFFSET (SELECT COUNT(DISTINCT deal_id) / 2 FROM billing_quote) LIMIT 1"
                )
                deal = Deal.objects.get(pk=cursor.fetchone()[0])
            counts = {
                "quotes": Quote.objects.count(),
                "live": Quote.objects.filter(status__in=EXPIRABLE).count(),
                "deals": Quote.objects.values("deal_id").distinct().count(),
                "deal": Quote.objects.filter(deal=deal).count(),
            }
        connection.set_schema_to_public()
        client = Client(HTTP_HOST=f"{SUBDOMAIN}.localhost")
        with schema_context(SCHEMA):
            client.force_login(admin)
        connection.set_schema_to_public()
        cases, plans = _cases(client, admin, owner, deal, today, min(DEEP, counts["quotes"] // 2))
        results = _measure(cases)
        expire = _measure_expire(today + timedelta(days=EXPIRE_DAYS))
    finally:
        connection.set_schema_to_public()
        if tenant is not None and not keep:
            tenant.delete(force_drop=True)
            print(f"dropped {SCHEMA}")

    print(
        f"\n{SCHEMA}: {counts['quotes']:,} quotes, {counts['live']:,} in the states the expiry job expires, on "
        f"{counts['deals']:,} deals ({counts['deal']} on the panel's deal); {ROUNDS} rounds, cases interleaved"
    )
    for name, r in results.items():
        print(
            f"  {name:8} view p50 {r['view'][0]:6.1f} p95 {r['view'][1]:6.1f} ms | "
            f"query p50 {r['query'][0]:5.2f} p95 {r['query'][1]:5.2f} | "
            f"orm sql p50 {r['orm_sql'][0]:5.2f} p95 {r['orm_sql'][1]:5.2f} | "
            f"raw p50 {r['raw'][0]:5.2f} p95 {r['raw'][1]:5.2f} ms"
        )
        print(
            f"  {'':8} p95 against raw sql: orm sql {r['orm_sql'][1] / r['raw'][1]:.2f}x, "
            f"query {r['query'][1] / r['raw'][1]:.1f}x, view {r['view'][1] / r['raw'][1]:.1f}x"
        )
    e = expire
    print(
        f"  expire   {e['expired']:,} quotes past {e['today']} (+{EXPIRE_DAYS} days), {EXPIRE_ROUNDS} runs each, "
        f"alternating (median)"
    )
    for mode in ("quotes_expire", "raw"):
        print(f"  {'':8} {mode:13} {' / '.join(f'{v:6.2f}' for v in e[mode])} s")
    ratio = statistics.median(e["quotes_expire"]) / statistics.median(e["raw"])
    print(f"  {'':8} quotes_expire against raw sql: {ratio:.1f}x")
    for name, (plan, raw_plan) in plans.items():
        print(f"  {name:8} {'batch' if name == 'expire' else 'page'} query plan: {plan}")
        print(f"  {'':8} raw query plan:  {raw_plan}")
    return 0


def _quote_scan(sql: str, params) -> str:
    """How the plan reads billing_quote, in one line (which index, or a sequential scan): the joined tables' scans
    come first in some plans."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        lines = [row[0].strip().lstrip("-> ").split("  (")[0] for row in cursor.fetchall()]
    scans = [line for line in lines if "Scan" in line and "billing_quote" in line]
    return scans[0] if scans else lines[0]


def _cases(client, admin, owner, deal, today, deep: int) -> tuple[dict, dict]:
    """Per case the four callables (view, query, orm sql, raw) and the plans of the page query and the raw one.
    Checks first that the selector and the raw SQL return the same rows in the same order."""
    from django.core import signing
    from django.db import connection, transaction
    from django.http import QueryDict
    from django_tenants.utils import schema_context

    from billing.models import Quote
    from billing.selectors.quote_index import quote_index_query, quote_panel_rows, quote_rows, quote_rows_decorate
    from billing.services.quote_publishing import EXPIRABLE, EXPIRE_BATCH
    from commerce_hub import pagination
    from commerce_hub.pagination import keyset_page

    with schema_context(SCHEMA):
        index = quote_index_query(params=QueryDict(""), user=admin, today=today)
        last = index.queryset.order_by(*index.ordering)[deep - 1]
        cursor = signing.dumps(
            {"o": index.ordering, "v": [pagination._serial(last.created_at), last.pk]}, salt=pagination._SALT
        )
    filtered = QueryDict(mutable=True)
    filtered.setlist("status", ["published", "viewed"])
    filtered.update({"owner": str(owner.pk), "total_min": "1000", "total_max": "5000"})
    pages = {
        "default": (QueryDict(""), RAW_DEFAULT, {}),
        "filtered": (filtered, RAW_FILTERED, {"owner": owner.pk, "low": 1000, "high": 5000}),
        "deep": (QueryDict(f"after={cursor}"), RAW_DEEP, {"at": last.created_at, "id": last.pk}),
    }

    def get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            connection.set_schema_to_public()

        return run

    # SQL runs on a plain psycopg connection whose search path is the tenant's, set once: the tenant cursor would
    # add a search-path switch to every query, which the raw baseline must not pay.
    plain = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, options=f"-c search_path={SCHEMA},public")

    def sql_of(statement, params):
        def run():
            return plain.execute(statement, params).fetchall()

        return run

    def query_of(params):
        def run():
            with schema_context(SCHEMA):
                index = quote_index_query(params=params, user=admin, today=today)
                page = keyset_page(index.queryset, ordering=index.ordering, cursor=params.get("after"), size=50)
                return quote_rows_decorate(page.rows, today=today)

        return run

    def panel():
        with schema_context(SCHEMA):
            return quote_panel_rows(object_type="deal", record=deal, today=today)[0]

    cases, plans = {}, {}
    for name, (params, raw_sql, raw_params) in pages.items():
        with schema_context(SCHEMA):
            index = quote_index_query(params=params, user=admin, today=today)
            qs = index.queryset.order_by(*index.ordering)
            if params.get("after"):
                qs = qs.filter(pagination._after(index.ordering, [last.created_at, last.pk]))
            orm_sql, orm_params = qs[:51].query.sql_with_params()
            plans[name] = (_quote_scan(orm_sql, orm_params), _quote_scan(raw_sql, raw_params))
        cases[name] = {
            "view": get(f"/billing/quotes/?{params.urlencode()}"),
            "query": query_of(params),
            "orm_sql": sql_of(orm_sql, orm_params),
            "raw": sql_of(raw_sql, raw_params),
        }
    with schema_context(SCHEMA):
        qs = quote_rows().filter(deal=deal).order_by("-created_at", "-id")[:11]
        orm_sql, orm_params = qs.query.sql_with_params()
        plans["panel"] = (_quote_scan(orm_sql, orm_params), _quote_scan(RAW_PANEL, {"deal": deal.pk}))
    with schema_context(SCHEMA), transaction.atomic():
        # The expiry job's batch query (quotes_expire), with the date moved as _measure_expire moves it.
        moved = today + timedelta(days=EXPIRE_DAYS)
        batch = (
            Quote.objects.select_for_update(skip_locked=True)
            .filter(status__in=EXPIRABLE, expires_on__lt=moved)
            .order_by("pk")
            .values_list("pk", "number", "status", "revision", "title")[:EXPIRE_BATCH]
        )
        batch_sql, batch_params = batch.query.sql_with_params()
        plans["expire"] = (
            _quote_scan(batch_sql, batch_params),
            _quote_scan(RAW_EXPIRE, {"today": moved, "now": datetime.now(UTC)}),
        )
    cases["panel"] = {
        "view": get(f"/crm/deals/{deal.pk}/"),
        "query": panel,
        "orm_sql": sql_of(orm_sql, orm_params),
        "raw": sql_of(RAW_PANEL, {"deal": deal.pk}),
    }
    for name, fns in cases.items():
        orm_ids = [row.pk for row in fns["query"]()]
        raw_ids = [row[0] for row in fns["raw"]()]
        size = 10 if name == "panel" else 50
        assert len(orm_ids) == min(size, len(raw_ids)) and orm_ids == raw_ids[:size], f"{name}: rows differ"
        assert name != "deep" or orm_ids[0] < last.pk, "the deep page does not start after its cursor"
    return cases, plans


def _measure(cases: dict) -> dict:
    """Every (case, variant) once per round, in turn, so a busy moment on the machine slows all of them alike."""
    runs = [(name, key, fn) for name, fns in cases.items() for key, fn in fns.items()]
    for _ in range(3):
        for _name, _key, fn in runs:
            fn()  # warm caches and the connection
    samples = {(name, key): [] for name, key, _fn in runs}
    for _ in range(ROUNDS):
        for name, key, fn in runs:
            started = time.perf_counter()
            fn()
            samples[(name, key)].append(time.perf_counter() - started)
    return {name: {key: _percentiles(samples[(name, key)]) for key in fns} for name, fns in cases.items()}


def _measure_expire(today: date) -> dict:
    """quotes_expire and RAW_EXPIRE in alternation, each from the same table: the expired quotes are put back and
    the rows written deleted (then VACUUM, as autovacuum would) before every run."""
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from billing.services.quote_publishing import EXPIRABLE, quotes_expire
    from commerce_hub.events import services as event_services

    written = ("billing_quoteevent", "accounts_auditentry", "events_outboxevent")
    enqueue = event_services._enqueue_event
    with schema_context(SCHEMA), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_quote_live")
        cursor.execute(
            "CREATE TABLE bench_quote_live AS SELECT id, status FROM billing_quote "
            "WHERE status = ANY(%s) AND expires_on < %s",
            [list(EXPIRABLE), today],
        )
        expected = cursor.execute("SELECT COUNT(*) FROM bench_quote_live").fetchone()[0]
        marks = {t: cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0] for t in written}

    def restore():
        with schema_context(SCHEMA), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE billing_quote q SET status = b.status, expired_at = NULL FROM bench_quote_live b "
                "WHERE q.id = b.id AND q.status = 'expired'"
            )
            # Audit entries are append-only (a trigger refuses DELETE): the bench's own rows go with triggers off.
            cursor.execute("SET session_replication_role = replica")
            for table in written:
                cursor.execute(f"DELETE FROM {table} WHERE id > %s", [marks[table]])
            cursor.execute("SET session_replication_role = DEFAULT")
            for table in ("billing_quote", *written):
                cursor.execute(f"VACUUM (ANALYZE) {table}")

    def check():
        with schema_context(SCHEMA), connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT COUNT(*) FROM billing_quote q JOIN bench_quote_live b ON b.id = q.id "
                "WHERE q.status = 'expired'), "
                + ", ".join(f"(SELECT COUNT(*) FROM {t} WHERE id > {marks[t]})" for t in written)
            )
            got = cursor.fetchone()
        assert got == (expected,) * 4, f"expected {expected} expired quotes and rows of each, got {got}"

    def orm():
        with schema_context(SCHEMA):
            assert len(quotes_expire(today=today)) == expected

    def raw():
        with schema_context(SCHEMA), connection.cursor() as cursor:
            cursor.execute(RAW_EXPIRE, {"today": today, "now": timezone.now()})

    samples = {"quotes_expire": [], "raw": []}
    event_services.event_enqueuer_set(None)
    try:
        for round_ in range(EXPIRE_ROUNDS):
            for mode, fn in (("raw", raw), ("quotes_expire", orm))[:: 1 if round_ % 2 else -1]:
                restore()
                started = time.perf_counter()
                fn()
                samples[mode].append(time.perf_counter() - started)
                check()
    finally:
        event_services.event_enqueuer_set(enqueue)
        restore()
        with schema_context(SCHEMA), connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_quote_live")
    return {**samples, "expired": expected, "today": today}


if __name__ == "__main__":
    sys.exit(main())
