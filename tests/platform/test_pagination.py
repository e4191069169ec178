from datetime import timedelta

from django.utils import timezone

from commerce_hub.pagination import keyset_page
from crm.models import Company, Contact


def test_keyset_pages_cover_every_row_once_in_order_with_ties(tenant_alpha):
    now = timezone.now()
    # Ties on updated_at: the id breaks them, so no row is skipped or repeated at a page boundary.
    Contact.objects.bulk_create(
        Contact(first_name=f"P{i:03d}", email=f"p{i}@example.com", updated_at=now - timedelta(minutes=i // 3))
        for i in range(107)
    )
    expected = list(Contact.objects.order_by("-updated_at", "-id").values_list("id", flat=True))
    seen, cursor, pages = [], None, 0
    while True:
        page = keyset_page(Contact.objects.all(), ordering=["-updated_at", "-id"], cursor=cursor, size=25)
        seen += [row.pk for row in page.rows]
        pages += 1
        assert page.is_first == (pages == 1)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert pages == 5  # 25 + 25 + 25 + 25 + 7


def test_ascending_text_ordering(tenant_alpha):
    names = ["Zeeland BV", "Amstel", "Bergen AS", "amstel", "Delft"]
    Company.objects.bulk_create(Company(name=n) for n in names)
    first = keyset_page(Company.objects.all(), ordering=["name", "id"], cursor=None, size=2)
    second = keyset_page(Company.objects.all(), ordering=["name", "id"], cursor=first.next_cursor, size=2)
    third = keyset_page(Company.objects.all(), ordering=["name", "id"], cursor=second.next_cursor, size=2)
    ordered = list(Company.objects.order_by("name", "id").values_list("name", flat=True))
    assert [c.name for c in first.rows + second.rows + third.rows] == ordered
    assert third.next_cursor is None


def test_a_forged_cursor_is_ignored_and_gives_the_first_page(tenant_alpha):
    Company.objects.bulk_create(Company(name=f"C{i}") for i in range(3))
    page = keyset_page(Company.objects.all(), ordering=["name", "id"], cursor="eyJmb3JnZWQiOjF9:bad:sig", size=2)
    assert page.is_first and [c.name for c in page.rows] == ["C0", "C1"]


def test_list_pages_paginate_and_search(admin_client):
    Company.objects.bulk_create(Company(name=f"Bedrijf {i:02d}", city="Utrecht") for i in range(60))
    Company.objects.create(name="Fjordkraft AS", city="Bergen")
    page1 = admin_client.get("/crm/companies/")
    assert len(page1.context["page"].rows) == 50
    nxt = page1.context["page"].next_cursor
    page2 = admin_client.get("/crm/companies/", {"after": nxt})
    assert [c.name for c in page2.context["page"].rows] == [f"Bedrijf {i:02d}" for i in range(50, 60)] + [
        "Fjordkraft AS"
    ]
    found = admin_client.get("/crm/companies/", {"q": "bergen"})
    assert [c.name for c in found.context["page"].rows] == ["Fjordkraft AS"]
    empty = admin_client.get("/crm/companies/", {"q": "nothing-like-this"})
    assert "Nothing matches this view" in empty.content.decode()
