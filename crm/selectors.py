from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Sum

from crm.models import Company, Contact, Deal, LifecycleStage, Stage

_LIFECYCLE_CACHE_KEY = "crm:lifecycle-labels"


def lifecycle_labels() -> dict[str, str]:
    """key -> label of every lifecycle stage, cached per tenant (index pages show one per row)."""
    labels = cache.get(_LIFECYCLE_CACHE_KEY)
    if labels is None:
        labels = dict(LifecycleStage.objects.values_list("key", "label"))
        cache.set(_LIFECYCLE_CACHE_KEY, labels, timeout=300)
    return labels


def lifecycle_labels_forget() -> None:
    cache.delete(_LIFECYCLE_CACHE_KEY)


EXACT_COUNT_BELOW = 100_000


def row_count(model) -> tuple[int, bool]:
    """(count, is_estimate). Small tables are counted; large ones use the planner's estimate, because COUNT(*)
    over a million rows on every home page view is a full scan."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = %s",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    estimate = row[0] if row else -1
    if estimate < EXACT_COUNT_BELOW:  # -1: never analysed yet
        return model.objects.count(), False
    return estimate, True


def crm_dashboard_figures() -> dict:
    """Home page figures, cached per tenant for a minute."""
    figures = cache.get("crm:dashboard")
    if figures is None:
        open_deals = Deal.objects.filter(stage__kind=Stage.Kind.OPEN)
        by_currency = (
            open_deals.exclude(amount__isnull=True)
            .values("amount_currency")
            .annotate(total=Sum("amount"), n=Count("id"))
            .order_by("amount_currency")
        )
        figures = {
            "companies": row_count(Company),
            "contacts": row_count(Contact),
            "deals": row_count(Deal),
            "pipeline_by_currency": list(by_currency),
        }
        cache.set("crm:dashboard", figures, timeout=60)
    return figures
