"""Product library pages: the index (search, filters, CSV export), a product's page, the product form, archiving,
and folders. The CSV import lives in billing.views.product_imports."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.forms.products import COMPONENT_DATALIST_ID, ROW_KINDS, FolderForm, ProductEditor
from billing.imports.fields import export_header, export_row
from billing.models import PriceTier, Product, ProductFolder, ProductPrice
from billing.selectors.products import (
    SORT_LABELS,
    STATUSES,
    decimal_format,
    folder_paths,
    product_detail_queryset,
    product_index,
    unit_price_format,
)
from billing.services import products as services
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.accounts.models import AuditEntry
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.forms import form_add_errors
from commerce_hub.organization.selectors import organization_profile_cached
from commerce_hub.pagination import keyset_page, query_string_without

VIEW = "accounts.view_products"
MANAGE = "accounts.manage_products"
EXPORT = "accounts.export_data"
PAGE_SIZE = 50
EXPORT_CHUNK = 2000
DATALIST_LIMIT = 500


def _prices(product: Product) -> list[tuple[str, str]]:
    return [(p.currency, unit_price_format(p.unit_price, p.currency)) for p in product.prices.all()]


def _term(product: Product) -> str:
    if product.term_weeks:
        return _("%(count)s weeks") % {"count": product.term_weeks}
    if product.term_months:
        return _("%(count)s months") % {"count": product.term_months}
    return ""


@require_perm(VIEW)
@require_GET
def product_list(request):
    index = product_index(request.GET)
    page = keyset_page(index.queryset, ordering=index.ordering, cursor=request.GET.get("after"), size=PAGE_SIZE)
    rows = [{"product": p, "prices": _prices(p), "term": _term(p)} for p in page.rows]
    query = query_string_without(request.GET, "after")
    return render(
        request,
        "billing/products/index.html",
        {
            "index": index,
            "page": page,
            "rows": rows,
            "query": query,
            "query_without_status": query_string_without(request.GET, "after", "status"),
            "query_without_sort": query_string_without(request.GET, "after", "sort"),
            "statuses": STATUSES,
            "sorts": SORT_LABELS,
            "active_nav": "products",
        },
    )


class _Echo:
    def write(self, value):
        return value


@require_perm(VIEW, EXPORT)
@require_GET
def product_export(request):
    """The products of the current view as CSV, one price column per currency ("price_EUR"), walking the keyset."""
    index = product_index(request.GET)
    ids = index.queryset.values("pk")
    currencies = set(ProductPrice.objects.filter(product__in=ids).values_list("currency", flat=True).distinct())
    tier_currencies = set(PriceTier.objects.filter(product__in=ids).values_list("currency", flat=True).distinct())
    header = export_header(price_currencies=currencies, tier_currencies=tier_currencies)
    audit_record(
        actor=request.user,
        action="product.exported",
        object_type="billing.product",
        after={"query": query_string_without(request.GET, "after")},
    )
    writer = csv.writer(_Echo())
    folders = dict(folder_paths())

    def lines():
        yield "\ufeff" + writer.writerow(header)
        cursor = None
        queryset = index.queryset.prefetch_related("tiers", "components__component")
        while True:
            page = keyset_page(queryset, ordering=index.ordering, cursor=cursor, size=EXPORT_CHUNK)
            for product in page.rows:
                yield writer.writerow(export_row(product, header, folders=folders))
            if not page.next_cursor:
                break
            cursor = page.next_cursor

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="products-{stamp}.csv"'
    return response


@require_perm(VIEW)
@require_GET
def product_detail(request, pk: int):
    product = get_for_user(request.user, product_detail_queryset(), VIEW, pk=pk)
    tiers: dict[str, list[dict]] = defaultdict(list)
    previous: dict[str, Decimal] = {}
    for tier in product.tiers.all():
        if tier.up_to is not None:
            quantity = _("up to %(quantity)s") % {"quantity": decimal_format(tier.up_to)}
            previous[tier.currency] = tier.up_to
        elif tier.currency in previous:
            quantity = _("above %(quantity)s") % {"quantity": decimal_format(previous[tier.currency])}
        else:
            quantity = _("any quantity")
        tiers[tier.currency].append(
            {
                "quantity": quantity,
                "unit_price": unit_price_format(tier.unit_price, tier.currency),
                "flat_fee": unit_price_format(tier.flat_fee, tier.currency) if tier.flat_fee else "",
            }
        )
    history = AuditEntry.objects.filter(object_type="billing.product", object_id=str(product.pk))[:10]
    return render(
        request,
        "billing/products/detail.html",
        {
            "product": product,
            "prices": _prices(product),
            "tiers": sorted(tiers.items()),
            "term": _term(product),
            "package_size": decimal_format(product.package_size),
            "unit_cost": unit_price_format(product.unit_cost, product.cost_currency) if product.cost_currency else "",
            "components": [(c, decimal_format(c.quantity)) for c in product.components.all()],
            "in_bundles": [c.bundle for c in product.in_bundles.all()],
            "folder_path": dict(folder_paths()).get(product.folder_id, "") if product.folder_id else "",
            "history": history,
            "active_nav": "products",
        },
    )


def _product_form(request, product: Product | None):
    default_currency = organization_profile_cached().default_currency
    add = request.POST.get("add", "") if request.method == "POST" else ""
    if add in ROW_KINDS:
        editor = ProductEditor.with_row_added(request.POST, kind=add, product=product)
        status = 200
    elif request.method == "POST":
        editor = ProductEditor(request.POST, product=product, default_currency=default_currency)
        if editor.is_valid():
            data = editor.product_input()
            try:
                if product is None:
                    saved = services.product_create(data=data, actor=request.user)
                else:
                    saved = services.product_update(product=product, data=data, actor=request.user)
            except ValidationError as exc:
                editor.apply_errors(exc)
            else:
                text = _("“%(name)s” created.") if product is None else _("“%(name)s” saved.")
                messages.success(request, text % {"name": saved.name})
                return redirect("billing:product_detail", pk=saved.pk)
        status = 400
    else:
        editor = ProductEditor(product=product, default_currency=default_currency)
        status = 200
    return render(
        request,
        "billing/products/form.html",
        {
            "editor": editor,
            "form": editor.form,
            "product": product,
            "datalist_id": COMPONENT_DATALIST_ID,
            "component_options": Product.objects.filter(is_archived=False)
            .exclude(pk=product.pk if product else None)
            .values_list("sku", "name")[:DATALIST_LIMIT],
            "active_nav": "products",
        },
        status=status,
    )


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def product_create(request):
    return _product_form(request, None)


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int):
    product = get_for_user(request.user, product_detail_queryset(), MANAGE, pk=pk)
    return _product_form(request, product)


@require_perm(MANAGE)
@require_POST
def product_archive(request, pk: int):
    product = get_for_user(request.user, Product.objects.all(), MANAGE, pk=pk)
    archived = request.POST.get("archived") == "1"
    services.product_set_archived(product=product, archived=archived, actor=request.user)
    if archived:
        messages.success(
            request,
            _("“%(name)s” archived. Documents keep it; it can no longer be added to new ones.")
            % {"name": product.name},
        )
    else:
        messages.success(request, _("“%(name)s” is active again.") % {"name": product.name})
    return redirect("billing:product_detail", pk=product.pk)


# --- folders ------------------------------------------------------------------------------------------------------


def _folder_rows():
    counts = dict(ProductFolder.objects.annotate(n=Count("products")).values_list("pk", "n"))
    return [{"pk": pk, "path": path, "count": counts.get(pk, 0)} for pk, path in folder_paths()]


@require_perm(VIEW)
@require_http_methods(["GET", "POST"])
def folder_list(request):
    form = FolderForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm(MANAGE):
            raise PermissionDenied
        if form.is_valid():
            parent = form.cleaned_data["parent"]
            try:
                folder = services.product_folder_create(
                    name=form.cleaned_data["name"], parent_id=int(parent) if parent else None, actor=request.user
                )
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Folder “%(name)s” created.") % {"name": folder.name})
                return redirect("billing:folder_list")
    return render(
        request,
        "billing/products/folders.html",
        {"folders": _folder_rows(), "form": form, "active_nav": "products"},
        status=400 if form.errors else 200,
    )


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def folder_edit(request, pk: int):
    folder = get_for_user(request.user, ProductFolder.objects.all(), MANAGE, pk=pk)
    form = FolderForm(request.POST or None, initial={"name": folder.name}, exclude=folder.pk)
    del form.fields["parent"]
    if request.method == "POST" and form.is_valid():
        try:
            services.product_folder_rename(folder=folder, name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Folder renamed."))
            return redirect("billing:folder_list")
    return render(
        request,
        "billing/products/folder_edit.html",
        {"folder": folder, "form": form, "active_nav": "products"},
        status=400 if form.errors else 200,
    )


@require_perm(MANAGE)
@require_POST
def folder_delete(request, pk: int):
    folder = get_for_user(request.user, ProductFolder.objects.all(), MANAGE, pk=pk)
    services.product_folder_delete(folder=folder, actor=request.user)
    messages.success(request, _("Folder “%(name)s” deleted; its products have no folder now.") % {"name": folder.name})
    return redirect("billing:folder_list")
