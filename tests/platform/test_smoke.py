def test_home_lists_the_navigation(admin_client):
    response = admin_client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for label in [
        "Contacts",
        "Companies",
        "Deals",
        "Products",
        "Quotes",
        "Invoices",
        "Payment links",
        "Subscriptions",
        "Payments",
        "Settings",
    ]:
        assert f">{label}</a>" in body
