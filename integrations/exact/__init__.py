"""The Exact Online connector: OAuth connection, setup, sync of records and invoices, payments flowing back and
reconciliation. Every call to Exact runs outside a database transaction (from an outbox handler or a task)."""
