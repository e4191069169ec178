"""The product library: the product form with its price list, tiers and bundle components, search and filters,
the CSV export, archiving, folders and who may do what."""

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client

from billing.models import PriceTier, Product, ProductFolder, ProductPrice, TaxRate
from billing.selectors.products import product_price, product_queryset
from billing.services.products import (
    ComponentInput,
    PriceInput,
    ProductInput,
    TierInput,
    product_create,
    product_update,
)
from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.events.models import OutboxEvent
from tests.conftest import user_make

NEW = "/billing/products/new/"
LIST = "/billing/products/"


def form_data(*, name="Support plan", sku="SUP-1", prices=(("EUR", "10.00"),), tiers=(), components=(), **fields):
    """The product form as the page submits it."""
    data = {
        "name": name,
        "sku": sku,
        "description": "",
        "folder": "",
        "new_folder": "",
        "pricing_model": "flat",
        "package_size": "",
        "billing_frequency": "one_time",
        "term": "",
        "tax_rate": "",
        "unit_cost": "",
        "cost_currency": "EUR",
        "bundle_pricing": "",
    }
    data.update(fields)
    for prefix, rows, names in (
        ("prices", prices, ("currency", "unit_price")),
        ("tiers", tiers, ("currency", "up_to", "unit_price", "flat_fee")),
        ("components", components, ("component", "quantity")),
    ):
        data |= {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
        for i, row in enumerate(rows):
            data |= {f"{prefix}-{i}-{n}": v for n, v in zip(names, row, strict=True)}
    return data


def make(sku: str, name: str | None = None, *, prices=None, **fields) -> Product:
    prices = {"EUR": "10"} if prices is None else prices
    data = ProductInput(
        name=name or sku,
        sku=sku,
        prices=[PriceInput(currency=c, unit_price=Decimal(v)) for c, v in prices.items()],
        **fields,
    )
    return product_create(data=data, actor=None)


def prices_of(product: Product) -> dict[str, Decimal]:
    return dict(ProductPrice.objects.filter(product=product).values_list("currency", "unit_price"))


def row_errors(response, kind: str) -> list[dict]:
    return [dict(f.errors) for f in response.context["editor"].formsets[kind].forms]


# --- the form ---------------------------------------------------------------------------------------------------


def test_create_a_product_sold_in_eur_and_nok(admin_client):
    rate = TaxRate.objects.get(name="BTW 21%")
    response = admin_client.post(
        NEW,
        form_data(
            name="Hosting",
            sku="HOST-1",
            prices=(("EUR", "49.99"), ("NOK", "575")),
            billing_frequency="monthly",
            term="12",
            tax_rate=str(rate.pk),
            unit_cost="12.5",
            new_folder="Cloud",
        ),
    )
    product = Product.objects.get(sku="HOST-1")
    assert response.status_code == 302
    assert response["Location"] == f"/billing/products/{product.pk}/"
    assert prices_of(product) == {"EUR": Decimal("49.99"), "NOK": Decimal("575")}
    assert (product.billing_frequency, product.term_months, product.term_weeks) == ("monthly", 12, None)
    assert (product.tax_rate_id, product.unit_cost, product.cost_currency) == (rate.pk, Decimal("12.5"), "EUR")
    assert product.folder.name == "Cloud"
    assert OutboxEvent.objects.filter(name="product.created", payload={"id": product.pk}).exists()

    page = admin_client.get(f"/billing/products/{product.pk}/").content.decode()
    assert "€49.99" in page and "NOK575.00" in page and "12 months" in page and "BTW 21%" in page


def test_prices_are_read_in_the_users_notation_and_keep_six_decimals(admin_client, admin_user):
    admin_user.language = "nl"
    admin_user.save(update_fields=["language"])
    admin_client.post(NEW, form_data(prices=(("EUR", "1.234,50"), ("NOK", "0,000125"))))
    assert prices_of(Product.objects.get(sku="SUP-1")) == {"EUR": Decimal("1234.50"), "NOK": Decimal("0.000125")}
    edit = admin_client.get(f"/billing/products/{Product.objects.get(sku='SUP-1').pk}/edit/").content.decode()
    assert 'value="1234,50"' in edit and 'value="0,000125"' in edit


def test_weekly_products_take_their_term_in_weeks(admin_client):
    admin_client.post(NEW, form_data(billing_frequency="biweekly", term="26"))
    product = Product.objects.get(sku="SUP-1")
    assert (product.term_weeks, product.term_months) == (26, None)


@pytest.mark.parametrize(
    ("frequency", "term", "message"),
    [
        ("quarterly", "2", "The term is shorter than one billing period."),
        ("quarterly", "4", "The term must be a multiple of 3 months."),
        ("one_time", "12", "A one-time line has no term."),
        ("biweekly", "1", "The term is shorter than one billing period."),
    ],
)
def test_a_term_must_fit_the_billing_frequency(admin_client, frequency, term, message):
    response = admin_client.post(NEW, form_data(billing_frequency=frequency, term=term))
    assert response.status_code == 400
    assert response.context["form"].errors["term"] == [message]
    assert not Product.objects.exists()


def test_sku_is_unique_whatever_its_case(admin_client):
    first = make("ABC-1")
    response = admin_client.post(NEW, form_data(sku="abc-1"))
    assert response.status_code == 400
    assert response.context["form"].errors["sku"] == [
        "Another product already uses the SKU “abc-1”. SKUs are unique, whatever their case."
    ]
    other = make("XYZ-9")
    response = admin_client.post(f"/billing/products/{other.pk}/edit/", form_data(sku="Abc-1"))
    assert response.status_code == 400
    assert "sku" in response.context["form"].errors
    # A product may change the case of its own SKU.
    response = admin_client.post(f"/billing/products/{first.pk}/edit/", form_data(sku="abc-1"))
    assert response.status_code == 302
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["XYZ-9", "abc-1"]


@pytest.mark.parametrize(
    ("prices", "errors"),
    [
        ((("EUR", "-1"),), [{"unit_price": ["Enter 0 or more."]}]),
        ((("EUR", "1.1234567"),), [{"unit_price": ["Use at most 6 decimals."]}]),
        ((("XYZ", "10"),), [{"currency": ["“XYZ” is not a currency we accept."]}]),
        ((("EUR", "ten"),), [{"unit_price": ["“ten” is not a number."]}]),
        ((("EUR", ""),), [{"unit_price": ["Enter a price, or remove this row."]}]),
        (
            (("EUR", "10"), ("EUR", "12")),
            [{}, {"currency": ["EUR is in the price list twice."]}],
        ),
    ],
)
def test_price_list_errors_show_on_their_row_and_nothing_is_saved(admin_client, prices, errors):
    response = admin_client.post(NEW, form_data(prices=prices))
    assert response.status_code == 400
    assert row_errors(response, "prices") == errors
    assert not Product.objects.exists()
    assert not ProductPrice.objects.exists()


def test_a_product_needs_a_price(admin_client):
    response = admin_client.post(NEW, form_data(prices=()))
    assert response.status_code == 400
    assert response.context["editor"].prices.non_form_errors() == ["Add a price in at least one currency."]


def test_removed_and_blank_price_rows_are_left_out(admin_client):
    data = form_data(prices=(("EUR", "10"), ("NOK", "99"), ("", "")))
    data["prices-1-DELETE"] = "on"
    assert admin_client.post(NEW, data).status_code == 302
    assert prices_of(Product.objects.get()) == {"EUR": Decimal("10")}


def test_add_a_currency_row_keeps_what_was_typed_and_saves_nothing(admin_client):
    data = form_data(name="Half typed", prices=(("EUR", "-5"),))
    data["add"] = "prices"
    response = admin_client.post(NEW, data)
    assert response.status_code == 200
    assert not Product.objects.exists()
    editor = response.context["editor"]
    assert len(editor.prices.forms) == 2
    body = response.content.decode()
    assert 'value="Half typed"' in body and 'value="-5"' in body
    assert 'class="field-error"' not in body


# --- pricing models ---------------------------------------------------------------------------------------------


def test_volume_tiers_per_currency(admin_client):
    response = admin_client.post(
        NEW,
        form_data(
            pricing_model="volume",
            prices=(("EUR", "5"), ("NOK", "60")),
            tiers=(
                ("EUR", "10", "5.00", ""),
                ("EUR", "50", "4.50", "10"),
                ("EUR", "", "4.00", ""),
                ("NOK", "", "60", ""),
            ),
        ),
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert list(
        product.tiers.order_by("currency", "position").values_list("currency", "up_to", "unit_price", "flat_fee")
    ) == [
        ("EUR", Decimal("10"), Decimal("5"), Decimal("0")),
        ("EUR", Decimal("50"), Decimal("4.5"), Decimal("10")),
        ("EUR", None, Decimal("4"), Decimal("0")),
        ("NOK", None, Decimal("60"), Decimal("0")),
    ]
    page = admin_client.get(f"/billing/products/{product.pk}/").content.decode()
    assert "up to 10" in page and "above 50" in page and "€10.00" in page
    edit = admin_client.get(f"/billing/products/{product.pk}/edit/").content.decode()
    assert 'name="tiers-1-up_to" value="50"' in edit and 'name="tiers-1-unit_price" value="4.50"' in edit


@pytest.mark.parametrize(
    ("tiers", "row_errors_expected", "section_errors"),
    [
        (
            (("EUR", "50", "5", ""), ("EUR", "10", "4", ""), ("EUR", "", "3", "")),
            [{}, {"up_to": ["Each tier must go higher than the tier before it."]}, {}],
            [],
        ),
        (
            (("EUR", "10", "5", ""), ("EUR", "50", "4", "")),
            [{}, {"up_to": ["Leave “up to” empty on the last tier, so every quantity has a price."]}],
            [],
        ),
        (
            (("EUR", "", "5", ""), ("EUR", "", "4", "")),
            [{"up_to": ["Only the last tier can be open-ended."]}, {}],
            [],
        ),
        (
            (("EUR", "10", "-5", ""), ("EUR", "", "4", "")),
            [{"unit_price": ["Enter 0 or more."]}, {}],
            [],
        ),
        (
            (("NOK", "", "5", ""),),
            [{"currency": ["Add a NOK price to the price list, or remove these tiers."]}],
            ["Add tiers for EUR."],
        ),
        ((), [], ["Add tiers for EUR."]),
    ],
)
def test_tiers_are_checked_per_currency(admin_client, tiers, row_errors_expected, section_errors):
    response = admin_client.post(NEW, form_data(pricing_model="graduated", tiers=tiers))
    assert response.status_code == 400
    assert row_errors(response, "tiers") == row_errors_expected
    assert list(response.context["editor"].tiers.non_form_errors()) == section_errors
    assert not PriceTier.objects.exists()


def test_tiers_of_a_flat_product_are_ignored(admin_client):
    admin_client.post(NEW, form_data(tiers=(("EUR", "", "1", ""),)))
    assert Product.objects.get().pricing_model == "flat"
    assert not PriceTier.objects.exists()


def test_package_pricing_needs_a_package_size(admin_client):
    response = admin_client.post(NEW, form_data(pricing_model="package"))
    assert response.context["form"].errors["package_size"] == ["Enter how many units one package holds."]
    response = admin_client.post(NEW, form_data(pricing_model="package", package_size="0"))
    assert response.context["form"].errors["package_size"] == ["Enter a number above 0."]
    assert admin_client.post(NEW, form_data(pricing_model="package", package_size="25")).status_code == 302
    assert Product.objects.get().package_size == Decimal("25")


# --- bundles ----------------------------------------------------------------------------------------------------


def test_a_bundle_of_products(admin_client):
    make("DISK")
    make("CPU")
    response = admin_client.post(
        NEW,
        form_data(
            sku="SERVER",
            is_bundle="on",
            bundle_pricing="whole",
            components=(("disk", "2"), ("CPU", "")),
            prices=(("EUR", "900"),),
        ),
    )
    assert response.status_code == 302
    bundle = Product.objects.get(sku="SERVER")
    assert sorted(bundle.components.values_list("component__sku", "quantity")) == [
        ("CPU", Decimal("1")),
        ("DISK", Decimal("2")),
    ]


def test_a_bundle_priced_as_the_sum_has_no_price_list(admin_client):
    make("DISK")
    response = admin_client.post(
        NEW, form_data(sku="KIT", is_bundle="on", bundle_pricing="sum", components=(("DISK", "1"),))
    )
    assert response.context["editor"].prices.non_form_errors() == [
        "A bundle priced as the sum of its components takes its prices from them; remove these."
    ]
    data = form_data(sku="KIT", is_bundle="on", bundle_pricing="sum", components=(("DISK", "1"),), prices=())
    assert admin_client.post(NEW, data).status_code == 302


def test_a_bundle_cannot_contain_itself_or_a_bundle_that_contains_it(admin_client):
    inner = make("INNER")
    middle = make("MIDDLE", is_bundle=True, bundle_pricing="whole", components=[ComponentInput(inner.pk, Decimal(1))])
    make("OUTER", is_bundle=True, bundle_pricing="sum", prices={}, components=[ComponentInput(middle.pk, Decimal(1))])

    # INNER becomes a bundle holding OUTER, which holds MIDDLE, which holds INNER: a cycle.
    response = admin_client.post(
        f"/billing/products/{inner.pk}/edit/",
        form_data(sku="INNER", is_bundle="on", bundle_pricing="whole", components=(("OUTER", "1"),)),
    )
    assert response.status_code == 400
    assert row_errors(response, "components") == [
        {"component": ["That bundle contains this product, so this product cannot contain it."]}
    ]
    response = admin_client.post(
        f"/billing/products/{inner.pk}/edit/",
        form_data(sku="INNER", is_bundle="on", bundle_pricing="whole", components=(("inner", "1"),)),
    )
    assert row_errors(response, "components") == [{"component": ["A bundle cannot contain itself."]}]
    response = admin_client.post(
        f"/billing/products/{inner.pk}/edit/",
        form_data(sku="INNER", is_bundle="on", bundle_pricing="whole", components=(("NOPE", "1"),)),
    )
    assert row_errors(response, "components") == [{"component": ["No product has the SKU “NOPE”."]}]
    inner.refresh_from_db()
    assert not inner.is_bundle and not inner.components.exists()


# --- updates, audit, archive --------------------------------------------------------------------------------------


def test_price_changes_are_audited_and_emitted(admin_client):
    product = make("SUP-1", prices={"EUR": "10"})
    response = admin_client.post(
        f"/billing/products/{product.pk}/edit/", form_data(name="Support plan+", prices=(("EUR", "12.50"),))
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="product.prices_changed", object_id=str(product.pk))
    assert (entry.before["prices"], entry.after["prices"]) == ({"EUR": "10"}, {"EUR": "12.5"})
    event = OutboxEvent.objects.filter(name="product.updated").latest("id")
    assert event.payload == {"id": product.pk, "fields": ["name", "prices"]}


def test_an_edit_without_price_changes_writes_no_price_audit(admin_client):
    product = make("SUP-1", prices={"EUR": "10"})
    admin_client.post(
        f"/billing/products/{product.pk}/edit/", form_data(description="New text", prices=(("EUR", "10.00"),))
    )
    assert not AuditEntry.objects.filter(action="product.prices_changed").exists()


def test_archive_and_unarchive(admin_client):
    product = make("OLD")
    response = admin_client.post(f"/billing/products/{product.pk}/archive/", {"archived": "1"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.is_archived
    assert [r["product"].sku for r in admin_client.get(LIST).context["rows"]] == []
    assert [r["product"].sku for r in admin_client.get(LIST + "?status=archived").context["rows"]] == ["OLD"]
    admin_client.post(f"/billing/products/{product.pk}/archive/", {"archived": "0"})
    product.refresh_from_db()
    assert not product.is_archived
    assert list(
        AuditEntry.objects.filter(object_id=str(product.pk)).order_by("id").values_list("action", flat=True)
    ) == ["product.archived", "product.unarchived"]


def test_an_archived_tax_rate_is_not_offered_but_a_product_keeps_it(admin_client):
    rate = TaxRate.objects.get(name="BTW 9%")
    product = make("BOOK", tax_rate_id=rate.pk)
    TaxRate.objects.filter(pk=rate.pk).update(is_archived=True)
    new_choices = dict(admin_client.get(NEW).context["form"].fields["tax_rate"].choices)
    assert "BTW 9% (NL)" not in new_choices.values()
    edit = admin_client.get(f"/billing/products/{product.pk}/edit/").context["form"]
    assert dict(edit.fields["tax_rate"].choices)[str(rate.pk)] == "BTW 9% (NL)"
    response = admin_client.post(f"/billing/products/{product.pk}/edit/", form_data(sku="BOOK", tax_rate=str(rate.pk)))
    assert response.status_code == 302
    response = admin_client.post(NEW, form_data(sku="NEW", tax_rate=str(rate.pk)))
    assert response.status_code == 400
    assert "tax_rate" in response.context["form"].errors


# --- index, search and filters ------------------------------------------------------------------------------------


@pytest.fixture
def library(tenant_alpha):
    nl21 = TaxRate.objects.get(name="BTW 21%")
    mva25 = TaxRate.objects.get(name="MVA 25%")
    hardware = ProductFolder.objects.create(name="Hardware")
    cables = ProductFolder.objects.create(name="Cables", parent=hardware)
    software = ProductFolder.objects.create(name="Software")
    make("HW-1", "Router", description="Fast wifi router", folder_id=hardware.pk, tax_rate_id=nl21.pk)
    make("HW-2", "USB cable", prices={"EUR": "5", "NOK": "59"}, folder_id=cables.pk, tax_rate_id=mva25.pk)
    make(
        "SW-1",
        "Antivirus licence",
        prices={"NOK": "499"},
        folder_id=software.pk,
        billing_frequency="annual",
        term_months=12,
        tax_rate_id=mva25.pk,
    )
    make(
        "SW-2",
        "Backup seats",
        folder_id=software.pk,
        billing_frequency="monthly",
        pricing_model="graduated",
        tiers=[TierInput("EUR", Decimal(10), Decimal(3)), TierInput("EUR", None, Decimal(2))],
    )
    old = make("OLD-1", "Fax machine", description="router-compatible")
    Product.objects.filter(pk=old.pk).update(is_archived=True)
    return {"hardware": hardware, "cables": cables, "software": software, "nl21": nl21, "mva25": mva25}


def names(client, query: str) -> list[str]:
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    return [row["product"].name for row in response.context["rows"]]


def test_search_by_name_description_or_sku(admin_client, library):
    assert names(admin_client, "q=router") == ["Router"]
    assert names(admin_client, "q=WIFI") == ["Router"]
    assert names(admin_client, "q=sw-") == ["Antivirus licence", "Backup seats"]
    assert names(admin_client, "q=router&status=all") == ["Fax machine", "Router"]
    assert names(admin_client, "q=nothing-like-it") == []


def test_filters(admin_client, library):
    lib = library
    assert names(admin_client, "") == ["Antivirus licence", "Backup seats", "Router", "USB cable"]
    assert names(admin_client, f"folder={lib['hardware'].pk}") == ["Router", "USB cable"]  # with its subfolders
    assert names(admin_client, f"folder={lib['cables'].pk}") == ["USB cable"]
    assert names(admin_client, "folder=none") == []
    assert names(admin_client, "folder=none&status=all") == ["Fax machine"]
    assert names(admin_client, "pricing_model=graduated") == ["Backup seats"]
    assert names(admin_client, "frequency=annual&frequency=monthly") == ["Antivirus licence", "Backup seats"]
    assert names(admin_client, "currency=NOK") == ["Antivirus licence", "USB cable"]
    assert names(admin_client, "currency=NOK&currency=EUR") == [
        "Antivirus licence",
        "Backup seats",
        "Router",
        "USB cable",
    ]
    assert names(admin_client, f"tax_rate={lib['mva25'].pk}") == ["Antivirus licence", "USB cable"]
    assert names(admin_client, f"tax_rate={lib['mva25'].pk}&q=usb") == ["USB cable"]
    assert names(admin_client, "status=archived") == ["Fax machine"]
    assert names(admin_client, "folder=999999") == []  # not a choice: nothing, never everything
    assert names(admin_client, "sort=sku") == ["Router", "USB cable", "Antivirus licence", "Backup seats"]


def test_empty_states(admin_client, library):
    body = admin_client.get(f"{LIST}?q=zzz").content.decode()
    assert "Nothing matches" in body
    Product.objects.all().delete()
    body = admin_client.get(LIST).content.decode()
    assert "No products yet" in body and 'href="/billing/products/new/"' in body


def test_keyset_pages_without_repeats_and_a_fixed_number_of_queries(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            admin_client.get(LIST)
        return len(captured)

    for i in range(3):
        make(f"P-{i:02d}", f"Product {i:02d}", prices={"EUR": "1", "NOK": "10"})
    queries()  # the first request also caches the organization profile
    few = queries()
    for i in range(3, 55):
        make(f"P-{i:02d}", f"Product {i:02d}", prices={"EUR": "1", "NOK": "10"})
    assert queries() == few  # no query per row
    page = admin_client.get(LIST).context["page"]
    assert len(page.rows) == 50 and page.next_cursor
    second = admin_client.get(LIST, {"after": page.next_cursor}).context["rows"]
    assert [r["product"].name for r in second] == [f"Product {i}" for i in range(50, 55)]


def test_product_price_reads_the_price_list(tenant_alpha, django_assert_num_queries):
    make("HOST", prices={"EUR": "49.99", "NOK": "575"})
    product = product_queryset().get(sku="HOST")
    with django_assert_num_queries(0):
        assert product_price(product, "NOK") == Decimal("575")
        assert product_price(product, "USD") is None
    assert product_price(Product.objects.get(sku="HOST"), "EUR") == Decimal("49.99")


# --- export -------------------------------------------------------------------------------------------------------


def test_export_has_a_price_column_per_currency(admin_client, library):
    response = admin_client.get(f"/billing/products/export.csv?folder={library['hardware'].pk}")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "sku",
        "name",
        "description",
        "folder",
        "status",
        "pricing_model",
        "package_size",
        "billing_frequency",
        "term_months",
        "term_weeks",
        "tax_rate",
        "unit_cost",
        "cost_currency",
        "bundle_pricing",
        "components",
        "price_EUR",
        "price_NOK",
    ]
    assert [r[:2] + r[3:5] + r[10:11] + r[15:] for r in rows[1:]] == [
        ["HW-1", "Router", "Hardware", "active", "BTW 21%", "10.00", ""],
        ["HW-2", "USB cable", "Hardware / Cables", "active", "MVA 25%", "5.00", "59.00"],
    ]
    assert AuditEntry.objects.filter(action="product.exported").exists()


def test_export_writes_tiers_per_currency(admin_client, library):
    response = admin_client.get("/billing/products/export.csv?pricing_model=graduated")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-2:] == ["price_EUR", "tiers_EUR"]
    assert rows[1][-2:] == ["10.00", "10:3.00 | *:2.00"]


# --- permissions --------------------------------------------------------------------------------------------------


@pytest.fixture
def sales_client(tenant_alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.SALES))
    return client


def test_sales_can_look_but_not_change(sales_client):
    product = make("SUP-1")
    folder = ProductFolder.objects.create(name="Kept")
    assert sales_client.get(LIST).status_code == 200
    assert sales_client.get(f"/billing/products/{product.pk}/").status_code == 200
    assert sales_client.get("/billing/products/export.csv").status_code == 200
    for method, path, data in [
        ("get", NEW, None),
        ("post", NEW, form_data(sku="SNEAKY")),
        ("get", f"/billing/products/{product.pk}/edit/", None),
        ("post", f"/billing/products/{product.pk}/edit/", form_data(name="Changed")),
        ("post", f"/billing/products/{product.pk}/archive/", {"archived": "1"}),
        ("post", "/billing/products/folders/", {"name": "New"}),
        ("post", f"/billing/products/folders/{folder.pk}/", {"name": "Renamed"}),
        ("post", f"/billing/products/folders/{folder.pk}/delete/", {}),
        ("get", "/billing/products/import/", None),
    ]:
        response = getattr(sales_client, method)(path, data) if data is not None else sales_client.get(path)
        assert response.status_code == 403, f"{method} {path}"
    product.refresh_from_db()
    assert (product.name, product.is_archived) == ("SUP-1", False)
    assert list(Product.objects.values_list("sku", flat=True)) == ["SUP-1"]
    assert list(ProductFolder.objects.values_list("name", flat=True)) == ["Kept"]


def test_read_only_users_cannot_export(tenant_alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.READ_ONLY))
    assert client.get(LIST).status_code == 200
    assert client.get("/billing/products/export.csv").status_code == 403


def test_the_navigation_links_to_the_product_library(admin_client):
    assert 'href="/billing/products/" class="">Products</a>' in admin_client.get("/").content.decode()


# --- folders --------------------------------------------------------------------------------------------------


def test_folders_page_creates_renames_and_deletes(admin_client):
    assert admin_client.post("/billing/products/folders/", {"name": "Hardware", "parent": ""}).status_code == 302
    hardware = ProductFolder.objects.get(name="Hardware")
    admin_client.post("/billing/products/folders/", {"name": "Cables", "parent": str(hardware.pk)})
    response = admin_client.post("/billing/products/folders/", {"name": "hardware", "parent": ""})
    assert response.context["form"].errors["name"] == ["There is already a folder called “hardware” here."]
    product = make("USB", folder_id=ProductFolder.objects.get(name="Cables").pk)
    assert [f["path"] for f in admin_client.get("/billing/products/folders/").context["folders"]] == [
        "Hardware",
        "Hardware / Cables",
    ]
    admin_client.post(f"/billing/products/folders/{hardware.pk}/", {"name": "Devices"})
    assert ProductFolder.objects.get(pk=hardware.pk).name == "Devices"
    admin_client.post(f"/billing/products/folders/{hardware.pk}/delete/")
    assert not ProductFolder.objects.exists()
    product.refresh_from_db()
    assert product.folder_id is None


def test_update_through_the_service_replaces_the_price_list(tenant_alpha):
    product = make("P", prices={"EUR": "1", "NOK": "10"})
    product_update(
        product=product,
        data=ProductInput(name="P", sku="P", prices=[PriceInput("USD", Decimal("2"))]),
        actor=None,
    )
    assert prices_of(product) == {"USD": Decimal("2")}


def test_another_tenants_products_stay_out_of_reach(admin_client, tenant_alpha, tenant_bravo):
    from django.db import connection
    from django_tenants.utils import schema_context

    with schema_context(tenant_bravo.schema_name):
        secret = make("BRAVO-SECRET", "Bravo secret")
        folder = ProductFolder.objects.create(name="Bravo folder")
    connection.set_tenant(tenant_alpha)
    assert not Product.objects.filter(pk=secret.pk).exists()
    for method, path in [
        ("get", f"/billing/products/{secret.pk}/"),
        ("get", f"/billing/products/{secret.pk}/edit/"),
        ("post", f"/billing/products/{secret.pk}/edit/"),
        ("post", f"/billing/products/{secret.pk}/archive/"),
        ("get", f"/billing/products/folders/{folder.pk}/"),
        ("post", f"/billing/products/folders/{folder.pk}/delete/"),
    ]:
        assert getattr(admin_client, method)(path).status_code == 404, path
    for path in [LIST + "?status=all", "/billing/products/export.csv?status=all", "/billing/products/folders/"]:
        response = admin_client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"BRAVO-SECRET" not in body and b"Bravo" not in body, path
