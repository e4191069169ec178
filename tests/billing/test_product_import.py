"""CSV import of products: upload, mapping, the check of every row, and the write (all rows, or only valid ones)."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from billing.models import Product, ProductFolder, ProductImportJob, ProductPrice, TaxRate
from billing.services.products import ComponentInput, PriceInput, ProductInput, TierInput, product_create
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from tests.conftest import user_make

START = "/billing/products/import/"


def product_import_get(pk) -> ProductImportJob:
    return ProductImportJob.objects.get(pk=pk)


def errors_of(job) -> list[tuple]:
    return list(job.row_errors.values_list("row_number", "column", "value", "message"))


def upload(client, content: str, name: str = "products.csv"):
    data = content.encode("utf-8-sig")
    return client.post(START, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def check(client, capture, content: str, **changes):
    """Upload, keep the guessed mapping (with `changes` by header), and check every row."""
    response = upload(client, content)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    token = re.fullmatch(r"/billing/products/import/(\d+)/mapping/", response["Location"]).group(1)
    job = product_import_get(token)
    data = {f"col_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers) if h}
    for header, key in changes.items():
        data[f"col_{job.headers.index(header)}"] = key
    with capture(execute=True):
        response = client.post(f"/billing/products/import/{token}/mapping/", data)
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == f"/billing/products/import/{token}/"
    return product_import_get(token)


def run(client, capture, job, *, skip_invalid: bool = False):
    with capture(execute=True):
        response = client.post(
            f"/billing/products/import/{job.pk}/run/", {"skip_invalid": "1" if skip_invalid else "0"}
        )
    assert response["Location"] == f"/billing/products/import/{job.pk}/"
    return product_import_get(job.pk)


def make(sku, **fields):
    prices = fields.pop("prices", {"EUR": "10"})
    return product_create(
        data=ProductInput(
            name=fields.pop("name", sku),
            sku=sku,
            prices=[PriceInput(c, Decimal(v)) for c, v in prices.items()],
            **fields,
        ),
        actor=None,
    )


def catalogue() -> list[tuple]:
    return [
        (
            p.sku,
            p.name,
            p.description,
            p.folder.name if p.folder_id else None,
            p.is_archived,
            p.pricing_model,
            p.billing_frequency,
            p.term_months,
            p.term_weeks,
            p.tax_rate.name if p.tax_rate_id else None,
            p.unit_cost,
            p.cost_currency,
            sorted((x.currency, x.unit_price) for x in p.prices.all()),
            [(t.currency, t.up_to, t.unit_price, t.flat_fee) for t in p.tiers.order_by("currency", "position")],
            sorted((c.component.sku, c.quantity) for c in p.components.all()),
        )
        for p in Product.objects.select_related("folder", "tax_rate").order_by("sku")
    ]


# --- happy paths --------------------------------------------------------------------------------------------------


def test_an_exported_file_imports_back_as_the_same_products(admin_client, django_capture_on_commit_callbacks):
    hardware = ProductFolder.objects.create(name="Hardware")
    make(
        "HOST-1",
        name="Hosting",
        description="- managed\n- backups",
        prices={"EUR": "49.99", "NOK": "575"},
        billing_frequency="monthly",
        term_months=12,
        tax_rate_id=TaxRate.objects.get(name="BTW 21%").pk,
        unit_cost=Decimal("12.5"),
        cost_currency="EUR",
    )
    make(
        "SEATS",
        pricing_model="volume",
        prices={"EUR": "5"},
        tiers=[TierInput("EUR", Decimal(10), Decimal("5")), TierInput("EUR", None, Decimal("4.5"), Decimal(20))],
        folder_id=hardware.pk,
        billing_frequency="weekly",
        term_weeks=52,
    )
    disk = make("DISK", prices={"NOK": "0.000125"})
    make("BOX", is_bundle=True, bundle_pricing="whole", components=[ComponentInput(disk.pk, Decimal(3))])
    make("OLD", is_archived=True)
    before = catalogue()
    export = admin_client.get("/billing/products/export.csv?status=all")
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    # Everything but the bundle's component goes; the import must recreate it all.
    Product.objects.exclude(sku="DISK").delete()
    ProductFolder.objects.all().delete()
    lines = text.splitlines()
    content = "\n".join(line for line in lines if not line.startswith("DISK,")) + "\n"

    job = check(admin_client, django_capture_on_commit_callbacks, content)
    assert (job.status, job.total_rows, job.valid_rows, errors_of(job)) == ("validated", 4, 4, [])
    job = run(admin_client, django_capture_on_commit_callbacks, job)
    assert (job.status, job.imported_rows) == ("done", 4)
    assert catalogue() == before
    event = OutboxEvent.objects.get(name="product.bulk_created")
    assert sorted(event.payload["ids"]) == sorted(Product.objects.exclude(sku="DISK").values_list("pk", flat=True))
    assert event.payload["import"] == job.pk


def test_a_dutch_sheet_with_price_and_currency_columns(admin_client, admin_user, django_capture_on_commit_callbacks):
    admin_user.language = "nl"
    admin_user.save(update_fields=["language"])
    content = (
        "Artikelnummer;Productnaam;Prijs;Valuta;BTW;Categorie\n"
        "KOF-1;Koffiebonen 1 kg;1.234,50;EUR;BTW 9%;Horeca\n"
        "KOF-2;Koffiefilter;2,95;;BTW 21%;horeca\n"
    )
    job = check(admin_client, django_capture_on_commit_callbacks, content)
    assert job.mapping == {
        "Artikelnummer": "sku",
        "Productnaam": "name",
        "Prijs": "unit_price",
        "Valuta": "currency",
        "BTW": "tax_rate",
        "Categorie": "folder",
    }
    assert (job.valid_rows, errors_of(job)) == (2, [])
    run(admin_client, django_capture_on_commit_callbacks, job)
    assert sorted(ProductPrice.objects.values_list("product__sku", "currency", "unit_price")) == [
        ("KOF-1", "EUR", Decimal("1234.50")),
        ("KOF-2", "EUR", Decimal("2.95")),  # no currency: the company's default
    ]
    assert list(ProductFolder.objects.values_list("name", flat=True)) == ["Horeca"]  # created once
    assert set(Product.objects.values_list("folder__name", flat=True)) == {"Horeca"}


# --- bad rows -----------------------------------------------------------------------------------------------------

BAD = (
    "sku,name,price_EUR,unit_price,currency,tax_rate,billing_frequency,term_months\n"
    "OK-1,Fine,10,,,BTW 21%,monthly,12\n"  # row 2: valid
    "OK-1,Twin,11,,,,,\n"  # row 3: same SKU as row 2
    "taken,Stored already,5,,,,,\n"  # row 4: SKU in the library (other case)
    "NEG,Negative,-3,,,,,\n"  # row 5
    "WORD,Words,ten,,,,,\n"  # row 6
    "PREC,Precise,1.1234567,,,,,\n"  # row 7
    "CUR,Currency,,20,XYZ,,,\n"  # row 8
    "TAX,Tax,5,,,BTW 19%,,\n"  # row 9
    "FREQ,Frequency,5,,,,fortnightly,\n"  # row 10
    "TERM,Term,5,,,,quarterly,2\n"  # row 11
    ",No SKU,5,,,,,\n"  # row 12
)


def test_every_bad_row_is_reported_with_its_reason_and_nothing_is_written(
    admin_client, django_capture_on_commit_callbacks
):
    make("TAKEN")
    job = check(admin_client, django_capture_on_commit_callbacks, BAD)
    assert (job.status, job.total_rows, job.valid_rows) == ("validated", 11, 1)
    assert errors_of(job) == [
        (3, "sku", "OK-1", "This SKU is also in row 2."),
        (4, "sku", "taken", "A product with this SKU already exists."),
        (5, "price_EUR", "-3", "Enter 0 or more."),
        (6, "price_EUR", "ten", "“ten” is not a number."),
        (7, "price_EUR", "1.1234567", "Use at most 6 decimals."),
        (8, "currency", "XYZ", "“XYZ” is not a currency we accept."),
        (9, "tax_rate", "BTW 19%", "No active tax rate is called “BTW 19%”."),
        (
            10,
            "billing_frequency",
            "fortnightly",
            "“fortnightly” is not a billing frequency. Use one of: one_time, weekly, biweekly, monthly, quarterly, "
            "semiannual, annual, biennial, triennial, quadrennial, quinquennial.",
        ),
        (11, "term_months", "2", "The term is shorter than one billing period."),
        (12, "sku", "", "This field is required."),
    ]
    assert Product.objects.count() == 1

    # "Import all rows" is refused while a row fails.
    response = admin_client.post(f"/billing/products/import/{job.pk}/run/", {"skip_invalid": "0"}, follow=True)
    assert "Some rows have errors. Fix the file, or import only the valid rows." in response.content.decode()
    assert Product.objects.count() == 1

    page = admin_client.get(f"/billing/products/import/{job.pk}/").content.decode()
    assert "Import the valid row" in page and "No active tax rate is called “BTW 19%”." in page

    job = run(admin_client, django_capture_on_commit_callbacks, job, skip_invalid=True)
    assert (job.status, job.imported_rows) == ("done", 1)
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["OK-1", "TAKEN"]

    errors = admin_client.get(f"/billing/products/import/{job.pk}/errors.csv")
    rows = list(csv.reader(io.StringIO(b"".join(errors.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Row", "Column", "Value", "Reason"]
    assert rows[3] == ["5", "price_EUR", "-3", "Enter 0 or more."]  # a number, not a formula
    assert len(rows) == 11


def test_tiers_and_components_cells_are_checked(admin_client, django_capture_on_commit_callbacks):
    content = (
        "sku,name,pricing_model,price_EUR,tiers_EUR,components,bundle_pricing\n"
        "T1,Down,volume,5,50:5 | 10:4 | *:3,,\n"
        "T2,Garbled,volume,5,lots,,\n"
        "B1,Bundle,,9,,GHOST:2,whole\n"
    )
    job = check(admin_client, django_capture_on_commit_callbacks, content)
    assert errors_of(job) == [
        (2, "tiers_EUR", "50:5 | 10:4 | *:3", "Each tier must go higher than the tier before it."),
        (3, "tiers_EUR", "lots", "“lots” is not a list of tiers; write up_to:unit_price, like 10:5.00 | *:4.00."),
        (
            4,
            "components",
            "GHOST:2",
            "No product has the SKU “GHOST”; a bundle can only hold products already in the library.",
        ),
    ]


def test_a_sku_saved_after_the_check_rolls_back_every_row(admin_client, django_capture_on_commit_callbacks):
    job = check(admin_client, django_capture_on_commit_callbacks, "sku,name,price_EUR\nA,One,1\nB,Two,2\n")
    assert job.valid_rows == 2
    make("b")  # someone else saves this SKU meanwhile
    job = run(admin_client, django_capture_on_commit_callbacks, job)
    assert job.status == "failed"
    assert job.error == "Some rows failed, so nothing was written. Fix them, or import only the valid rows."
    assert errors_of(job) == [(3, "sku", "B", "A product with this SKU already exists.")]
    assert list(Product.objects.values_list("sku", flat=True)) == ["b"]


def test_the_mapping_needs_the_sku_and_name_columns(admin_client, django_capture_on_commit_callbacks):
    response = upload(admin_client, "code,title,price_EUR\nA,One,1\n")
    token = response["Location"].split("/")[-3]
    job = product_import_get(token)
    response = admin_client.post(
        f"/billing/products/import/{token}/mapping/", {"col_0": "", "col_1": "name", "col_2": "price_EUR"}
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["Choose a column for “SKU”; every row needs one."]
    assert product_import_get(token).status == job.status == "uploaded"


def test_a_large_file_is_checked_and_written_in_tasks(admin_client, django_capture_on_commit_callbacks, eager_tasks):
    rows = "".join(f"SKU-{i:04d},Product {i},{i}.50\n" for i in range(1001))
    job = check(admin_client, django_capture_on_commit_callbacks, "sku,name,price_EUR\n" + rows)
    assert (job.status, job.processed_rows, job.valid_rows) == ("validated", 1001, 1001)
    job = run(admin_client, django_capture_on_commit_callbacks, job)
    assert (job.status, job.imported_rows) == ("done", 1001)
    assert Product.objects.count() == 1001
    assert ProductPrice.objects.get(product__sku="SKU-1000").unit_price == Decimal("1000.50")


def test_a_bad_upload_is_refused_next_to_the_file_field(admin_client):
    response = upload(admin_client, "", name="products.xlsx")
    assert response.status_code == 400
    assert response.context["form"].errors["file"][0].startswith("“products.xlsx” is not a CSV file.")


def test_unknown_imports_are_404_and_sales_cannot_import(admin_client, tenant_alpha):
    assert admin_client.get("/billing/products/import/999999/").status_code == 404
    assert admin_client.post("/billing/products/import/999999/run/").status_code == 404
    assert admin_client.get("/billing/products/import/not-a-number/").status_code == 404
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.SALES))
    assert upload(client, "sku,name,price_EUR\nA,One,1\n").status_code == 403
    assert not Product.objects.exists()


@pytest.mark.parametrize("path", ["", "mapping/", "preview/", "progress/", "errors.csv"])
def test_import_pages_of_another_user_need_the_permission(tenant_alpha, admin_client, path):
    response = upload(admin_client, "sku,name,price_EUR\nA,One,1\n")
    token = response["Location"].split("/")[-3]
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.READ_ONLY))
    assert client.get(f"/billing/products/import/{token}/{path}").status_code == 403


def test_the_progress_fragment_while_a_check_runs(admin_client):
    response = upload(admin_client, "sku,name,price_EUR\nA,One,1\nB,Two,2\n")
    job = product_import_get(response["Location"].split("/")[-3])
    ProductImportJob.objects.filter(pk=job.pk).update(status="validating", processed_rows=1)
    fragment = admin_client.get(f"/billing/products/import/{job.pk}/progress/").content.decode()
    assert "Checking: 1 of 2 rows" in fragment
    ProductImportJob.objects.filter(pk=job.pk).update(status="validated")
    done = admin_client.get(f"/billing/products/import/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_the_progress_of_a_write_comes_from_the_cache_until_it_commits(admin_client):
    from django.core.cache import cache

    from billing.imports.jobs import progress_cache_key

    response = upload(admin_client, "sku,name,price_EUR\nA,One,1\nB,Two,2\n")
    job = product_import_get(response["Location"].split("/")[-3])
    ProductImportJob.objects.filter(pk=job.pk).update(status="importing", processed_rows=0)
    cache.set(progress_cache_key(job.pk), 1)
    fragment = admin_client.get(f"/billing/products/import/{job.pk}/progress/").content.decode()
    assert "Importing: 1 of 2 rows" in fragment


def test_an_import_survives_a_cache_flush_and_is_listed_in_the_history(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    job = check(admin_client, django_capture_on_commit_callbacks, "sku,name,price_EUR\nA,One,1\nB,Two,2\nC,,3\n")
    cache.clear()
    job = run(admin_client, django_capture_on_commit_callbacks, job, skip_invalid=True)
    cache.clear()
    job = product_import_get(job.pk)
    assert (job.status, job.total_rows, job.valid_rows, job.imported_rows, job.error_count) == ("done", 3, 2, 2, 1)
    assert job.created_by == admin_user and job.finished_at is not None
    assert errors_of(job) == [(4, "name", "", "This field is required.")]
    page = admin_client.get(f"/billing/products/import/{job.pk}/").content.decode()
    assert "Imported 2 products." in page and "This field is required." in page

    later = upload(admin_client, "sku,name,price_EUR\nD,Four,4\n", name="later.csv")
    assert later.status_code == 302
    history = admin_client.get(START)
    rows = history.context["page"].rows
    assert [(r.original_name, r.status, r.total_rows) for r in rows] == [
        ("later.csv", "uploaded", 1),
        ("products.csv", "done", 3),
    ]
    html = history.content.decode()
    assert f'href="/billing/products/import/{job.pk}/"' in html and "products.csv" in html


def test_the_uploaded_file_is_deleted_once_its_rows_are_in(admin_client, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    job = check(admin_client, django_capture_on_commit_callbacks, "sku,name,price_EUR\nA,One,1\n")
    name = job.file.name
    assert name.startswith("imports/products/") and default_storage.exists(name)
    job = run(admin_client, django_capture_on_commit_callbacks, job)
    assert (job.status, job.file.name) == ("done", "")
    assert not default_storage.exists(name)
    assert admin_client.get(f"/billing/products/import/{job.pk}/mapping/")["Location"] == (
        f"/billing/products/import/{job.pk}/"
    )
