from commerce_hub.idempotency.errors import IdempotencyRefused
from commerce_hub.idempotency.web import refused_response


class IdempotencyRefusedMiddleware:
    """A request refused for its idempotency key (missing, reused with other values, still in progress) gets a
    clear answer instead of a server error; nothing was written, as the key is checked before any write."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, IdempotencyRefused):
            return refused_response(request, exception)
        return None
