"""Forms that must not act twice: a double click, a reload that re-posts, or two tabs submitting the same form.

Each such form carries a random token; the first request that claims it acts, any later one with the same token is
told it was done already. The claim is one atomic add in the tenant's cache, so two requests racing each other
cannot both win.
"""

import secrets

from django.core.cache import cache

CLAIM_SECONDS = 24 * 3600


def submission_token() -> str:
    return secrets.token_urlsafe(16)


def submission_claim(token: str | None) -> bool:
    """True for the first request with this token. A form without one (an old page) is let through."""
    if not token or len(token) > 64:
        return True
    return cache.add(f"form-submission:{token}", 1, timeout=CLAIM_SECONDS)
