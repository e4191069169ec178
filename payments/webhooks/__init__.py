"""Processor webhooks (Stripe's): each tenant has its own endpoint on the public site, addressed by an unguessable
id (commerce_hub.tenancy.models.InboundEndpoint) that names the tenant, and so the signing secrets that must have
signed the request before anything in its body is trusted.

    views.py        the endpoint: find the tenant, verify, store the raw event once, enqueue, answer 200 fast
    verification.py Stripe's signature scheme (v1 HMAC-SHA256, several signatures and secrets during a rotation,
                    a timestamp at most five minutes off either way)
    processing.py   a worker applies the tenant's stored events in Stripe's `created` order, each at most once,
                    through payments.services.processor_events; a failure is retried with backoff and stays visible
    tasks.py        the Celery tasks, on the "webhooks" queue
"""
