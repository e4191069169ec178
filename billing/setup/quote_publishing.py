"""Publishing, the hosted quote page and e-signatures: the hourly expiry job, the Celery tasks, and the signatures
section of a quote's record page."""


def _signatures_section(request, quote):
    """The record page's signatures section: the current publication's signers with their audit record, the buyer's
    link and the PDFs. None (no section) before the first publication."""
    from billing.selectors.quote_hosted import quote_signatures_panel

    return quote_signatures_panel(quote=quote, user=request.user)


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from billing import quote_tasks  # noqa: F401 - registers the tasks with Celery (autodiscovery finds tasks.py only)
    from billing.quote_sections import quote_detail_sections_register
    from commerce_hub import registry

    # Idempotent (a quote expires once), so hourly catches up after an outage and within an hour of midnight in
    # every tenant's timezone.
    registry.register_beat("billing-quotes-expire", task="billing.quotes_expire_all_tenants", schedule=3600.0)
    quote_detail_sections_register(
        name="signatures", template="billing/quotes/_signers.html", context_fn=_signatures_section, order=20
    )
