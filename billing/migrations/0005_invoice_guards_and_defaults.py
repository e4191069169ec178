from django.db import migrations

# A finalized invoice is immutable in the database too, whatever code runs: only its state and bookkeeping
# columns (status, dates of state changes, first view, cached PDF path, deal link, updated_at) may change, it can
# never return to draft, it cannot be deleted, and its lines and adjustments are frozen with it. Credit notes are
# immutable except for their cached PDF path. The functions live in each tenant schema (see accounts 0002).
FORWARD = """
CREATE OR REPLACE FUNCTION billing_invoice_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is finalized and cannot be deleted', OLD.number;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.status = 'draft'
        OR NEW.number IS DISTINCT FROM OLD.number
        OR NEW.sequence IS DISTINCT FROM OLD.sequence
        OR NEW.currency IS DISTINCT FROM OLD.currency
        OR NEW.language IS DISTINCT FROM OLD.language
        OR NEW.snapshot IS DISTINCT FROM OLD.snapshot
        OR NEW.total IS DISTINCT FROM OLD.total
        OR NEW.issue_date IS DISTINCT FROM OLD.issue_date
        OR NEW.due_date IS DISTINCT FROM OLD.due_date
        OR NEW.payment_terms_days IS DISTINCT FROM OLD.payment_terms_days
        OR NEW.custom_due_date IS DISTINCT FROM OLD.custom_due_date
        OR NEW.payment_methods IS DISTINCT FROM OLD.payment_methods
        OR NEW.comments IS DISTINCT FROM OLD.comments
        OR NEW.logo_path IS DISTINCT FROM OLD.logo_path
        OR NEW.public_token IS DISTINCT FROM OLD.public_token
        OR NEW.late_fee_for_id IS DISTINCT FROM OLD.late_fee_for_id
        OR NEW.finalized_at IS DISTINCT FROM OLD.finalized_at
    ) THEN
        RAISE EXCEPTION 'invoice % is finalized: its contents cannot change', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_invoice_guard
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();

CREATE OR REPLACE FUNCTION billing_invoice_child_guard() RETURNS trigger AS $$
DECLARE
    invoice_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        invoice_ids := ARRAY[NEW.invoice_id];
    ELSIF TG_OP = 'UPDATE' THEN
        invoice_ids := ARRAY[OLD.invoice_id, NEW.invoice_id];
    ELSE
        invoice_ids := ARRAY[OLD.invoice_id];
    END IF;
    IF EXISTS (SELECT 1 FROM billing_invoice WHERE id = ANY(invoice_ids) AND status <> 'draft') THEN
        RAISE EXCEPTION 'the invoice is finalized: its % cannot change', TG_TABLE_NAME;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_lineitem_invoice_guard
    BEFORE INSERT OR UPDATE OR DELETE ON billing_lineitem
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_child_guard();
CREATE TRIGGER billing_adjustment_invoice_guard
    BEFORE INSERT OR UPDATE OR DELETE ON billing_documentadjustment
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_child_guard();

CREATE OR REPLACE FUNCTION billing_credit_note_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'credit note % cannot be deleted', OLD.number;
    END IF;
    IF (to_jsonb(NEW) - 'pdf_path') IS DISTINCT FROM (to_jsonb(OLD) - 'pdf_path') THEN
        RAISE EXCEPTION 'credit note % is issued: it cannot change', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_credit_note_guard
    BEFORE UPDATE OR DELETE ON billing_creditnote
    FOR EACH ROW EXECUTE FUNCTION billing_credit_note_guard();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS billing_credit_note_guard ON billing_creditnote;
DROP FUNCTION IF EXISTS billing_credit_note_guard();
DROP TRIGGER IF EXISTS billing_adjustment_invoice_guard ON billing_documentadjustment;
DROP TRIGGER IF EXISTS billing_lineitem_invoice_guard ON billing_lineitem;
DROP FUNCTION IF EXISTS billing_invoice_child_guard();
DROP TRIGGER IF EXISTS billing_invoice_guard ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_guard();
"""

# Reminder schedule every tenant starts with: 3 days before, on the due date, 7 and 14 days after.
DEFAULT_STEPS = [(-3, "upcoming"), (0, "upcoming"), (7, "reminder"), (14, "final_notice")]


def create_defaults(apps, schema_editor):
    NumberSeries = apps.get_model("billing", "NumberSeries")
    InvoiceSettings = apps.get_model("billing", "InvoiceSettings")
    ReminderStep = apps.get_model("billing", "ReminderStep")
    NumberSeries.objects.get_or_create(key="invoice", defaults={"prefix": "INV", "next_number": 1001})
    NumberSeries.objects.get_or_create(key="credit_note", defaults={"prefix": "CN", "next_number": 1001})
    InvoiceSettings.objects.get_or_create(
        pk=1, defaults={"payment_methods": ["bank_transfer", "card"], "payment_terms_days": 14}
    )
    if not ReminderStep.objects.exists():
        ReminderStep.objects.bulk_create([ReminderStep(offset_days=o, kind=k) for o, k in DEFAULT_STEPS])


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_invoices")]
    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(create_defaults, migrations.RunPython.noop),
    ]
