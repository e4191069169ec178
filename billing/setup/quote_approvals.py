def register() -> None:
    """Called once from BillingConfig.ready()."""
