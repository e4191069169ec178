"""Why a request carrying (or missing) an idempotency key is refused. Each is answered with a clear page, an htmx
message or a JSON error by IdempotencyRefusedMiddleware, never a server error, and nothing was written."""

from django.utils.translation import gettext_lazy as _


class IdempotencyRefused(Exception):
    status = 400
    code = "idempotency_refused"
    message = _("Nothing was done. Reload the page and try again.")

    def __init__(self, message=None, *, retry_url: str = ""):
        super().__init__(str(message or self.message))
        self.message = message or self.message
        self.retry_url = retry_url  # where a fresh form (with a fresh key) is, for the reload link


class KeyMissing(IdempotencyRefused):
    """The request has no usable key: an old page, a form without the hidden field, or a client that sent none."""

    status = 400
    code = "idempotency_key_missing"
    message = _(
        "This form was sent without its one-time key, so nothing was done. Reload the page and submit it again."
    )


class KeyReused(IdempotencyRefused):
    """The key was used before with other parameters (another amount, another invoice, another user)."""

    status = 422
    code = "idempotency_key_reused"
    message = _(
        "This form was already submitted with other values, so nothing was done. "
        "Reload the page to start again with what you want."
    )


class KeyInProgress(IdempotencyRefused):
    """The first request with this key committed its claim but not yet its outcome (a payment processor call)."""

    status = 409
    code = "idempotency_key_in_progress"
    message = _("This is still being processed. Reload the page in a moment to see the result.")
