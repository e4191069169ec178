from django.db import migrations

# The processor balance is append-only: corrections are new entries, and a payout's PayoutItem rows point at
# entries that must never change under it. The function lives in each tenant schema.
BALANCE_GUARD = """
CREATE OR REPLACE FUNCTION payments_balance_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'processor balance entries cannot be changed or deleted; add a correcting entry';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payments_balance_guard
    BEFORE UPDATE OR DELETE ON payments_balanceentry
    FOR EACH ROW EXECUTE FUNCTION payments_balance_guard();
"""
BALANCE_GUARD_BACK = """
DROP TRIGGER IF EXISTS payments_balance_guard ON payments_balanceentry;
DROP FUNCTION IF EXISTS payments_balance_guard();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_payments"),
    ]

    operations = [
        migrations.RunSQL(BALANCE_GUARD, BALANCE_GUARD_BACK),
    ]
