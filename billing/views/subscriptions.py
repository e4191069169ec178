"""Subscription pages: the index (default and saved views, filters, search, sort, keyset pages) and the record page.
The changes (pause, cancel, items, coupons, simulated time) are in billing/views/subscriptions_changes.py, manual
creation in billing/views/subscriptions_new.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.models import Subscription
from billing.selectors.subscription_index import (
    DEFAULT_VIEWS,
    SORTS,
    SUBSCRIPTION_VIEWS,
    subscription_index_query,
    subscription_rows_decorate,
    subscription_saved_views,
)
from billing.selectors.subscription_record import subscription_actions, subscription_page
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.pagination import keyset_page, query_string_without
from commerce_hub.saved_views import services as saved_views
from commerce_hub.saved_views.forms import SaveViewForm

VIEW = "accounts.view_subscriptions"
MANAGE = "accounts.manage_subscriptions"
PAGE_SIZE = 50
EMPTY = {
    "all": (
        gettext_lazy("No subscriptions yet"),
        gettext_lazy(
            "Subscriptions start when a quote with recurring items is paid or accepted, or when you create one "
            "from a contact, company or deal."
        ),
    ),
    "active": (
        gettext_lazy("No active subscriptions"),
        gettext_lazy("Subscriptions that bill every period appear here."),
    ),
    "past_due": (
        gettext_lazy("Nothing is past due"),
        gettext_lazy("Subscriptions whose last charge failed appear here."),
    ),
    "canceling": (
        gettext_lazy("Nothing is canceling"),
        gettext_lazy("Subscriptions set to cancel at the end of their period appear here."),
    ),
    "trialing": (gettext_lazy("No trials"), gettext_lazy("Subscriptions in their free trial appear here.")),
    "paused": (
        gettext_lazy("Nothing is paused"),
        gettext_lazy("Paused subscriptions are not billed; they appear here."),
    ),
    "scheduled": (
        gettext_lazy("Nothing is scheduled"),
        gettext_lazy("Subscriptions that start on a later day appear here."),
    ),
    "ended": (gettext_lazy("Nothing has ended"), gettext_lazy("Canceled and ended subscriptions appear here.")),
}
EMPTY_FILTERED = (
    gettext_lazy("Nothing matches this view"),
    gettext_lazy("Change the filters or the search, or pick another view."),
)


def test_mode() -> bool:
    """Whether the "Simulate time" tool shows: the clock's own rule (payments registers whether the tenant is in
    test mode; billing cannot know)."""
    from billing.services.subscription_clock import subscription_test_mode

    return subscription_test_mode()


test_mode.__test__ = False  # not a test, whatever pytest's name rule says


def subscription_get(request, pk: int, perm: str = VIEW, *, for_update: bool = False) -> Subscription:
    """The subscription, if the user may `perm` it; another tenant's is not in this schema at all (404)."""
    queryset = Subscription.objects.select_related("company", "contact", "deal", "coupon", "source_quote", "created_by")
    return get_for_user(request.user, queryset, perm, pk=pk)


def errors_to_messages(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@require_perm(VIEW)
@require_GET
def subscription_list(request):
    index = subscription_index_query(params=request.GET, user=request.user)
    page = keyset_page(index.queryset, ordering=index.ordering, cursor=request.GET.get("after"), size=PAGE_SIZE)
    subscription_rows_decorate(page.rows, today=index.today)
    filtered = bool(index.search or index.active_filters or index.scope)
    empty_title, empty_text = EMPTY_FILTERED if filtered else EMPTY[index.base]
    return render(
        request,
        "billing/subscriptions/index.html",
        {
            "index": index,
            "page": page,
            "query": query_string_without(request.GET, "after"),
            "query_without_sort": query_string_without(request.GET, "after", "sort"),
            "default_views": DEFAULT_VIEWS,
            "sorts": SORTS,
            "saved_views": subscription_saved_views(request.user),
            "save_form": SaveViewForm(),
            "empty_title": empty_title,
            "empty_text": empty_text,
            "filtered": filtered,
            "filter_errors": [e for errors in index.filterset.errors.values() for e in errors],
            "active_nav": "subscriptions",
        },
    )


@require_perm(VIEW)
@require_POST
def subscription_view_save(request):
    form = SaveViewForm(request.POST)
    query = request.POST.get("query", "")
    back = f"{reverse('billing:subscription_list')}?{query}"
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(back)
    try:
        view = saved_views.saved_view_create(
            index=SUBSCRIPTION_VIEWS,
            name=form.cleaned_data["name"],
            query=query,
            shared=form.cleaned_data["shared"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{reverse('billing:subscription_list')}?view={view.pk}")


@require_perm(VIEW)
@require_http_methods(["GET", "POST"])
def subscription_view_delete(request, pk: int):
    """GET asks, POST deletes: the link works without JavaScript and never deletes on one click."""
    view = get_for_user(request.user, subscription_saved_views(request.user), VIEW, pk=pk)
    try:
        if request.method == "GET":
            saved_views.saved_view_check_delete(view=view, actor=request.user)
            return render(
                request, "billing/subscriptions/view_delete.html", {"view": view, "active_nav": "subscriptions"}
            )
        saved_views.saved_view_delete(index=SUBSCRIPTION_VIEWS, view=view, actor=request.user)
    except ValidationError as exc:
        raise PermissionDenied(" ".join(exc.messages)) from exc
    messages.success(request, _("View deleted."))
    return redirect("billing:subscription_list")


@require_perm(VIEW)
@require_GET
def subscription_detail(request, pk: int):
    subscription = subscription_get(request, pk)
    page = subscription_page(subscription)
    return render(
        request,
        "billing/subscriptions/detail.html",
        {
            "subscription": subscription,
            "page": page,
            **subscription_actions(subscription, user=request.user, test_mode=test_mode()),
            "active_nav": "subscriptions",
        },
    )
