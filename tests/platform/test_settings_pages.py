import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from commerce_hub.organization.models import OrganizationProfile

VALID = {
    "legal_name": "Alpha Handel B.V.",
    "address_line1": "Oudegracht 1",
    "address_line2": "",
    "postal_code": "3511 AA",
    "city": "Utrecht",
    "country": "NL",
    "vat_number": "nl 1622.75869.B01",
    "registration_number": "3027 6498",
    "default_currency": "EUR",
    "timezone": "Europe/Amsterdam",
    "language": "nl",
}


def test_profile_saves_normalised_numbers(admin_client):
    response = admin_client.post("/settings/company/", VALID)
    assert response.status_code == 302
    profile = OrganizationProfile.objects.get()
    assert (profile.vat_number, profile.registration_number) == ("NL162275869B01", "30276498")


def test_norwegian_profile_checks_the_organisation_number(admin_client):
    data = {
        **VALID,
        "country": "NO",
        "vat_number": "NO 872 461 272 MVA",
        "registration_number": "872461272",
        "default_currency": "NOK",
        "timezone": "Europe/Oslo",
    }
    assert admin_client.post("/settings/company/", data).status_code == 302
    profile = OrganizationProfile.objects.get()
    assert (profile.vat_number, profile.registration_number, profile.default_currency) == (
        "NO872461272MVA",
        "872461272",
        "NOK",
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"vat_number": "NL123456789B01"},
            "vat_number",
            "This is not a valid NL VAT number: the check digit does not match.",
        ),
        (
            {"vat_number": "NL12"},
            "vat_number",
            "This is not a valid NL VAT number: it does not have the right format.",
        ),
        (
            {"country": "NO", "vat_number": "NO12345MVA"},
            "vat_number",
            "This is not a valid NO VAT number: it has the wrong number of characters.",
        ),
        (
            {"registration_number": "1234"},
            "registration_number",
            "A Dutch chamber of commerce (KvK) number has 8 digits.",
        ),
        (
            {"country": "NO", "registration_number": "872461273"},
            "registration_number",
            "This is not a valid Norwegian organisation number: the check digit does not match.",
        ),
        (
            {"default_currency": "XYZ"},
            "default_currency",
            "Select a valid choice. XYZ is not one of the available choices.",
        ),
        (
            {"timezone": "Mars/Olympus"},
            "timezone",
            "Select a valid choice. Mars/Olympus is not one of the available choices.",
        ),
        ({"legal_name": ""}, "legal_name", "This field is required."),
    ],
)
def test_profile_rejects_bad_input_next_to_the_field_and_saves_nothing(admin_client, changes, field, message):
    before = OrganizationProfile.objects.get().legal_name
    response = admin_client.post("/settings/company/", {**VALID, **changes})
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert OrganizationProfile.objects.get().legal_name == before
    assert OrganizationProfile.objects.get().vat_number == ""


def _image(fmt="PNG", size=(120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#0f766e").save(buffer, fmt)
    return buffer.getvalue()


def test_logo_upload_and_accent_colour(admin_client, django_capture_on_commit_callbacks):
    admin_client.get("/")  # the profile is now cached; saving must refresh it
    upload = SimpleUploadedFile("../../etc/passwd.png", _image(), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/settings/branding/", {"accent_color": "#1D4ED8", "logo": upload})
    assert response.status_code == 302
    profile = OrganizationProfile.objects.get()
    assert profile.accent_color == "#1D4ED8"
    assert profile.logo.name.startswith("branding/logo") and profile.logo.name.endswith(".png")
    served = admin_client.get("/branding/logo/")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == _image()
    assert "--ch-accent: #1D4ED8" in admin_client.get("/").content.decode()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "logo.svg",
            "Upload a PNG, JPEG or WebP image.",
        ),
        (b"GIF89a" + b"\x00" * 100, "logo.gif", "Upload a PNG, JPEG or WebP image."),
        (b"not an image at all", "logo.png", "Upload a PNG, JPEG or WebP image."),
        (_image(size=(5000, 10)), "wide.png", "Use an image of at most 4000 × 4000 pixels."),
        (b"\x89PNG" + b"\x00" * (1024 * 1024 + 10), "huge.png", "The logo is 1024 KB; the limit is 1024 KB."),
    ],
)
def test_bad_logos_are_refused_with_the_reason(admin_client, content, name, message):
    response = admin_client.post(
        "/settings/branding/", {"accent_color": "#0f766e", "logo": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["logo"] == [message]
    assert not OrganizationProfile.objects.get().logo


def test_bad_accent_colour_is_refused(admin_client):
    response = admin_client.post("/settings/branding/", {"accent_color": "red; } body { display:none"})
    assert response.context["form"].errors["accent_color"] == ["Use a colour like #0f766e."]


def test_logo_is_404_when_there_is_none(admin_client):
    assert admin_client.get("/branding/logo/").status_code == 404


def test_a_decompression_bomb_is_refused_not_a_server_error(admin_client):
    # A valid PNG header that claims 30000 x 30000 pixels: Pillow refuses to open it.
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
        + chunk(b"IEND", b"")
    )
    response = admin_client.post(
        "/settings/branding/", {"accent_color": "#0f766e", "logo": SimpleUploadedFile("bomb.png", png)}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["logo"] == ["Upload a PNG, JPEG or WebP image."]
