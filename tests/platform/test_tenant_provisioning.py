"""A provisioned tenant schema is the template, migrated from scratch, under another name; provisioning does not
look at other schemas, so it works (and costs the same) with the spare pool empty and with many tenants."""

import pytest
from django.db import connection
from django_tenants.utils import get_tenant_base_schema, schema_context, schema_exists

from commerce_hub.tenancy import provisioning
from commerce_hub.tenancy.models import Tenant
from commerce_hub.tenancy.services import tenant_signup

# Every catalog fact a migration could depend on, per schema, with the schema's own name replaced by "S" so two
# schemas compare equal when they hold the same objects. Columns compare by their order: a column a migration
# dropped leaves a gap in the template's attribute numbers that no copy or restore reproduces, and nothing reads it.
SHAPE_QUERIES = {
    "tables": """
        SELECT c.relname, c.relkind::text, c.relpersistence::text FROM pg_class c
        WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
    """,
    "columns": """
        SELECT c.relname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname,
               format_type(a.atttypid, a.atttypmod), a.attnotnull,
               replace(coalesce(pg_get_expr(d.adbin, d.adrelid), ''), %(s)s || '.', 'S.'),
               a.attidentity::text, a.attgenerated::text, coalesce(a.attcollation::regcollation::text, '')
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid AND c.relnamespace = %(s)s::regnamespace AND c.relkind IN ('r', 'p')
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped
    """,
    "constraints": """
        SELECT c.relname, k.conname, k.contype::text, replace(pg_get_constraintdef(k.oid), %(s)s || '.', 'S.'),
               k.condeferrable, k.condeferred, k.convalidated
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE k.connamespace = %(s)s::regnamespace
    """,
    "indexes": """
        SELECT tablename, indexname, replace(indexdef, %(s)s || '.', 'S.') FROM pg_indexes WHERE schemaname = %(s)s
    """,
    "triggers": """
        SELECT c.relname, t.tgname, replace(pg_get_triggerdef(t.oid), %(s)s || '.', 'S.'), t.tgenabled::text
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal
    """,
    "functions": """
        SELECT p.proname, replace(pg_get_functiondef(p.oid), %(s)s || '.', 'S.')
        FROM pg_proc p WHERE p.pronamespace = %(s)s::regnamespace
    """,
    "sequences": """
        SELECT sequencename, data_type::text, start_value, min_value, max_value, increment_by, cycle, cache_size,
               last_value
        FROM pg_sequences WHERE schemaname = %(s)s
    """,
    "sequence owners": """
        SELECT s.relname, c.relname, a.attname, d.deptype::text
        FROM pg_depend d
        JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' AND s.relnamespace = %(s)s::regnamespace
        JOIN pg_class c ON c.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    """,
}


def schema_shape(schema: str) -> dict[str, list[tuple]]:
    shape = {}
    with connection.cursor() as cursor:
        for name, sql in SHAPE_QUERIES.items():
            cursor.execute(sql, {"s": schema})
            shape[name] = sorted(cursor.fetchall(), key=repr)
        quoted = connection.ops.quote_name(schema)
        cursor.execute(f"SELECT id, app, name, applied FROM {quoted}.django_migrations ORDER BY id")
        shape["django_migrations"] = cursor.fetchall()
        # Seeded rows (tax rates, stages, content types, permissions): every table's row count and contents.
        rows = {}
        for table, _kind, _persistence in shape["tables"]:
            if _kind in ("r", "p"):
                cursor.execute(f"SELECT * FROM {quoted}.{connection.ops.quote_name(table)} ORDER BY 1")
                rows[table] = cursor.fetchall()
        shape["rows"] = sorted(rows.items())
    return shape


def test_a_provisioned_schema_is_identical_to_the_template_migrated_from_scratch(db):
    template = get_tenant_base_schema()
    tenant = Tenant(schema_name="t_identical", name="Identical")
    tenant.save(verbosity=0)
    connection.set_schema_to_public()

    want, got = schema_shape(template), schema_shape("t_identical")
    assert want["tables"] and want["django_migrations"] and want["triggers"] and want["functions"]
    for part in want:
        assert got[part] == want[part], part
    # The named UNIQUE constraint a later migration drops by name (the old clone renamed it).
    assert any(c[1] == "billing_quote_signer_once" for c in got["constraints"])


def test_provisioning_sends_one_statement_and_never_reads_other_schemas(db, django_assert_max_num_queries):
    provisioning.clone_script(get_tenant_base_schema())  # the script for this migration state, built once
    with django_assert_max_num_queries(10) as captured:
        provisioning.schema_provision(template=get_tenant_base_schema(), schema_name="t_one_trip")
    # The state key, then the script; the rest is the savepoint around it and the tenant cursor's search path.
    sent = [q["sql"] for q in captured.captured_queries]
    work = [sql for sql in sent if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "SET search_path"))]
    assert len(work) == 2, sent
    script = work[1]
    assert '"t_one_trip"' in script and "information_schema" not in script and "pg_catalog.pg_" not in script
    assert schema_exists("t_one_trip")


def test_the_template_script_is_rebuilt_when_the_template_migrates(db):
    template = get_tenant_base_schema()
    before = provisioning.template_state_key(template)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {template}.django_migrations (app, name, applied) VALUES ('zz', '0001_test', now())"
        )
    assert provisioning.template_state_key(template) != before


def test_signup_with_an_empty_spare_pool_provisions_a_whole_tenant(db):
    from commerce_hub.accounts.models import User

    Tenant.objects.filter(is_spare=True).delete()
    result = tenant_signup(
        company_name="Leeg Depot B.V.",
        subdomain="leeg-depot",
        admin_name="Lotte Leeg",
        email="lotte@leeg.example",
        password="a-long-signup-passphrase-7",
    )
    assert result.tenant.schema_name == "t_leeg_depot" and schema_exists("t_leeg_depot")
    with schema_context("t_leeg_depot"):
        assert list(User.objects.values_list("email", flat=True)) == ["lotte@leeg.example"]
        # The seeded rows came along, and new rows number on from the template's sequences.
        from billing.models import TaxRate

        assert TaxRate.objects.count() > 0


def test_without_pg_dump_provisioning_falls_back_to_the_clone(db, monkeypatch):
    def unavailable(**kwargs):
        raise provisioning.ProvisioningUnavailable("no pg_dump")

    monkeypatch.setattr("commerce_hub.tenancy.models.schema_provision", unavailable)
    Tenant(schema_name="t_fallback", name="Fallback").save(verbosity=0)
    connection.set_schema_to_public()
    assert schema_shape("t_fallback")["constraints"] == schema_shape(get_tenant_base_schema())["constraints"]


@pytest.mark.parametrize("name", ["tenant_template", '"tenant_template"'])
def test_the_dump_is_rewritten_only_where_it_names_the_template(name):
    dump = (
        "--\n-- Name: x; Schema: tenant_template\n--\nSET search_path = '';\n\\restrict abc\n"
        f"CREATE SCHEMA {name};\nCREATE TABLE {name}.t (id bigint DEFAULT nextval('{name}.t_id_seq'::regclass));\n"
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'my_tenant_template.x' $$;"
    )
    text = provisioning._rewrite(dump, "tenant_template", creates_schema=True)
    mark = provisioning.SCHEMA_MARK
    assert text.splitlines()[0] == f"CREATE SCHEMA {mark};"
    assert f"CREATE TABLE {mark}.t (id bigint DEFAULT nextval('{mark}.t_id_seq'::regclass));" in text
    assert "'my_tenant_template.x'" in text and "SET " not in text and "\\restrict" not in text
