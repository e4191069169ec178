"""The line item editor (deals now): add lines from the library or by hand, edit them in place with the engine
recomputing on the server, clone, delete, reorder, one-time adjustments, and the deal amount from the lines.

Every route exists once per document kind ("billing:deal_line_items", ...), with the document in the path; a line
or adjustment is looked up among that document's own rows, so an id of another document is a 404.

With htmx, a change answers with the whole editor (#line-editor: metrics, lines and summary recomputed); a form with
errors answers with itself, retargeted to where it stands. Without JavaScript every form posts and redirects.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from djmoney.money import Money

from billing.editor import LineOwner, owner_for, owner_kinds
from billing.forms.fields import LocalizedDecimalField
from billing.models import LineItem
from billing.models.choices import AdjustmentKind, BillingStart, Frequency
from billing.selectors.line_items import (
    COLUMNS,
    DEFAULT_COLUMNS,
    converted_total,
    editor_state,
    library_search,
    row_texts,
)
from billing.selectors.products import folder_paths, unit_price_format
from billing.selectors.tax_rates import tax_rate_choices
from billing.services import line_items as services
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.money import money_format
from commerce_hub.text import is_id

_L = gettext_lazy
CUSTOM = "accounts.create_custom_line_items"
MANAGE_PRODUCTS = "accounts.manage_products"
VIEW_PRODUCTS = "accounts.view_products"
COLUMNS_SESSION_KEY = "billing:line-columns"


# --- forms ------------------------------------------------------------------------------------------------------------


class LineForm(forms.Form):
    quantity = LocalizedDecimalField(label=_L("Quantity"))
    unit_price = LocalizedDecimalField(label=_L("Unit price"), min_decimals=2)
    discount_type = forms.ChoiceField(
        label=_L("Discount"),
        required=False,
        choices=[("", _L("No discount")), ("percent", _L("Percentage")), ("amount", _L("Amount per unit"))],
    )
    discount_value = LocalizedDecimalField(label=_L("Discount value"), required=False)
    tax_rate = forms.ChoiceField(label=_L("Tax rate"), required=False)
    frequency = forms.ChoiceField(label=_L("Billing frequency"), choices=Frequency.choices)
    term = forms.IntegerField(
        label=_L("Term"),
        required=False,
        max_value=1200,
        help_text=_L("In weeks for weekly billing, in months otherwise; empty for no fixed term."),
    )
    billing_start = forms.ChoiceField(label=_L("Billing start"), choices=BillingStart.choices)
    billing_start_date = forms.DateField(
        label=_L("Start date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    billing_start_delay = forms.IntegerField(label=_L("Delay"), required=False)
    unit_cost = LocalizedDecimalField(label=_L("Unit cost"), required=False, min_decimals=2)

    def __init__(self, *args, line: LineItem | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        keep = line.tax_rate if line is not None and line.tax_rate_id else None
        self.fields["tax_rate"].choices = [("", _("No tax")), *tax_rate_choices(keep=keep)]

    def values(self) -> services.LineValues:
        data = self.cleaned_data
        return services.LineValues(**_line_values(data))


def _line_values(data: dict) -> dict:
    return {
        "quantity": data.get("quantity"),
        "unit_price": data.get("unit_price"),
        "discount_type": data.get("discount_type") or "",
        "discount_value": data.get("discount_value"),
        "tax_rate_id": int(data["tax_rate"]) if data.get("tax_rate") else None,
        "frequency": data.get("frequency") or Frequency.ONE_TIME,
        "term": data.get("term"),
        "billing_start": data.get("billing_start") or BillingStart.CHECKOUT,
        "billing_start_date": data.get("billing_start_date"),
        "billing_start_delay": data.get("billing_start_delay"),
        "unit_cost": data.get("unit_cost"),
    }


class CustomLineForm(LineForm):
    name = forms.CharField(label=_L("Name"), max_length=200)
    sku = forms.CharField(label=_L("SKU"), max_length=64, required=False)
    description = forms.CharField(label=_L("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    save_to_library = forms.BooleanField(label=_L("Also save it to the product library"), required=False)

    field_order = ["name", "sku", "description"]

    def __init__(self, *args, can_save_to_library: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_save_to_library:
            del self.fields["save_to_library"]

    def values(self) -> services.CustomLineValues:
        data = self.cleaned_data
        return services.CustomLineValues(
            **_line_values(data),
            name=data.get("name", ""),
            sku=data.get("sku", ""),
            description=data.get("description", ""),
        )


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(label=_L("Type"), choices=AdjustmentKind.choices)
    label = forms.CharField(label=_L("Label"), max_length=120)
    mode = forms.ChoiceField(
        label=_L("Calculated as"),
        choices=[("percent", _L("Percentage of the subtotal")), ("amount", _L("Fixed amount"))],
    )
    value = LocalizedDecimalField(label=_L("Value"))

    def values(self) -> services.AdjustmentValues:
        data = self.cleaned_data
        return services.AdjustmentValues(
            kind=data["kind"], label=data["label"], mode=data["mode"], value=data.get("value")
        )


def _line_initial(line: LineItem) -> dict:
    return {
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "discount_type": line.discount_type,
        "discount_value": line.discount_value if line.discount_type else None,
        "tax_rate": str(line.tax_rate_id or ""),
        "frequency": line.frequency,
        "term": line.term_weeks or line.term_months,
        "billing_start": line.billing_start,
        "billing_start_date": line.billing_start_date,
        "billing_start_delay": line.billing_start_delay,
        "unit_cost": line.unit_cost,
    }


# --- lookups ----------------------------------------------------------------------------------------------------------


def _owner(request, owner_kind: str, owner_pk: int, *, edit: bool) -> LineOwner:
    kind = owner_kinds().get(owner_kind)
    if kind is None:
        raise Http404
    obj = get_for_user(request.user, kind.model.objects.all(), kind.edit_perm if edit else kind.view_perm, pk=owner_pk)
    reason = kind.locked_reason(obj) if edit else ""
    if reason:  # a finalized invoice: the services refuse it too, under the document's row lock
        raise PermissionDenied(reason)
    return owner_for(owner_kind, obj)


def _line(owner: LineOwner, pk: int) -> LineItem:
    return get_object_or_404(owner.lines().select_related("tax_rate"), pk=pk)


def _columns(request) -> list[str]:
    chosen = request.session.get(COLUMNS_SESSION_KEY)
    valid = {key for key, _label in COLUMNS}
    return [key for key in chosen if key in valid] if isinstance(chosen, list) else list(DEFAULT_COLUMNS)


def _urls(owner: LineOwner) -> dict[str, str]:
    prefix, pk = owner.url_prefix, owner.pk
    names = [
        "line_items",
        "line_library",
        "line_custom",
        "line_reorder",
        "line_columns",
        "line_save",
        "adjustment_new",
    ]
    return {name: reverse(f"{prefix}_{name}", args=[pk]) for name in names}


def _base_context(request, owner: LineOwner) -> dict:
    kind = owner.kind
    user = request.user
    can_edit = user.has_perm(kind.edit_perm) and not kind.locked_reason(owner.obj)
    columns = _columns(request)
    return {
        "owner": owner,
        "url_prefix": owner.url_prefix,
        "urls": _urls(owner),
        "currency": owner.currency,
        "can_edit": can_edit,
        "can_custom": can_edit and user.has_perm(CUSTOM),
        "can_library": can_edit and user.has_perm(VIEW_PRODUCTS),
        "columns": columns,
        "column_choices": [(key, label, key in columns) for key, label in COLUMNS],
        # name, quantity, unit price, the chosen columns, amount; and a handle and actions for editors
        "colspan": 4 + len(columns) + (2 if can_edit else 0),
        "active_nav": kind.active_nav,
    }


def editor_context(request, owner: LineOwner, **extra) -> dict:
    state = editor_state(owner)
    context = _base_context(request, owner)
    context |= {
        "state": state,
        "rows": [row_texts(row, owner.currency) for row in state.rows],
        "adjustment_form": AdjustmentForm(prefix="adjustment", initial={"kind": "discount", "mode": "percent"}),
        **extra,
    }
    return context


def _editor(request, owner: LineOwner, **extra) -> HttpResponse:
    return render(request, "billing/line_items/_editor.html", editor_context(request, owner, **extra))


def _done(request, owner: LineOwner, message: str = "") -> HttpResponse:
    """After a change: the editor again (htmx), or back to the editor page."""
    if request.htmx:
        return _editor(request, owner)
    if message:
        messages.success(request, message)
    return redirect(reverse(f"{owner.url_prefix}_line_items", args=[owner.pk]))


def _retarget(response: HttpResponse, target: str, swap: str = "outerHTML") -> HttpResponse:
    response["HX-Retarget"] = target
    response["HX-Reswap"] = swap
    return response


def _page(request, owner: LineOwner, fragment: str, context: dict, *, title: str, status: int = 200):
    """A fragment on a page of its own, for browsers without JavaScript."""
    context = _base_context(request, owner) | context | {"fragment": fragment, "title": title}
    return render(request, "billing/line_items/fragment_page.html", context, status=status)


# --- the editor page --------------------------------------------------------------------------------------------------


@require_perm()
@require_GET
def line_items_page(request, owner_kind: str, owner_pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=False)
    return render(request, "billing/line_items/page.html", editor_context(request, owner, title=owner.title))


@require_perm()
@require_POST
def line_columns(request, owner_kind: str, owner_pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=False)
    valid = [key for key, _label in COLUMNS]
    request.session[COLUMNS_SESSION_KEY] = [key for key in valid if key in request.POST.getlist("column")]
    return _done(request, owner)


# --- adding lines -----------------------------------------------------------------------------------------------------


def _library_context(request, owner: LineOwner, *, errors: dict | None = None, chosen=()) -> dict:
    params = request.POST if request.method == "POST" else request.GET
    search = params.get("q", "")
    folder = params.get("folder", "")
    frequency = params.get("frequency", "")
    rows, more = library_search(
        currency=owner.currency,
        search=search,
        folder_id=int(folder) if is_id(folder) else None,
        frequency=frequency,
    )
    errors = errors or {}
    shown = {f"product_{row.product.pk}" for row in rows}
    # A refused product the current search no longer shows still says why, above the list.
    general = list(errors.get("products", []))
    general += [
        message for key, ms in errors.items() if key.startswith("product_") and key not in shown for message in ms
    ]
    return _base_context(request, owner) | {
        "results": [
            {
                "row": row,
                "price_text": _price_text(row, owner.currency),
                "errors": errors.get(f"product_{row.product.pk}", []),
                "checked": str(row.product.pk) in chosen,
            }
            for row in rows
        ],
        "more": more,
        "q": search,
        "folder": folder,
        "frequency": frequency,
        "folders": folder_paths(),
        "frequencies": Frequency.choices,
        "general_errors": general,
    }


def _price_text(row, currency: str) -> str:
    if row.priced_by_parts:
        return _("Sum of its components")
    if row.price is None:
        return ""
    if row.priced_by_tiers:
        return _("Tiered pricing")
    return unit_price_format(row.price, currency)


@require_perm()
@require_http_methods(["GET", "POST"])
def line_library(request, owner_kind: str, owner_pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    if not request.user.has_perm(VIEW_PRODUCTS):
        raise PermissionDenied
    if request.method == "POST":
        chosen = request.POST.getlist("product")
        ids = [int(pk) for pk in chosen if is_id(pk)]
        try:
            lines = services.line_items_add_products(owner=owner, product_ids=ids, actor=request.user)
        except ValidationError as exc:
            context = _library_context(request, owner, errors=exc.message_dict, chosen=set(chosen))
            if request.htmx:
                return _retarget(
                    render(request, "billing/line_items/_library.html", context), "#line-slot", "innerHTML"
                )
            return _page(
                request, owner, "billing/line_items/_library.html", context, title=_("Add from library"), status=400
            )
        return _done(
            request,
            owner,
            ngettext("%(count)s line item added.", "%(count)s line items added.", len(lines)) % {"count": len(lines)},
        )
    context = _library_context(request, owner)
    if request.htmx and request.htmx.target == "library-results":
        return render(request, "billing/line_items/_library_results.html", context)
    if request.htmx:
        return render(request, "billing/line_items/_library.html", context)
    return _page(request, owner, "billing/line_items/_library.html", context, title=_("Add from library"))


@require_perm()
@require_http_methods(["GET", "POST"])
def line_custom(request, owner_kind: str, owner_pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    if not request.user.has_perm(CUSTOM):
        raise PermissionDenied
    can_save = request.user.has_perm(MANAGE_PRODUCTS)
    initial = {"quantity": 1, "frequency": Frequency.ONE_TIME, "billing_start": BillingStart.CHECKOUT}
    form = CustomLineForm(
        request.POST if request.method == "POST" else None,
        prefix="custom",
        initial=initial,
        can_save_to_library=can_save,
    )
    if request.method == "POST" and form.is_valid():
        try:
            line = services.line_item_create_custom(
                owner=owner,
                values=form.values(),
                save_to_library=bool(form.cleaned_data.get("save_to_library")),
                actor=request.user,
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return _done(request, owner, _("“%(name)s” added.") % {"name": line.name})
    context = {"form": form}
    if request.htmx:
        response = render(request, "billing/line_items/_custom.html", _base_context(request, owner) | context)
        return _retarget(response, "#line-slot", "innerHTML") if form.errors else response
    status = 400 if form.errors else 200
    return _page(request, owner, "billing/line_items/_custom.html", context, title=_("Custom line item"), status=status)


# --- one line ---------------------------------------------------------------------------------------------------------


def _row_response(request, owner: LineOwner, line: LineItem) -> HttpResponse:
    state = editor_state(owner)
    row = next(r for r in state.rows if r.line.pk == line.pk)
    index = state.rows.index(row)
    context = _base_context(request, owner) | row_texts(row, owner.currency)
    context |= {"state": state, "first": index == 0, "last": index == len(state.rows) - 1}
    return render(request, "billing/line_items/_row.html", context)


@require_perm()
@require_GET
def line_row(request, owner_kind: str, owner_pk: int, pk: int):
    """One line as shown in the table (what Cancel puts back)."""
    owner = _owner(request, owner_kind, owner_pk, edit=False)
    return _row_response(request, owner, _line(owner, pk))


def _edit_context(request, owner: LineOwner, line: LineItem, form: LineForm, preview=None) -> dict:
    prefix, pk = owner.url_prefix, owner.pk
    return _base_context(request, owner) | {
        "line": line,
        "form": form,
        "preview": preview,
        "edit_url": reverse(f"{prefix}_line_edit", args=[pk, line.pk]),
        "preview_url": reverse(f"{prefix}_line_preview", args=[pk, line.pk]),
        "row_url": reverse(f"{prefix}_line_row", args=[pk, line.pk]),
    }


@require_perm()
@require_http_methods(["GET", "POST"])
def line_edit(request, owner_kind: str, owner_pk: int, pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    line = _line(owner, pk)
    data = request.POST if request.method == "POST" else None
    form = LineForm(data, prefix=f"line{line.pk}", initial=_line_initial(line), line=line)
    preview = None
    if data is not None and form.is_valid():
        try:
            services.line_item_update(owner=owner, line=line, values=form.values(), actor=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return _done(request, owner, _("“%(name)s” saved.") % {"name": line.name})
    elif data is None:
        preview, _errors = services.line_preview(line, services.LineValues(**_line_values(_line_initial(line))))
    context = _edit_context(request, owner, line, form, preview)
    if request.htmx:
        response = render(request, "billing/line_items/_edit_row.html", context)
        return _retarget(response, f"#line-{line.pk}") if data is not None else response
    status = 400 if form.errors else 200
    return _page(request, owner, "billing/line_items/_edit_form.html", context, title=line.name, status=status)


@require_perm()
@require_POST
def line_preview(request, owner_kind: str, owner_pk: int, pk: int):
    """The engine's figures for the form as it stands, and each field's errors (swapped out of band next to the
    fields); nothing is saved."""
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    line = _line(owner, pk)
    form = LineForm(request.POST, prefix=f"line{line.pk}", line=line)
    preview, errors = None, {}
    if form.is_valid():
        preview, errors = services.line_preview(line, form.values())
        for key, messages_ in errors.items():
            form.add_error(key if key in form.fields else None, messages_)
    context = _edit_context(request, owner, line, form, preview)
    return render(request, "billing/line_items/_preview.html", context)


@require_perm()
@require_POST
def line_clone(request, owner_kind: str, owner_pk: int, pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    line = _line(owner, pk)
    services.line_item_clone(owner=owner, line=line, actor=request.user)
    return _done(request, owner, _("“%(name)s” cloned.") % {"name": line.name})


@require_perm()
@require_http_methods(["GET", "POST"])
def line_delete(request, owner_kind: str, owner_pk: int, pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    line = _line(owner, pk)
    if request.method == "POST":
        services.line_item_delete(owner=owner, line=line, actor=request.user)
        return _done(request, owner, _("“%(name)s” removed.") % {"name": line.name})
    context = {"line": line, "delete_url": request.path}
    return _page(request, owner, "billing/line_items/_delete.html", context, title=line.name)


@require_perm()
@require_POST
def line_move(request, owner_kind: str, owner_pk: int, pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    line = _line(owner, pk)
    try:
        services.line_item_move(owner=owner, line=line, direction=request.POST.get("direction", ""), actor=request.user)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return _done(request, owner)


@require_perm()
@require_POST
def line_reorder(request, owner_kind: str, owner_pk: int):
    """Drag and drop: the new order of every line, as comma-separated ids in "order"."""
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    ids = [int(part) for part in request.POST.get("order", "").split(",") if is_id(part.strip())]
    try:
        services.line_items_reorder(owner=owner, ids=ids, actor=request.user)
    except ValidationError as exc:
        if request.htmx:
            return _editor(request, owner, problem=" ".join(exc.messages))
        messages.error(request, " ".join(exc.messages))
    return _done(request, owner)


# --- one-time adjustments ---------------------------------------------------------------------------------------------


@require_perm()
@require_http_methods(["GET", "POST"])
def adjustment_new(request, owner_kind: str, owner_pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    form = AdjustmentForm(request.POST if request.method == "POST" else None, prefix="adjustment")
    if request.method == "POST" and form.is_valid():
        try:
            adjustment = services.adjustment_create(owner=owner, values=form.values(), actor=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return _done(request, owner, _("“%(label)s” added.") % {"label": adjustment.label})
    context = {"adjustment_form": form, "form_url": request.path}
    if request.htmx:
        response = render(request, "billing/line_items/_adjustment_form.html", _base_context(request, owner) | context)
        return _retarget(response, "#adjustment-form") if form.errors else response
    status = 400 if form.errors else 200
    title = _("Add a discount, fee or tax")
    return _page(request, owner, "billing/line_items/_adjustment_form.html", context, title=title, status=status)


@require_perm()
@require_http_methods(["GET", "POST"])
def adjustment_edit(request, owner_kind: str, owner_pk: int, pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    adjustment = get_object_or_404(owner.adjustments(), pk=pk)
    initial = {
        "kind": adjustment.kind,
        "label": adjustment.label,
        "mode": "percent" if adjustment.percent is not None else "amount",
        "value": adjustment.percent if adjustment.percent is not None else adjustment.amount,
    }
    data = request.POST if request.method == "POST" else None
    form = AdjustmentForm(data, prefix=f"adjustment{adjustment.pk}", initial=initial)
    if data is not None and form.is_valid():
        try:
            services.adjustment_update(owner=owner, adjustment=adjustment, values=form.values(), actor=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return _done(request, owner, _("“%(label)s” saved.") % {"label": form.cleaned_data["label"]})
    context = {"adjustment_form": form, "form_url": request.path, "adjustment": adjustment}
    template = "billing/line_items/_adjustment_form.html"
    if request.htmx:
        response = render(request, template, _base_context(request, owner) | context)
        return _retarget(response, f"#adjustment-{adjustment.pk}") if form.errors else response
    status = 400 if form.errors else 200
    return _page(request, owner, template, context, title=adjustment.label, status=status)


@require_perm()
@require_http_methods(["GET", "POST"])
def adjustment_delete(request, owner_kind: str, owner_pk: int, pk: int):
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    adjustment = get_object_or_404(owner.adjustments(), pk=pk)
    if request.method == "POST":
        services.adjustment_delete(owner=owner, adjustment=adjustment, actor=request.user)
        return _done(request, owner, _("“%(label)s” removed.") % {"label": adjustment.label})
    context = {"adjustment": adjustment, "delete_url": request.path}
    return _page(request, owner, "billing/line_items/_delete.html", context, title=adjustment.label)


# --- save: the deal amount from the lines -----------------------------------------------------------------------------


@require_perm()
@require_http_methods(["GET", "POST"])
def line_save(request, owner_kind: str, owner_pk: int):
    """Done editing: offer to set the deal amount to the lines' TCV (one-time adjustments left out)."""
    owner = _owner(request, owner_kind, owner_pk, edit=True)
    state = editor_state(owner)
    if owner.kind.kind != "deal":  # only a deal has an amount that follows its lines
        messages.success(request, _("Line items saved.")) if not state.problems else messages.error(
            request, state.problems[0]
        )
        return redirect(owner.detail_url)
    proposed = state.deal_amount
    current = owner.obj.amount
    unchanged = current is not None and proposed is not None and current.amount == proposed
    if unchanged or not state.rows or proposed is None:
        if state.problems:
            messages.error(request, state.problems[0])
        else:
            messages.success(request, _("Line items saved."))
        return redirect(owner.detail_url)
    if request.method == "POST":
        if request.POST.get("update") == "yes":
            try:
                expected = Money(Decimal(request.POST.get("expected", "")), owner.currency)
            except (InvalidOperation, ValueError):
                expected = None
            try:
                services.deal_amount_update_from_lines(owner=owner, expected=expected, actor=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect(request.path)
            messages.success(
                request,
                _("Line items saved. Deal amount updated to %(amount)s.")
                % {"amount": money_format(proposed, owner.currency)},
            )
        else:
            messages.success(request, _("Line items saved. The deal amount was kept."))
        return redirect(owner.detail_url)
    context = _base_context(request, owner) | {
        "state": state,
        "title": owner.title,
        "proposed": proposed,
        "current": current,
    }
    return render(request, "billing/line_items/save.html", context)


# --- the deal page panel ----------------------------------------------------------------------------------------------


def deal_panel_context(request, deal) -> dict:
    """What the line items panel on a deal's page shows: the metrics, the lines, and the total in the company
    currency. Registered with crm.panels in BillingConfig.ready."""
    owner = owner_for("deal", deal)
    state = editor_state(owner)
    converted, missing_rate_currency = converted_total(state)
    return {
        "owner": owner,
        "state": state,
        "rows": [row_texts(row, owner.currency) for row in state.rows],
        "currency": owner.currency,
        "converted": converted,
        "missing_rate_currency": missing_rate_currency,
        "editor_url": reverse("billing:deal_line_items", args=[deal.pk]),
        "can_edit": request.user.has_perm(owner.kind.edit_perm),
    }
