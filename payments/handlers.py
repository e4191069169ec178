"""Payments' reactions to domain events. Handlers run outside any transaction, at least once: each is idempotent."""
