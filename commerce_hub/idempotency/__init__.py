"""Idempotency keys: every action that moves money or sends something runs once per key (see web.py for views,
services.py for webhooks, tasks and the API)."""
