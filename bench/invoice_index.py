"""The invoices index at a million invoices, against raw SQL for the same rows, measured in the same run.

    python -m commerce_hub.embedded exec -- python bench/invoice_index.py

Creates a tenant of its own in <DATABASE_URL name>_bench, fills it with COPY (1,000,000 invoices: mostly finalized,
open, paid and void, about 10% overdue, EUR and NOK, and their payments) and the receivables ledger entries those
documents make (set-based INSERT ... SELECT, as the ledger's backfill migration writes them), then times:
  view    - GET of the Overdue view through Django's test client: the whole page, 50 rows in the shell
  query   - the selector's queryset for that page (first page), evaluated
  orm sql - the SQL that queryset sends, run by hand (what the database costs, without the ORM)
  raw     - hand-written SQL returning the same 51 rows and columns, every ledger figure from one correlated sum
            over the invoice's entries
  totals  - the view's totals per currency (all matching rows), for the Overdue view and for All
and prints p50/p95 of each and the ratios. The tenant is dropped at the end (BENCH_KEEP=1 keeps it for the next
run, which then skips the seeding).
"""

import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

INVOICES = int(os.environ.get("BENCH_INVOICES", 1_000_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 30))
SUBDOMAIN = "bench-invoices"
SCHEMA = "t_bench_invoices"
COMPANIES = 20_000


def _percentiles(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100)
    return q[49] * 1000, q[94] * 1000


