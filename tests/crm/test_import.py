"""CSV import of companies, contacts and deals: upload, mapping, validation report, and the write."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from django_tenants.utils import schema_context

from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from crm.models import Company, Contact, Deal, DealStageChange, ImportJob, ImportRowError, Pipeline, PropertyDefinition
from tests.conftest import user_make

pytestmark = pytest.mark.usefixtures("eager_tasks")

VALID_NL_VAT = "NL162275869B01"
VALID_NO_VAT = "NO 872 461 272 MVA"


def upload(client, object_type: str, content, name: str = "import.csv"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(f"/crm/import/{object_type}/", {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def mapping_data(job: ImportJob, **changes) -> dict:
    """The mapping form as the page submits it: the guessed field per column, with `changes` by header."""
    data = {f"col_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers) if h}
    for header, key in changes.items():
        data[f"col_{job.headers.index(header)}"] = key
    return data


def validate(client, capture, object_type: str, content, **changes) -> ImportJob:
    response = upload(client, object_type, content)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    job = ImportJob.objects.latest("id")
    assert response["Location"] == f"/crm/import/jobs/{job.pk}/mapping/"
    with capture(execute=True):
        response = client.post(f"/crm/import/jobs/{job.pk}/mapping/", mapping_data(job, **changes))
    assert response.status_code == 302
    assert response["Location"] == f"/crm/import/jobs/{job.pk}/"
    job.refresh_from_db()
    return job


def run(client, capture, job: ImportJob, *, skip_invalid: bool = False):
    with capture(execute=True):
        response = client.post(f"/crm/import/jobs/{job.pk}/run/", {"skip_invalid": "1" if skip_invalid else "0"})
    assert response["Location"] == f"/crm/import/jobs/{job.pk}/"
    job.refresh_from_db()
    return job


def errors_of(job: ImportJob) -> list[tuple]:
    return list(job.row_errors.values_list("row_number", "column", "value", "message"))


@pytest.fixture
def acme(tenant_alpha):
    return Company.objects.create(name="Acme B.V.", domain="acme.nl")


@pytest.fixture
def fjord(tenant_alpha):
    return Company.objects.create(name="Fjord AS", domain="fjord.no", country="NO")


# --- happy paths -------------------------------------------------------------------------------------------------


def test_companies_import_with_vat_numbers_and_a_custom_property(admin_client, django_capture_on_commit_callbacks):
    PropertyDefinition.objects.create(
        object_type="company",
        key="tier",
        label="Customer tier",
        type="choice",
        choices=[{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
    )
    csv_text = (
        "Name,Website,Country,VAT number,Customer tier\n"
        f"Acme B.V.,https://Acme.nl/,NL,{VALID_NL_VAT},Gold\n"
        f"Fjord AS,fjord.no,NO,{VALID_NO_VAT},silver\n"
    )
    job = validate(admin_client, django_capture_on_commit_callbacks, "company", csv_text)
    assert job.mapping == {
        "Name": "name",
        "Website": "domain",
        "Country": "country",
        "VAT number": "vat_number",
        "Customer tier": "p:tier",
    }
    assert (job.status, job.total_rows, job.valid_rows, errors_of(job)) == ("validated", 2, 2, [])
    assert Company.objects.count() == 0  # validation writes nothing

    job = run(admin_client, django_capture_on_commit_callbacks, job)
    assert (job.status, job.imported_rows) == ("done", 2)
    rows = list(
        Company.objects.order_by("name").values_list(
            "name", "domain", "country", "vat_number", "currency", "properties"
        )
    )
    assert rows == [
        ("Acme B.V.", "acme.nl", "NL", "NL162275869B01", "EUR", {"tier": "gold"}),
        ("Fjord AS", "fjord.no", "NO", "NO872461272MVA", "NOK", {"tier": "silver"}),
    ]
    event = OutboxEvent.objects.get(name="company.bulk_created")
    assert sorted(event.payload["ids"]) == sorted(Company.objects.values_list("pk", flat=True))
    page = admin_client.get(f"/crm/import/jobs/{job.pk}/").content.decode()
    assert "Imported 2 companies." in page
    assert 'href="/crm/companies/"' in page


def test_contacts_import_associates_companies_by_name_and_by_domain(
    admin_client, django_capture_on_commit_callbacks, acme, fjord
):
    csv_text = (
        "First name,Last name,Email,Company,Job title\n"
        "Jan,Jansen,Jan@Acme.nl,acme b.v.,Inkoper\n"
        "Kari,Nordmann,kari@fjord.no,fjord.no,Daglig leder\n"
        "Piet,,piet@example.com,,\n"
    )
    job = validate(admin_client, django_capture_on_commit_callbacks, "contact", csv_text)
    assert errors_of(job) == []
    stored = job.file.name
    assert job.file.storage.exists(stored)
    job = run(admin_client, django_capture_on_commit_callbacks, job)
    assert (job.status, job.imported_rows) == ("done", 3)
    assert not job.file.storage.exists(stored)  # the uploaded personal data is gone once imported
    rows = list(
        Contact.objects.order_by("email").values_list("first_name", "last_name", "email", "company", "job_title")
    )
    assert rows == [
        ("Jan", "Jansen", "jan@acme.nl", acme.pk, "Inkoper"),
        ("Kari", "Nordmann", "kari@fjord.no", fjord.pk, "Daglig leder"),
        ("Piet", "", "piet@example.com", None, ""),
    ]
    assert set(Contact.objects.values_list("lifecycle_stage", flat=True)) == {"lead"}


def test_deals_import_in_the_default_pipeline_with_company_and_stage_history(
    admin_client, admin_user, django_capture_on_commit_callbacks, acme, fjord
):
    csv_text = (
        "Deal name,Amount,Currency,Stage,Close date,Company\n"
        "Licences 2026,1234.50,EUR,Qualified to buy,2026-03-31,acme.nl\n"
        "Fjord rollout,99000,NOK,closed won,31-12-2026,Fjord AS\n"
    )
    job = validate(admin_client, django_capture_on_commit_callbacks, "deal", csv_text)
    assert job.mapping == {
        "Deal name": "name",
        "Amount": "amount",
        "Currency": "amount_currency",
        "Stage": "stage",
        "Close date": "close_date",
        "Company": "company",
    }
    assert errors_of(job) == []
    job = run(admin_client, django_capture_on_commit_callbacks, job)
    assert job.imported_rows == 2
    pipeline = Pipeline.objects.get(is_default=True)
    deals = {d.name: d for d in Deal.objects.select_related("stage", "pipeline")}
    licences, rollout = deals["Licences 2026"], deals["Fjord rollout"]
    assert (licences.amount.amount, str(licences.amount.currency), licences.stage.name) == (
        Decimal("1234.50"),
        "EUR",
        "Qualified to buy",
    )
    assert (rollout.amount.amount, str(rollout.amount.currency), rollout.stage.name) == (
        Decimal("99000.00"),
        "NOK",
        "Closed won",
    )
    assert (licences.close_date, rollout.close_date) == (date(2026, 3, 31), date(2026, 12, 31))
    assert (licences.company, rollout.company) == (acme, fjord)
    assert {licences.pipeline, rollout.pipeline} == {pipeline}
    changes = DealStageChange.objects.filter(deal__in=[licences, rollout])
    assert sorted((c.deal_id, c.from_stage_id, c.to_stage_id, c.changed_by_id) for c in changes) == sorted(
        [(licences.pk, None, licences.stage_id, admin_user.pk), (rollout.pk, None, rollout.stage_id, admin_user.pk)]
    )


def test_semicolon_file_with_bom_and_dutch_headers(admin_client, admin_user, django_capture_on_commit_callbacks, acme):
    admin_user.language = "nl"
    admin_user.save(update_fields=["language"])
    content = "Voornaam;Achternaam;E-mail;Bedrijf;Telefoon\r\nJan;de Vries;jan@acme.nl;Acme B.V.;+31 20 123 4567\r\n"
    job = validate(admin_client, django_capture_on_commit_callbacks, "contact", content.encode("utf-8-sig"))
    assert job.headers == ["Voornaam", "Achternaam", "E-mail", "Bedrijf", "Telefoon"]
    assert job.mapping == {
        "Voornaam": "first_name",
        "Achternaam": "last_name",
        "E-mail": "email",
        "Bedrijf": "company",
        "Telefoon": "phone",
    }
    run(admin_client, django_capture_on_commit_callbacks, job)
    assert list(Contact.objects.values_list("first_name", "last_name", "email", "company", "phone")) == [
        ("Jan", "de Vries", "jan@acme.nl", acme.pk, "+31 20 123 4567")
    ]


def test_norwegian_headers_are_matched_too(admin_client):
    upload(admin_client, "contact", "Fornavn,Etternavn,E-post,Firma,Stilling\nKari,Nordmann,kari@fjord.no,,\n")
    job = ImportJob.objects.get()
    assert job.mapping == {
        "Fornavn": "first_name",
        "Etternavn": "last_name",
        "E-post": "email",
        "Firma": "company",
        "Stilling": "job_title",
    }


def test_dutch_user_imports_dutch_numbers_and_dates(admin_client, admin_user, django_capture_on_commit_callbacks):
    admin_user.language = "nl"
    admin_user.save(update_fields=["language"])
    job = validate(
        admin_client,
        django_capture_on_commit_callbacks,
        "deal",
        "Naam;Bedrag;Fase;Sluitingsdatum\nLicenties;1.234,50;Qualified to buy;31-03-2026\n",
    )
    assert job.mapping == {"Naam": "name", "Bedrag": "amount", "Fase": "stage", "Sluitingsdatum": "close_date"}
    run(admin_client, django_capture_on_commit_callbacks, job)
    deal = Deal.objects.get()
    assert (deal.amount.amount, deal.close_date) == (Decimal("1234.50"), date(2026, 3, 31))


# --- the validation report ---------------------------------------------------------------------------------------


def test_every_bad_contact_row_is_reported_with_its_reason(admin_client, django_capture_on_commit_callbacks, acme):
    Contact.objects.create(first_name="Existing", email="existing@example.com")
    csv_text = (
        "First name,Email,Company\n"
        "Ann,not-an-email,\n"  # row 2
        "Bob,bob@example.com,Acme B.V.\n"  # row 3: fine
        "Bobby,BOB@example.com,\n"  # row 4: same email as row 3
        "Eve,Existing@Example.com,\n"  # row 5: already stored
        "Carl,carl@example.com,Nope B.V.\n"  # row 6: unknown company
        ",dana@example.com,nope.example\n"  # row 7: no first name, unknown domain
    )
    job = validate(admin_client, django_capture_on_commit_callbacks, "contact", csv_text)
    assert (job.status, job.total_rows, job.valid_rows) == ("validated", 6, 1)
    assert errors_of(job) == [
        (2, "Email", "not-an-email", "“not-an-email” is not a valid email address."),
        (4, "Email", "BOB@example.com", "This email is also in row 3."),
        (5, "Email", "Existing@Example.com", "A contact with this email already exists."),
        (6, "Company", "Nope B.V.", "No company “Nope B.V.”."),
        (7, "First name", "", "This field is required."),
        (7, "Company", "nope.example", "No company “nope.example”."),
    ]
    assert Contact.objects.count() == 1

    page = admin_client.get(f"/crm/import/jobs/{job.pk}/").content.decode()
    assert "“not-an-email” is not a valid email address." in page
    assert "Import the 1 valid rows" not in page  # singular form
    assert "Import the valid row" in page
    assert 'name="skip_invalid" value="0">' in page and "disabled" in page


def test_bad_company_rows_invalid_vat_and_duplicate_domains(admin_client, django_capture_on_commit_callbacks, acme):
    csv_text = (
        "Name,Domain,Country,VAT number\n"
        "Beta B.V.,beta.nl,NL,NL123456789B01\n"  # row 2: check digit
        "Gamma,gamma.nl,NL,\n"  # row 3: fine
        "Gamma 2,GAMMA.nl,NL,\n"  # row 4: same domain as row 3
        "Acme again,acme.nl,NL,\n"  # row 5: domain stored already
        "Delta,delta.no,Norway,NO12345MVA\n"  # row 6: country by its name; VAT too short
    )
    job = validate(admin_client, django_capture_on_commit_callbacks, "company", csv_text)
    assert errors_of(job) == [
        (2, "VAT number", "NL123456789B01", "This is not a valid NL VAT number: the check digit does not match."),
        (4, "Domain", "GAMMA.nl", "This domain is also in row 3."),
        (5, "Domain", "acme.nl", "A company with this domain already exists."),
        (6, "VAT number", "NO12345MVA", "This is not a valid NO VAT number: it has the wrong number of characters."),
    ]


def test_unknown_stage_is_reported(admin_client, django_capture_on_commit_callbacks):
    job = validate(
        admin_client,
        django_capture_on_commit_callbacks,
        "deal",
        "Name,Stage\nGood,Contract sent\nBad,Negotiation\n",
    )
    assert errors_of(job) == [(3, "Stage", "Negotiation", "“Negotiation” is not a stage of this pipeline.")]


def test_bad_number_and_date_for_a_dutch_user(admin_client, admin_user, django_capture_on_commit_callbacks):
    admin_user.language = "nl"
    admin_user.save(update_fields=["language"])
    job = validate(
        admin_client,
        django_capture_on_commit_callbacks,
        "deal",
        "Naam;Bedrag;Fase;Sluitingsdatum\nLicenties;12,3,4;Qualified to buy;31-02-2026\n",
    )
    # The report speaks the importer's language.
    with translation.override("nl"):
        number = gettext("“%(value)s” is not a number.") % {"value": "12,3,4"}
        day = gettext("“%(value)s” is not a date; use 2026-12-31 or 31-12-2026.") % {"value": "31-02-2026"}
    assert errors_of(job) == [(2, "Bedrag", "12,3,4", number), (2, "Sluitingsdatum", "31-02-2026", day)]
    assert job.valid_rows == 0


# --- writing: all or nothing, or only the valid rows -------------------------------------------------------------


def test_import_all_is_refused_while_any_row_fails(admin_client, django_capture_on_commit_callbacks):
    job = validate(
        admin_client, django_capture_on_commit_callbacks, "contact", "First name,Email\nAnn,ann@x.nl\nBob,bob@\n"
    )
    response = admin_client.post(f"/crm/import/jobs/{job.pk}/run/", {"skip_invalid": "0"}, follow=True)
    assert "Some rows have errors. Fix the file, or import only the valid rows." in response.content.decode()
    job.refresh_from_db()
    assert job.status == "validated"
    assert Contact.objects.count() == 0


def test_a_row_that_fails_at_write_time_rolls_back_every_row(admin_client, django_capture_on_commit_callbacks):
    csv_text = "First name,Email\n" + "".join(f"Person {i},p{i}@example.com\n" for i in range(1, 601))
    job = validate(admin_client, django_capture_on_commit_callbacks, "contact", csv_text)
    assert (job.valid_rows, errors_of(job)) == (600, [])
    # Someone saves a contact with the email of row 601 (the second batch) between validation and import.
    Contact.objects.create(first_name="Quick", email="P600@example.com")
    job = run(admin_client, django_capture_on_commit_callbacks, job)
    assert (job.status, job.imported_rows) == ("failed", 0)
    assert job.error == "Some rows failed, so nothing was written. Fix them, or import only the valid rows."
    assert errors_of(job) == [(601, "Email", "p600@example.com", "A contact with this email already exists.")]
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Quick"]
    assert not OutboxEvent.objects.filter(name="contact.bulk_created").exists()
    page = admin_client.get(f"/crm/import/jobs/{job.pk}/").content.decode()
    assert "Some rows failed, so nothing was written." in page


def test_skip_invalid_writes_exactly_the_valid_rows(admin_client, django_capture_on_commit_callbacks, acme):
    csv_text = (
        "First name,Email,Company\n"
        "Ann,ann@example.com,Acme B.V.\n"
        "Bob,bob@,\n"
        "Cees,cees@example.com,\n"
        "Cees again,cees@example.com,\n"
        "Dirk,dirk@example.com,Unknown Ltd\n"
    )
    job = validate(admin_client, django_capture_on_commit_callbacks, "contact", csv_text)
    assert (job.total_rows, job.valid_rows) == (5, 2)
    page = admin_client.get(f"/crm/import/jobs/{job.pk}/").content.decode()
    assert "Import the 2 valid rows" in page

    job = run(admin_client, django_capture_on_commit_callbacks, job, skip_invalid=True)
    assert (job.status, job.imported_rows, job.skip_invalid) == ("done", 2, True)
    assert sorted(Contact.objects.values_list("email", flat=True)) == ["ann@example.com", "cees@example.com"]
    assert [e[0] for e in errors_of(job)] == [3, 5, 6]
    page = admin_client.get(f"/crm/import/jobs/{job.pk}/").content.decode()
    assert "Imported 2 contacts." in page and "Rows that were not imported" in page


def test_a_job_runs_once_even_if_its_task_is_delivered_twice(admin_client, django_capture_on_commit_callbacks):
    from crm.tasks import import_run

    job = validate(admin_client, django_capture_on_commit_callbacks, "contact", "First name,Email\nAnn,ann@x.nl\n")
    job = run(admin_client, django_capture_on_commit_callbacks, job)
    import_run.apply(args=[job.pk])
    assert Contact.objects.count() == 1


# --- upload and mapping ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "contacts.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00",
            "“contacts.xlsx” is not a CSV file. Save the sheet as CSV (comma or semicolon separated) and upload that.",
        ),
        (
            "contacts.csv",
            b"PK\x03\x04\x00\x00\x06\x00",
            "This is not a CSV file. Save the sheet as CSV and upload that.",
        ),
        ("empty.csv", b"", "The submitted file is empty."),
        ("blank.csv", b"\xef\xbb\xbf\r\n\r\n", "The file is empty."),
        ("header.csv", b"First name,Email\r\n", "The file has a header row but no rows below it."),
        (
            "latin1.csv",
            "First name,Email\nJosé,jose@example.com\n".encode("latin-1"),
            "The file is not UTF-8 text. In Excel, choose Save as and then “CSV UTF-8”.",
        ),
        (
            "twice.csv",
            b"Email,Email\na@x.nl,b@x.nl\n",
            "The column “Email” appears twice. Give every column its own header.",
        ),
    ],
)
def test_unusable_files_are_refused_with_a_clear_message(admin_client, name, content, message):
    response = admin_client.post("/crm/import/contact/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [message]
    assert not ImportJob.objects.exists()


def test_files_over_the_size_and_row_limits_are_refused(admin_client, monkeypatch):
    monkeypatch.setattr("commerce_hub.imports.reader.MAX_FILE_BYTES", 40)
    response = upload(admin_client, "contact", "First name,Email\n" + "Ann,ann@example.com\n" * 2)
    assert response.context["form"].errors["file"] == [
        "The file is larger than 20 MB. Split it into smaller files and import each one."
    ]
    monkeypatch.setattr("commerce_hub.imports.reader.MAX_FILE_BYTES", 20 * 1024 * 1024)
    monkeypatch.setattr("commerce_hub.imports.reader.MAX_ROWS", 2)
    response = upload(admin_client, "contact", "First name,Email\n" + "Ann,ann@example.com\n" * 3)
    assert response.context["form"].errors["file"] == [
        "The file has more than 2 rows. Split it into smaller files and import each one."
    ]
    assert not ImportJob.objects.exists()


def test_excel_sep_line_and_quoted_cells(admin_client):
    content = (
        'sep=;\r\nFirst name;Email;Job title\r\n"Jansen; Jan";jan@x.nl;"Head of\r\nSales"\r\n\r\nAnn;ann@x.nl;\r\n'
    )
    upload(admin_client, "contact", content)
    job = ImportJob.objects.get()
    assert (job.headers, job.total_rows) == (["First name", "Email", "Job title"], 2)
    page = admin_client.get(f"/crm/import/jobs/{job.pk}/mapping/").content.decode()
    assert "Jansen; Jan" in page


def test_mapping_page_shows_a_preview_of_the_first_five_rows(admin_client):
    rows = "".join(f"Person {i},p{i}@example.com,Skip me\n" for i in range(1, 8))
    upload(admin_client, "contact", "Name,E-mail address,Notes\n" + rows)
    job = ImportJob.objects.get()
    assert job.mapping == {"Name": "", "E-mail address": "email", "Notes": ""}
    page = admin_client.get(f"/crm/import/jobs/{job.pk}/mapping/").content.decode()
    assert "p5@example.com" in page and "p6@example.com" not in page
    # Choosing a field for "Name" updates the preview (htmx GET with the form's values).
    preview = admin_client.get(
        f"/crm/import/jobs/{job.pk}/preview/", mapping_data(job, Name="first_name"), HTTP_HX_REQUEST="true"
    )
    body = preview.content.decode()
    assert body.startswith('<div id="preview">') and "Person 5" in body and "Skip me" not in body


def test_mapping_must_fill_required_fields_once(admin_client):
    upload(admin_client, "contact", "Name,Mail,Other mail\nAnn,ann@x.nl,a@x.nl\n")
    job = ImportJob.objects.get()
    response = admin_client.post(
        f"/crm/import/jobs/{job.pk}/mapping/", mapping_data(job, Mail="email", **{"Other mail": "email"})
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.non_field_errors() == ["Choose a column for “First name”; every row needs one."]
    assert form.errors["col_2"] == ["“Email” is already filled from the column “Mail”."]
    job.refresh_from_db()
    assert job.status == "uploaded"


def test_progress_bar_while_checking_and_refresh_when_done(admin_client, django_capture_on_commit_callbacks):
    upload(admin_client, "contact", "First name,Email\nAnn,ann@x.nl\n")
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(f"/crm/import/jobs/{job.pk}/mapping/", mapping_data(job))
    page = admin_client.get(f"/crm/import/jobs/{job.pk}/").content.decode()
    assert '<progress value="0" max="1"' in page and 'hx-trigger="every 1s"' in page
    assert "Checking: 0 of 1 rows" in page
    from crm.tasks import import_validate

    import_validate.apply(args=[job.pk])
    response = admin_client.get(f"/crm/import/jobs/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"


# --- access ------------------------------------------------------------------------------------------------------


def test_read_only_users_cannot_import(tenant_alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.READ_ONLY))
    assert client.get("/crm/import/contact/").status_code == 403
    assert client.get("/crm/import/").status_code == 403
    response = client.post(
        "/crm/import/contact/", {"file": SimpleUploadedFile("a.csv", b"First name,Email\nA,a@x.nl\n")}
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_sales_users_can_import(tenant_alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.SALES))
    assert client.get("/crm/import/deal/").status_code == 200


def test_unknown_object_type_is_not_found(admin_client):
    assert admin_client.get("/crm/import/invoice/").status_code == 404


def test_another_tenants_job_is_not_found(admin_client, tenant_bravo):
    with schema_context(tenant_bravo.schema_name):
        job = ImportJob(object_type="contact", original_name="bravo-secret.csv", headers=["Email"])
        job.file.save("bravo.csv", ContentFile(b"Email\na@b.no\n"), save=False)
        job.save()
    for path in ("", "mapping/", "preview/", "progress/", "errors.csv"):
        assert admin_client.get(f"/crm/import/jobs/{job.pk}/{path}").status_code == 404, path
    assert admin_client.post(f"/crm/import/jobs/{job.pk}/run/").status_code == 404
    assert "bravo-secret.csv" not in admin_client.get("/crm/import/").content.decode()


def test_history_lists_the_tenants_imports(admin_client, django_capture_on_commit_callbacks):
    assert "No imports yet" in admin_client.get("/crm/import/").content.decode()
    validate(admin_client, django_capture_on_commit_callbacks, "contact", "First name,Email\nAnn,bad\n")
    page = admin_client.get("/crm/import/").content.decode()
    assert "import.csv" in page and "Checked" in page


def test_errors_download_neutralises_formulas(admin_client, django_capture_on_commit_callbacks):
    job = validate(admin_client, django_capture_on_commit_callbacks, "contact", "First name,Email\nAnn,=HYPERLINK()\n")
    response = admin_client.get(f"/crm/import/jobs/{job.pk}/errors.csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines == ["Row,Column,Value,Reason", "2,Email,'=HYPERLINK(),“=HYPERLINK()” is not a valid email address."]
    assert ImportRowError.objects.filter(job=job).count() == 1
