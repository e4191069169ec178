"""Invoice PDF rendering and the PDF cache, against the baseline of a one-line WeasyPrint render, in one warm
process.

    make bench     (or: python -m commerce_hub.embedded exec -- python bench/invoice_pdf.py)

Uses its own database (<DATABASE_URL name>_bench) and its own tenant (t_bench_pdf), created at the start and
dropped at the end; PDFs and the logo go to a temporary media folder. It finalizes a one-page and a three-page
invoice (EUR, logo, QR code) and times, interleaved so that a busy machine slows every case alike:
  baseline - "<p>...</p>" rendered by the same renderer (font configuration and fetcher) without the stylesheet
  1 page   - billing.pdf.document_pdf of the one-page invoice's snapshot
  3 pages  - the same for the three-page invoice
  cached   - billing.pdf.invoice_pdf_bytes of the finalized one-page invoice, served from its stored PDF
and prints p50/p95 of each and the ratios against the goals: one page at most 3x the baseline, each further page
at most 1x the baseline more, and the cached PDF at most 0.05x a render.
"""

import io
import logging
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 30))
SCHEMA = "t_bench_pdf"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100)
    return q[49] * 1000, q[94] * 1000


def _logo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (480, 140), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 10, 120, 130), fill=(15, 118, 110, 255))
    draw.rectangle((140, 45, 470, 95), fill=(31, 41, 55, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _invoices(admin) -> tuple:
    """A finalized one-page and three-page invoice of a Dutch seller to a Norwegian buyer."""
    from django.core.files.base import ContentFile

    from billing.documents import invoice_settings_get
    from billing.models import InvoiceSettings, LineItem, TaxRate
    from billing.services.invoices import invoice_create, invoice_finalize
    from commerce_hub.organization.models import OrganizationProfile
    from commerce_hub.organization.selectors import organization_profile_forget
    from crm.models import Company, Contact

    OrganizationProfile.objects.filter(pk=1).update(
        legal_name="Noorderlicht Software B.V.",
        address_line1="Keizersgracht 123",
        postal_code="1015 CJ",
        city="Amsterdam",
        country="NL",
        vat_number="NL000099998B57",
        registration_number="12345678",
    )
    OrganizationProfile.objects.get(pk=1).logo.save("logo.png", ContentFile(_logo()))
    organization_profile_forget()
    invoice_settings_get()
    InvoiceSettings.objects.filter(pk=1).update(
        bank_account_holder="Noorderlicht Software B.V.",
        iban="NL91ABNA0417164300",
        bic="ABNANL2A",
        footer_text="Questions about this invoice? billing@noorderlicht.example",
        legal_text="Our general terms and conditions apply; they are filed with the Chamber of Commerce.",
    )
    company = Company.objects.create(
        name="Fjordline AS",
        address_line1="Strandgaten 5",
        postal_code="5013",
        city="Bergen",
        country="NO",
        vat_number="NO974760673MVA",
        language="nl",
    )
    contact = Contact.objects.create(first_name="Kari", last_name="Nordmann", email="kari@fjordline.example")
    rate = TaxRate.objects.get(name="BTW 21%")

    def finalized(count: int):
        invoice = invoice_create(actor=admin, company=company, contacts=[contact], currency="EUR", language="nl")
        LineItem.objects.bulk_create(
            LineItem(
                invoice=invoice,
                position=i,
                name=f"Consulting sprint {i + 1}",
                description="Architecture review and workshop" if i % 3 == 0 else "",
                quantity=Decimal(2),
                unit_price=Decimal("120.00"),
                currency="EUR",
                tax_rate=rate,
            )
            for i in range(count)
        )
        return invoice_finalize(invoice=invoice, actor=admin)

    return finalized(4), finalized(50)


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.crm_index import _bench_database_url

    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")
    os.environ["DEBUG"] = "0"  # the cached template loader, as in production
    os.environ["COMMERCE_HUB_TESTING"] = "1"
    import django

    django.setup()
    # WeasyPrint logs seven progress lines per render at INFO; printing them is not what is being measured.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    import pypdf
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings
    from django_tenants.utils import schema_context
    from weasyprint import HTML

    from billing import pdf
    from commerce_hub.accounts.models import Role, User
    from commerce_hub.organization.services import organization_profile_initialize
    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap

    media = tempfile.TemporaryDirectory(prefix="bench-pdf-")
    override_settings(
        STORAGES=settings.STORAGES
        | {"default": {"BACKEND": settings.STORAGES["default"]["BACKEND"], "OPTIONS": {"location": media.name}}}
    ).enable()
    call_command("migrate_schemas", shared=True, verbosity=0)
    platform_bootstrap()
    call_command("migrate_schemas", verbosity=0)
    for stale in Tenant.objects.filter(schema_name=SCHEMA):
        stale.delete(force_drop=True)
    tenant = Tenant(schema_name=SCHEMA, name="Bench PDF")
    tenant.save()
    try:
        with schema_context(SCHEMA):
            organization_profile_initialize(legal_name="Noorderlicht Software B.V.")
            admin = User.objects.create_user(
                email="admin@bench-pdf.example", password="bench-password-2026", full_name="Bench", role=Role.ADMIN
            )
            one, three = _invoices(admin)
            pages = {
                name: len(pypdf.PdfReader(io.BytesIO(pdf.document_pdf(invoice.snapshot))).pages)
                for name, invoice in (("1 page", one), ("3 pages", three))
            }
            pdf.invoice_pdf_bytes(one)  # stores the PDF: what follows is served from storage
            assert one.pdf_path, "the PDF was not cached"
            baseline_html = "<p>Invoice INV-1001</p>"
            cases = {
                "baseline": lambda: pdf.html_pdf(baseline_html, stylesheet=False),
                "1 page": lambda: pdf.document_pdf(one.snapshot),
                "3 pages": lambda: pdf.document_pdf(three.snapshot),
                "cached": lambda: pdf.invoice_pdf_bytes(one),
                "plain weasyprint": lambda: HTML(string=baseline_html).write_pdf(),
            }
            for fn in cases.values():
                for _ in range(3):
                    fn()  # warm the renderer, the templates, the fonts
            samples = {name: [] for name in cases}
            for _ in range(ROUNDS):
                for name, fn in cases.items():
                    started = time.perf_counter()
                    fn()
                    samples[name].append(time.perf_counter() - started)
    finally:
        connection.set_schema_to_public()
        tenant.delete(force_drop=True)
        media.cleanup()

    figures = {name: _percentiles(values) for name, values in samples.items()}
    print(f"invoice PDFs, {ROUNDS} runs each (pages: 1 page -> {pages['1 page']}, 3 pages -> {pages['3 pages']})")
    for name, (p50, p95) in figures.items():
        print(f"  {name:16} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    base, one_page, three_pages, cached = (figures[k][0] for k in ("baseline", "1 page", "3 pages", "cached"))
    per_page = (three_pages - one_page) / (pages["3 pages"] - pages["1 page"])
    checks = [
        ("1 page / baseline", one_page / base, 3.0),
        ("each added page / baseline", per_page / base, 1.0),
        ("cached / 1-page render", cached / one_page, 0.05),
    ]
    print(f"ratios at p50 (baseline {base:.2f} ms; plain WeasyPrint defaults {figures['plain weasyprint'][0]:.2f} ms):")
    for label, ratio, goal in checks:
        print(f"  {label:28} {ratio:6.2f}x   goal <= {goal:g}x   {'met' if ratio <= goal else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