def _seed(today: date) -> None:
    """COPY invoices and payments straight into the tenant's tables. The guard trigger fires on UPDATE and DELETE
    only, so inserting finalized rows needs no trigger changes; the check constraints hold (every finalized row
    has a number, a sequence and an invoice date)."""
    from django.db import connection
    from django.utils import timezone

    from crm.models import Company, Contact

    rng = random.Random(20260101)
    time_of_day = datetime.min.time().replace(hour=9)
    company_ids = list(Company.objects.values_list("id", flat=True))
    contact_ids = list(Contact.objects.values_list("id", flat=True))
    now = timezone.now()
    start = 1_000_000  # far from what the demo data numbered
    payments: list[tuple] = []
    contact_only: list[tuple[int, int]] = []
    next_id = 0
    with connection.cursor() as cursor:
        next_id = cursor.execute("SELECT COALESCE(MAX(id), 0) FROM billing_invoice").fetchone()[0]
    first_id = next_id + 1

    def invoices():
        nonlocal next_id
        for i in range(INVOICES):
            next_id += 1
            currency = "EUR" if rng.random() < 0.6 else "NOK"
            total = Decimal(rng.randrange(5_000, 2_500_000)) / 100
            vat = (total * Decimal("0.21") / Decimal("1.21")).quantize(Decimal("0.01"))
            terms = rng.choice((14, 14, 30))
            r = rng.random()
            company_id = rng.choice(company_ids) if rng.random() < 0.95 else None
            if company_id is None:
                contact_only.append((next_id, rng.choice(contact_ids)))
            if r < 0.02:  # drafts: no number, no dates, no total yet
                created = now - timedelta(minutes=i % 5000)
                yield (next_id, "draft", None, None, currency, company_id, None, None, None, None, created)
                continue
            if r < 0.12:  # overdue: open, due in the past, most of them recently
                due = today - timedelta(days=1 + min(int(rng.expovariate(1 / 45)), 700))
                status = "open"
            elif r < 0.20:  # open and not due yet
                due = today + timedelta(days=rng.randrange(0, terms))
                status = "open"
            else:
                due = today - timedelta(days=rng.randrange(1, 730))
                status = "void" if r < 0.23 else "uncollectible" if r < 0.24 else "paid"
            issue = due - timedelta(days=terms)
            if status == "paid":
                payments.append((next_id, total, currency, min(due, today)))
            elif status == "open" and rng.random() < 0.2:
                payments.append((next_id, (total / 3).quantize(Decimal("0.01")), currency, today))
            sequence = start + i
            snapshot = (
                f'{{"number": "INV-{sequence}", "currency": "{currency}", "subtotal": "{total - vat}", '
                f'"vat_total": "{vat}", "total": "{total}", "buyer": {{"name": "Buyer {company_id}", '
                f'"vat_number": "NL000099998B57", "country": "NL"}}, "lines": [{{"name": "Consulting", '
                f'"quantity": "1", "unit_price": "{total - vat}", "net": "{total - vat}", "tax_rate": "21"}}]}}'
            )
            yield (
                next_id,
                status,
                f"INV-{sequence}",
                sequence,
                currency,
                company_id,
                issue,
                due,
                total,
                snapshot,
                timezone.make_aware(datetime.combine(issue, time_of_day)),
            )

    columns = "id, status, number, sequence, currency, company_id, issue_date, due_date, total, snapshot, created_at"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY billing_invoice ({columns}, updated_at, language, payment_methods, comments, logo_path, pdf_path) "
            "FROM STDIN"
        ) as copy:
            for row in invoices():
                copy.write_row((*row, row[-1], "en", "[]", "", "", ""))
        with cursor.cursor.copy(
            "COPY billing_invoicepayment (invoice_id, amount, currency, paid_on, method, reference, source, "
            "created_at) FROM STDIN"
        ) as copy:
            for invoice_id, amount, currency, paid_on in payments:
                copy.write_row((invoice_id, amount, currency, paid_on, "bank_transfer", "", "bench", now))
        with cursor.cursor.copy("COPY billing_invoice_contacts (invoice_id, contact_id) FROM STDIN") as copy:
            for row in contact_only:
                copy.write_row(row)
        cursor.execute("SELECT setval(pg_get_serial_sequence('billing_invoice', 'id'), %s)", [next_id])
        started = time.perf_counter()
        cursor.execute("ANALYZE billing_invoice, billing_invoicepayment, billing_invoice_contacts")
        for statement in LEDGER_SEED:
            cursor.execute(statement, {"first_id": first_id})
            cursor.execute("ANALYZE billing_receivableentry")  # the next statement joins the issue entries
        print(f"  ledger entries written in {time.perf_counter() - started:.0f} s", flush=True)
        # Every seeded invoice's bucket holds what its payments left owing: its total less them while open, nothing
        # once paid, void or uncollectible.
        cursor.execute(
            """
            SELECT COUNT(*) FROM billing_invoice i
            LEFT JOIN (SELECT invoice_id, SUM(amount) AS s FROM billing_invoicepayment GROUP BY 1) p
                ON p.invoice_id = i.id
            LEFT JOIN (SELECT invoice_id, SUM(amount) AS s FROM billing_receivableentry GROUP BY 1) e
                ON e.invoice_id = i.id
            WHERE i.id >= %s AND i.status <> 'draft'
              AND COALESCE(e.s, 0) <> CASE WHEN i.status = 'open' THEN i.total - COALESCE(p.s, 0) ELSE 0 END
            """,
            [first_id],
        )
        wrong = cursor.fetchone()[0]
        assert wrong == 0, f"{wrong} seeded invoices have a ledger balance their payments do not explain"
        # What autovacuum does soon after a bulk load: statistics, and the visibility map for index-only scans.
        tables = ("billing_invoice", "billing_invoicepayment", "billing_invoice_contacts", "billing_receivableentry")
        for table in (*tables, "crm_company"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


# The ledger entries the services would have written for the seeded documents, set-based, as the backfill of
# billing/migrations/0007_receivables_ledger.py writes them: an issue entry per finalized invoice (its account is the
# company, or the one contact of a company-less invoice), three per payment (received into the account's credit
# bucket, then applied: out of the credit bucket and off the invoice's balance; every seeded payment fits its
# invoice's balance) and the rest of a void or uncollectible invoice written off (the seed pays none of those).
_ENTRY_COLUMNS = (
    "company_id, contact_id, currency, amount, kind, invoice_id, payment_id, effective_on, caused_by, memo, created_at"
)
LEDGER_SEED = (
    f"""
    INSERT INTO billing_receivableentry ({_ENTRY_COLUMNS})
    SELECT i.company_id, ic.contact_id, i.currency, i.total, 'invoice_finalized', i.id, NULL, i.issue_date, 'system',
           '', i.created_at
    FROM billing_invoice i
    LEFT JOIN billing_invoice_contacts ic ON i.company_id IS NULL AND ic.invoice_id = i.id
    WHERE i.id >= %(first_id)s AND i.status <> 'draft'
    """,
    f"""
    INSERT INTO billing_receivableentry ({_ENTRY_COLUMNS})
    SELECT e.company_id, e.contact_id, p.currency, leg.amount, leg.kind, leg.invoice_id, p.id, p.paid_on, 'bench',
           '', p.created_at
    FROM billing_invoicepayment p
    JOIN billing_receivableentry e ON e.invoice_id = p.invoice_id AND e.kind = 'invoice_finalized'
    CROSS JOIN LATERAL (VALUES
        (1, -p.amount, 'payment_received', NULL::bigint),
        (2, -p.amount, 'payment_applied', p.invoice_id),
        (3, p.amount, 'payment_applied', NULL::bigint)
    ) AS leg(n, amount, kind, invoice_id)
    WHERE p.invoice_id >= %(first_id)s
    ORDER BY p.id, leg.n
    """,
    f"""
    INSERT INTO billing_receivableentry ({_ENTRY_COLUMNS})
    SELECT e.company_id, e.contact_id, e.currency, -e.amount,
           CASE WHEN i.status = 'void' THEN 'voided' ELSE 'written_off' END, i.id, NULL, e.effective_on, 'system',
           '', e.created_at
    FROM billing_invoice i
    JOIN billing_receivableentry e ON e.invoice_id = i.id AND e.kind = 'invoice_finalized'
    WHERE i.id >= %(first_id)s AND i.status IN ('void', 'uncollectible')
    """,
)

# The same rows and columns as the selector's page query, written by hand: every figure from one correlated sum
# over the invoice's ledger entries (the index-only scan of billing_ledger_invoice), split by kind with FILTER.
RAW_OVERDUE = """
SELECT i.id, i.status, i.number, i.sequence, i.currency, i.language, i.company_id, i.deal_id, i.source_quote_id,
       i.late_fee_for_id, i.payment_terms_days, i.custom_due_date, i.payment_methods, i.comments, i.issue_date,
       i.due_date, i.total, i.logo_path, i.pdf_path, i.public_token, i.first_viewed_at, i.sent_at, i.finalized_at,
       i.paid_at, i.voided_at, i.overdue_at, i.created_by_id, i.created_at, i.updated_at,
       CASE WHEN i.company_id IS NULL THEN (
           SELECT k.first_name || ' ' || k.last_name FROM billing_invoice_contacts ik
           JOIN crm_contact k ON k.id = ik.contact_id WHERE ik.invoice_id = i.id
           ORDER BY k.last_name, k.first_name, k.id LIMIT 1) ELSE '' END AS buyer_contact,
       f.paid, f.credited, f.written_off,
       CASE WHEN i.status = 'open' THEN f.due ELSE 0 END AS balance_due,
       CASE WHEN i.status = 'open' AND i.due_date < %(today)s THEN 'overdue'
            WHEN i.status = 'open' AND (f.paid > 0 OR f.credited > 0) THEN 'partially_paid'
            WHEN i.status = 'paid' AND f.paid = 0 AND f.credited > 0 THEN 'credited'
            ELSE i.status END AS display_status,
       c.*
FROM billing_invoice i
LEFT JOIN crm_company c ON c.id = i.company_id
CROSS JOIN LATERAL (
    SELECT COALESCE(SUM(e.amount), 0) AS due,
           -COALESCE(SUM(e.amount) FILTER (
               WHERE e.kind IN ('payment_applied', 'payment_reversed', 'credit_applied')), 0) AS paid,
           -COALESCE(SUM(e.amount) FILTER (WHERE e.kind = 'credit_note_issued'), 0) AS credited,
           -COALESCE(SUM(e.amount) FILTER (WHERE e.kind IN ('written_off', 'voided')), 0) AS written_off
    FROM billing_receivableentry e WHERE e.invoice_id = i.id
) AS f
WHERE i.status = 'open' AND i.due_date < %(today)s
ORDER BY i.due_date, i.id LIMIT 51
"""


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.crm_index import _bench_database_url

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
    from django.http import QueryDict
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from billing.models import Invoice, InvoicePayment
    from billing.selectors.invoice_index import invoice_index_query, invoice_index_totals, invoice_rows_decorate
    from commerce_hub.accounts.models import User
    from commerce_hub.pagination import keyset_page
    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap

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
            if Invoice.objects.count() < INVOICES:
                print(f"seeding {INVOICES:,} invoices into {SCHEMA} ...", flush=True)
                started = time.perf_counter()
                _seed(today)
                print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
            admin = User.objects.get(role="admin", email__startswith="admin@")
            counts = {
                "invoices": Invoice.objects.count(),
                "overdue": Invoice.objects.filter(status="open", due_date__lt=today).count(),
                "payments": InvoicePayment.objects.count(),
            }
        connection.set_schema_to_public()
        client = Client(HTTP_HOST=f"{SUBDOMAIN}.localhost")
        with schema_context(SCHEMA):
            client.force_login(admin)
        connection.set_schema_to_public()
        results = _measure(client, admin, today, invoice_index_query, invoice_index_totals, invoice_rows_decorate)
        with schema_context(SCHEMA):
            index = invoice_index_query(params=QueryDict("view=overdue"), user=admin, today=today)
            page_sql, page_params = index.queryset.order_by(*index.ordering)[:51].query.sql_with_params()
            plan = _explain(page_sql, page_params)
            raw_plan = _explain(RAW_OVERDUE, {"today": today})
            page = keyset_page(index.queryset, ordering=index.ordering, cursor=None, size=50)
            assert len(page.rows) == 50
            with connection.cursor() as cursor:
                cursor.execute(RAW_OVERDUE, {"today": today})
                names = [column.name for column in cursor.description]  # c.* repeats "id": the first is ours
                at = [names.index(name) for name in ("id", "paid", "credited", "written_off", "balance_due")]
                at.append(names.index("display_status"))
                raw_rows = [tuple(row[i] for i in at) for row in cursor.fetchall()]
            orm_rows = [
                (r.pk, r.paid_amount, r.credited_amount, r.written_off_amount, r.balance_due, r.display_status)
                for r in page.rows
            ]
            assert orm_rows == raw_rows[:50], "raw SQL and the selector disagree"
    finally:
        connection.set_schema_to_public()
        if tenant is not None and not keep:
            tenant.delete(force_drop=True)
            print(f"dropped {SCHEMA}")

    print(
        f"\n{SCHEMA}: {counts['invoices']:,} invoices, {counts['overdue']:,} overdue, {counts['payments']:,} payments"
    )
    r = results
    print(
        f"  overdue  view p50 {r['view'][0]:6.1f} p95 {r['view'][1]:6.1f} ms | "
        f"query p50 {r['query'][0]:5.2f} p95 {r['query'][1]:5.2f} | "
        f"orm sql p50 {r['orm_sql'][0]:5.2f} p95 {r['orm_sql'][1]:5.2f} | "
        f"raw p50 {r['raw'][0]:5.2f} p95 {r['raw'][1]:5.2f} ms"
    )
    print(
        f"  {'':8} p95 against raw sql: orm sql {r['orm_sql'][1] / r['raw'][1]:.2f}x, "
        f"query {r['query'][1] / r['raw'][1]:.1f}x, view {r['view'][1] / r['raw'][1]:.1f}x"
    )
    print(
        f"  page     (view + its totals request) p50 {r['page'][0]:6.1f} p95 {r['page'][1]:6.1f} ms, "
        f"{r['page'][1] / r['raw'][1]:.1f}x raw sql at p95"
    )
    print(
        f"  totals   overdue view p50 {r['totals_overdue'][0]:6.1f} p95 {r['totals_overdue'][1]:6.1f} ms | "
        f"its own sql p50 {r['totals_sql'][0]:6.1f} p95 {r['totals_sql'][1]:6.1f} ms "
        f"({r['totals_overdue'][1] / r['totals_sql'][1]:.2f}x) | "
        f"all invoices p50 {r['totals_all'][0]:6.1f} p95 {r['totals_all'][1]:6.1f} ms"
    )
    print(f"  page query plan: {plan}")
    print(f"  raw query plan:  {raw_plan}")
    return 0


def _explain(sql: str, params) -> str:
    """The access path of the top scan, in one line (which index, or a sequential scan)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        lines = [row[0].strip() for row in cursor.fetchall()]
    scans = [line.lstrip("-> ").split("  (")[0] for line in lines if "Scan" in line]
    return scans[0] if scans else lines[0]


def _measure(client, admin, today, invoice_index_query, invoice_index_totals, invoice_rows_decorate) -> dict:
    from django.db import connection
    from django.http import QueryDict
    from django_tenants.utils import schema_context

    from commerce_hub.pagination import keyset_page

    url = "/billing/invoices/?view=overdue"

    def view():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        connection.set_schema_to_public()

    def query():
        with schema_context(SCHEMA):
            index = invoice_index_query(params=QueryDict("view=overdue"), user=admin, today=today)
            page = keyset_page(index.queryset, ordering=index.ordering, cursor=None, size=50)
            invoice_rows_decorate(page.rows, today=today)

    def totals(query_string):
        def run():
            with schema_context(SCHEMA):
                index = invoice_index_query(params=QueryDict(query_string), user=admin, today=today)
                invoice_index_totals(index.queryset)

        return run

    with schema_context(SCHEMA):
        index = invoice_index_query(params=QueryDict("view=overdue"), user=admin, today=today)
        orm_sql, orm_params = index.queryset.order_by(*index.ordering)[:51].query.sql_with_params()

    def page():
        # What a browser waits for: the page, then the totals it loads with htmx (hx-trigger="load").
        view()
        response = client.get("/billing/invoices/totals/?view=overdue")
        assert response.status_code == 200, response.status_code
        connection.set_schema_to_public()

    # The totals' own SQL, as the selector sends it, to time against the selector.
    from django.test.utils import CaptureQueriesContext

    with schema_context(SCHEMA), CaptureQueriesContext(connection) as captured:
        index = invoice_index_query(params=QueryDict("view=overdue"), user=admin, today=today)
        invoice_index_totals(index.queryset)
    totals_sql = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET ")][-1]

    # SQL runs on a plain psycopg connection whose search path is the tenant's, set once: the tenant cursor would
    # add a search-path switch to every query, which the raw baseline must not pay.
    plain = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, options=f"-c search_path={SCHEMA},public")

    def sql_of(statement, params):
        def run():
            plain.execute(statement, params).fetchall()

        return run

    def literal(sql):  # CaptureQueriesContext gives the statement with its parameters already in it
        def run():
            plain.execute(sql.replace("%", "%%")).fetchall()

        return run

    timings = (
        ("view", view),
        ("page", page),
        ("query", query),
        ("orm_sql", sql_of(orm_sql, orm_params)),
        ("raw", sql_of(RAW_OVERDUE, {"today": today})),
        ("totals_overdue", totals("view=overdue")),
        ("totals_sql", literal(totals_sql)),
        ("totals_all", totals("view=all")),
    )
    # Interleaved (A B A B ...), so a busy moment on the machine slows every case alike.
    for _ in range(3):
        for _key, fn in timings:
            fn()
    samples = {key: [] for key, _fn in timings}
    for _ in range(ROUNDS):
        for key, fn in timings:
            started = time.perf_counter()
            fn()
            samples[key].append(time.perf_counter() - started)
    plain.close()
    return {key: _percentiles(values) for key, values in samples.items()}


if __name__ == "__main__":
    sys.exit(main())
