"""The quotes index (default and saved views, filters, search, sort, keyset pages) and its saved views."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.selectors.quote_index import (
    DEFAULT_VIEWS,
    QUOTE_VIEWS,
    SORTS,
    quote_index_query,
    quote_rows_decorate,
    quote_saved_views,
)
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.pagination import keyset_page, query_string_without
from commerce_hub.saved_views import services as saved_views
from commerce_hub.saved_views.forms import SaveViewForm

VIEW = "accounts.view_quotes"
PAGE_SIZE = 50
EMPTY = {
    "all": (gettext_lazy("No quotes yet"), gettext_lazy("Quotes you build from deals appear here.")),
    "drafts": (gettext_lazy("No drafts"), gettext_lazy("Quotes you are still building appear here.")),
    "published": (
        gettext_lazy("No quotes with buyers"),
        gettext_lazy("Published quotes appear here until the buyer signs, declines or they expire."),
    ),
    "expiring": (
        gettext_lazy("Nothing expires this week"),
        gettext_lazy("Quotes whose expiration date is within the next 7 days appear here."),
    ),
    "won": (gettext_lazy("No won quotes yet"), gettext_lazy("Signed, accepted and paid quotes appear here.")),
    "lost": (gettext_lazy("No lost quotes"), gettext_lazy("Declined and expired quotes appear here.")),
}
EMPTY_FILTERED = (
    gettext_lazy("Nothing matches this view"),
    gettext_lazy("Change the filters or the search, or pick another view."),
)


@require_perm(VIEW)
@require_GET
def quote_list(request):
    index = quote_index_query(params=request.GET, user=request.user)
    page = keyset_page(index.queryset, ordering=index.ordering, cursor=request.GET.get("after"), size=PAGE_SIZE)
    quote_rows_decorate(page.rows, today=index.today)
    filtered = bool(index.search or index.active_filters or index.scope)
    empty_title, empty_text = EMPTY_FILTERED if filtered else EMPTY[index.base]
    return render(
        request,
        "billing/quotes/index.html",
        {
            "index": index,
            "page": page,
            "query": query_string_without(request.GET, "after"),
            "query_without_sort": query_string_without(request.GET, "after", "sort"),
            "default_views": DEFAULT_VIEWS,
            "sorts": SORTS,
            "saved_views": quote_saved_views(request.user),
            "save_form": SaveViewForm(),
            "empty_title": empty_title,
            "empty_text": empty_text,
            "filtered": filtered,
            "filter_errors": [e for errors in index.filterset.errors.values() for e in errors],
            "active_nav": "quotes",
        },
    )


@require_perm(VIEW)
@require_POST
def quote_view_save(request):
    form = SaveViewForm(request.POST)
    query = request.POST.get("query", "")
    back = f"{reverse('billing:quote_list')}?{query}"
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(back)
    try:
        view = saved_views.saved_view_create(
            index=QUOTE_VIEWS,
            name=form.cleaned_data["name"],
            query=query,
            shared=form.cleaned_data["shared"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{reverse('billing:quote_list')}?view={view.pk}")


@require_perm(VIEW)
@require_http_methods(["GET", "POST"])
def quote_view_delete(request, pk: int):
    """GET asks, POST deletes: the link works without JavaScript and never deletes on one click."""
    view = get_for_user(request.user, quote_saved_views(request.user), VIEW, pk=pk)
    try:
        if request.method == "GET":
            saved_views.saved_view_check_delete(view=view, actor=request.user)
            return render(request, "billing/quotes/view_delete.html", {"view": view, "active_nav": "quotes"})
        saved_views.saved_view_delete(index=QUOTE_VIEWS, view=view, actor=request.user)
    except ValidationError as exc:
        raise PermissionDenied(" ".join(exc.messages)) from exc
    messages.success(request, _("View deleted."))
    return redirect("billing:quote_list")
