from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context


def test_same_key_in_two_tenants_reads_back_each_tenants_value(tenant_alpha, tenant_bravo, fresh_cache):
    with schema_context("t_alpha"):
        cache.set("greeting", "hallo")
    with schema_context("t_bravo"):
        assert cache.get("greeting") is None
        cache.set("greeting", "hei")
    with schema_context("t_alpha"):
        assert cache.get("greeting") == "hallo"
    with schema_context("t_bravo"):
        assert cache.get("greeting") == "hei"
        cache.delete("greeting")
    with schema_context("t_alpha"):
        assert cache.get("greeting") == "hallo"
    connection.set_schema_to_public()
    assert cache.get("greeting") is None


def test_organization_profile_cache_is_per_tenant(tenant_alpha, tenant_bravo, fresh_cache):
    from commerce_hub.organization.selectors import organization_profile_cached

    with schema_context("t_alpha"):
        assert organization_profile_cached().legal_name == "Alpha Handel B.V."
    with schema_context("t_bravo"):
        assert organization_profile_cached().legal_name == "Bravo Fjord AS"
