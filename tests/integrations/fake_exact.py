"""A small local Exact Online: an HTTP server that answers the calls integrations/exact makes, as Exact's published
REST API describes them (start.exactonline.nl/docs/HlpRestAPIResources.aspx):

    GET  /api/oauth2/auth                        the consent screen: redirects back with ?code=&state=
    POST /api/oauth2/token                       grant_type=authorization_code | refresh_token
    GET  /api/v1/current/Me                      CurrentDivision, FullName, UserName, Email, DivisionCustomerName
    GET|POST /api/v1/{division}/crm/Accounts, crm/Contacts, logistics/Items, salesinvoice/SalesInvoices
    PUT  /api/v1/{division}/crm/Accounts(guid'...') (and the other entities)
    GET  /api/v1/{division}/salesinvoice/SalesInvoiceLines, cashflow/Receivables, vat/VATCodes,
         cashflow/PaymentConditions, financial/GLAccounts
    GET  /api/v1/{division}/sync/Cashflow/PaymentTerms?$filter=Timestamp gt 123L   (LineType 20 = receivables)

Like Exact it answers OData JSON ({"d": {"results": [...], "__next": url}} for collections, 60 rows a page, 1000 for
the sync endpoints; {"d": {...}} for one entity), takes `$filter=Field eq 'value'` (and guid'...'), `$select`, `$top`;
checks the bearer token (401 once it expired after ten minutes); rotates the refresh token on every use and refuses
an old one with invalid_grant; sends X-RateLimit-Limit/Remaining/Reset (per day) and X-RateLimit-Minutely-* headers
and answers 429 past 60 calls a minute or 5,000 a day per division.

Faults: `fault("POST", "salesinvoice/SalesInvoices", "timeout", seconds=2)` does the work and then answers too late
(the client times out); "429" answers Too Many Requests without doing anything; "500" an error. `clock` moves the
server's time (token expiry, rate-limit windows) without sleeping.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest

CLIENT_ID = "ch-test-client"
CLIENT_SECRET = "ch-test-secret"
ACCESS_TTL = 600
MINUTE_LIMIT = 60
DAY_LIMIT = 5000
PAGE_SIZE = 60
SYNC_PAGE_SIZE = 1000

_ENTITY = re.compile(
    r"^/api/v1/(?P<division>\d+)/(?P<resource>[A-Za-z]+/[A-Za-z]+(?:/[A-Za-z]+)?)(?:\((?P<key>[^)]*)\))?$"
)
_FILTER_EQ = re.compile(r"^\s*(\w+)\s+eq\s+(?:guid)?'((?:[^']|'')*)'\s*$")
_FILTER_TS = re.compile(r"^\s*Timestamp\s+gt\s+(\d+)L?\s*$")

# The primary key of each entity set, as Exact names it.
KEYS = {
    "crm/Accounts": "ID",
    "crm/Contacts": "ID",
    "logistics/Items": "ID",
    "salesinvoice/SalesInvoices": "InvoiceID",
    "salesinvoice/SalesInvoiceLines": "ID",
    "cashflow/Receivables": "ID",
    "vat/VATCodes": "ID",
    "cashflow/PaymentConditions": "ID",
    "financial/GLAccounts": "ID",
    "crm/Opportunities": "ID",
    "crm/OpportunityStages": "ID",
}
WRITABLE = {"crm/Accounts", "crm/Contacts", "logistics/Items", "salesinvoice/SalesInvoices", "crm/Opportunities"}
PRINTED = "salesinvoice/PrintedSalesInvoices"


@dataclass
class Fault:
    method: str
    resource: str
    kind: str  # "timeout", "429", "500"
    seconds: float = 0
    times: int = 1


@dataclass
class Call:
    method: str
    path: str
    query: dict
    body: dict | None
    status: int


@dataclass
class ExactState:
    division: int = 4242
    full_name: str = "Eva Exact"
    user_name: str = "eva@alpha.example"
    division_name: str = "Alpha Handel B.V."
    offset: float = 0.0
    codes: dict = field(default_factory=dict)  # code -> redirect_uri
    access_tokens: dict = field(default_factory=dict)  # token -> expires at
    refresh_tokens: set = field(default_factory=set)  # the one valid refresh token (rotated on every use)
    used_refresh_tokens: list = field(default_factory=list)
    token_requests: list = field(default_factory=list)  # (grant_type, ok)
    tables: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    faults: list = field(default_factory=list)
    minute_hits: dict = field(default_factory=dict)
    day_hits: dict = field(default_factory=dict)
    timestamp: itertools.count = field(default_factory=lambda: itertools.count(1000))
    invoice_numbers: itertools.count = field(default_factory=lambda: itertools.count(25000001))
    minute_limit: int = MINUTE_LIMIT
    lock: threading.RLock = field(default_factory=threading.RLock)

    def now(self) -> float:
        return time.time() + self.offset


class FakeExact:
    def __init__(self):
        self.state = ExactState()
        self._seed()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # --- test helpers -----------------------------------------------------------------------------------------

    def _seed(self):
        t = self.state.tables
        for name in KEYS:
            t[name] = {}
        for code, description, percentage in (
            ("2", "BTW hoog 21%", "0.21"),
            ("1", "BTW laag 9%", "0.09"),
            ("0", "Geen BTW", "0"),
        ):
            self.insert("vat/VATCodes", {"Code": code, "Description": description, "Percentage": float(percentage)})
        self.insert("cashflow/PaymentConditions", {"Code": "14", "Description": "14 dagen", "PaymentDays": 14})
        self.insert("cashflow/PaymentConditions", {"Code": "30", "Description": "30 dagen", "PaymentDays": 30})
        self.insert("financial/GLAccounts", {"Code": "8000", "Description": "Omzet", "Type": 110})
        self.insert("crm/OpportunityStages", {"Description": "Prospecting", "SortOrder": 1})
        self.insert("financial/GLAccounts", {"Code": "8010", "Description": "Omzet diensten", "Type": 110})

    def insert(self, resource: str, row: dict) -> dict:
        with self.state.lock:
            key = KEYS[resource]
            row = {
                key: str(uuid.uuid4()),
                **row,
                "Timestamp": next(self.state.timestamp),
                "Division": self.state.division,
            }
            self.state.tables[resource][row[key]] = row
            return row

    def rows(self, resource: str) -> list[dict]:
        return list(self.state.tables[resource].values())

    def code_issue(self, redirect_uri: str = "") -> str:
        code = secrets.token_urlsafe(16)
        self.state.codes[code] = redirect_uri
        return code

    def fault(self, method: str, resource: str, kind: str, *, seconds: float = 0, times: int = 1):
        self.state.faults.append(Fault(method, resource, kind, seconds, times))

    def clock(self, seconds: float):
        self.state.offset += seconds

    def receivable_pay(self, your_ref: str, *, partially: Decimal | None = None) -> dict:
        """The buyer paid the invoice whose YourRef is `your_ref`, and the bookkeeper matched it in Exact."""
        with self.state.lock:
            row = next(r for r in self.rows("cashflow/Receivables") if r["YourRef"] == your_ref)
            row["IsFullyPaid"] = partially is None
            row["Status"] = 50 if partially is None else 20
            row["LastPaymentDate"] = f"/Date({int(self.state.now() * 1000)})/"
            row["Timestamp"] = next(self.state.timestamp)
            return row

    def calls_to(self, method: str, resource: str) -> list[Call]:
        return [c for c in self.state.calls if c.method == method and resource in c.path]

    # --- behaviour ------------------------------------------------------------------------------------------

    def invoice_create(self, body: dict) -> dict:
        lines = body.pop("SalesInvoiceLines", []) or []
        total = Decimal(0)
        vat_total = Decimal(0)
        vat = {r["Code"]: Decimal(str(r["Percentage"])) for r in self.rows("vat/VATCodes")}
        invoice = self.insert(
            "salesinvoice/SalesInvoices",
            {**body, "InvoiceNumber": next(self.state.invoice_numbers), "Status": 10},
        )
        for number, line in enumerate(lines, start=1):
            if "AmountFC" in line:
                net = Decimal(str(line["AmountFC"]))
            else:
                net = Decimal(str(line.get("Quantity", 1))) * Decimal(str(line.get("NetPrice", 0)))
            net = net.quantize(Decimal("0.01"))
            line_vat = (net * vat.get(line.get("VATCode", ""), Decimal(0))).quantize(Decimal("0.01"))
            total += net
            vat_total += line_vat
            self.insert(
                "salesinvoice/SalesInvoiceLines",
                {
                    **line,
                    "InvoiceID": invoice["InvoiceID"],
                    "LineNumber": number,
                    "AmountFC": float(net),
                    "VATAmountFC": float(line_vat),
                },
            )
        invoice["AmountFC"] = float(total + vat_total)
        invoice["AmountDC"] = invoice["AmountFC"]
        invoice["VATAmountFC"] = float(vat_total)
        return invoice

    def invoice_process(self, invoice_id: str) -> dict:
        """salesinvoice/PrintedSalesInvoices: the concept is processed (booked) and becomes a receivable; a concept
        invoice is never one."""
        with self.state.lock:
            invoice = self.state.tables["salesinvoice/SalesInvoices"][invoice_id]
            if invoice["Status"] != 50:
                invoice["Status"] = 50
                invoice["Timestamp"] = next(self.state.timestamp)
                self.receivable_for(invoice)
            return invoice

    def receivable_for(self, invoice: dict) -> dict:
        return self.insert(
            "cashflow/Receivables",
            {
                "Account": invoice.get("OrderedBy"),
                "AmountDC": invoice["AmountFC"],
                "AmountFC": invoice["AmountFC"],
                "TransactionAmountFC": invoice["AmountFC"],
                "Currency": invoice.get("Currency", "EUR"),
                "Description": invoice.get("Description", ""),
                "InvoiceNumber": invoice["InvoiceNumber"],
                "YourRef": invoice.get("YourRef", ""),
                "IsFullyPaid": False,
                "Status": 20,
                "LineType": 20,
                "TransactionEntryID": invoice["InvoiceID"],
            },
        )


def _odata_filter(rows: list[dict], expr: str | None) -> list[dict]:
    if not expr:
        return rows
    if match := _FILTER_TS.match(expr):
        after = int(match.group(1))
        return sorted((r for r in rows if r["Timestamp"] > after), key=lambda r: r["Timestamp"])
    match = _FILTER_EQ.match(expr)
    if not match:
        raise ValueError(expr)
    name, value = match.group(1), match.group(2).replace("''", "'")
    return [r for r in rows if str(r.get(name, "")).lower() == value.lower()]


def _handler_for(fake: FakeExact):
    state = fake.state

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status: int, payload=None, headers: dict | None = None):
            # Record the call before the client can read the answer: a test that inspects the calls right after
            # the connector returns must find this one, however late this server thread would otherwise get to it.
            call = getattr(self, "call", None)
            if call is not None:
                self.call = None
                call.status = status
                with state.lock:
                    state.calls.append(call)
            body = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, str(value))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_PUT(self):
            self._dispatch("PUT")

        def _dispatch(self, method: str):
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            raw = self._body()
            if parts.path == "/api/oauth2/auth":
                return self._authorize(query)
            if parts.path == "/api/oauth2/token":
                return self._token(dict(parse_qsl(raw.decode())))
            body = json.loads(raw) if raw else None
            self.call = Call(method, parts.path, query, body, 0)
            self._api(method, parts.path, query, body)

        def _authorize(self, query: dict):
            code = fake.code_issue(query.get("redirect_uri", ""))
            target = f"{query.get('redirect_uri', '')}?{urlencode({'code': code, 'state': query.get('state', '')})}"
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _token(self, form: dict):
            grant = form.get("grant_type", "")
            with state.lock:
                if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                    state.token_requests.append((grant, False))
                    return self._send(401, {"error": "invalid_client"})
                if grant == "authorization_code":
                    ok = state.codes.pop(form.get("code", ""), None) is not None
                elif grant == "refresh_token":
                    token = form.get("refresh_token", "")
                    ok = token in state.refresh_tokens
                    state.used_refresh_tokens.append(token)
                    if ok:
                        state.refresh_tokens.discard(token)
                else:
                    return self._send(400, {"error": "unsupported_grant_type"})
                state.token_requests.append((grant, ok))
                if not ok:
                    return self._send(
                        400, {"error": "invalid_grant", "error_description": "The refresh token is invalid."}
                    )
                access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
                state.access_tokens[access] = state.now() + ACCESS_TTL
                state.refresh_tokens = {refresh}  # the newest is the only valid one
            self._send(
                200,
                {
                    "access_token": access,
                    "token_type": "bearer",
                    "expires_in": str(ACCESS_TTL),
                    "refresh_token": refresh,
                },
            )

        def _rate_headers(self, division: int) -> tuple[dict, bool]:
            now = state.now()
            minute = int(now // 60)
            day = int(now // 86400)
            with state.lock:
                m = state.minute_hits.get((division, minute), 0)
                d = state.day_hits.get((division, day), 0)
                over = m >= state.minute_limit or d >= DAY_LIMIT
                if not over:
                    m += 1
                    d += 1
                    state.minute_hits[(division, minute)] = m
                    state.day_hits[(division, day)] = d
            headers = {
                "X-RateLimit-Limit": DAY_LIMIT,
                "X-RateLimit-Remaining": max(DAY_LIMIT - d, 0),
                "X-RateLimit-Reset": (day + 1) * 86400 * 1000,
                "X-RateLimit-Minutely-Limit": state.minute_limit,
                "X-RateLimit-Minutely-Remaining": max(state.minute_limit - m, 0),
                "X-RateLimit-Minutely-Reset": (minute + 1) * 60 * 1000,
            }
            return headers, over

        def _fault(self, method: str, path: str) -> Fault | None:
            with state.lock:
                for fault in state.faults:
                    if fault.method == method and fault.resource in path and fault.times > 0:
                        fault.times -= 1
                        return fault
            return None

        def _api(self, method: str, path: str, query: dict, body) -> int:
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip()
            if state.access_tokens.get(token, 0) <= state.now():
                self._send(401, {"error": {"code": "", "message": {"lang": "", "value": "Unauthorized"}}})
                return 401
            if path == "/api/v1/current/Me":
                me = {
                    "CurrentDivision": state.division,
                    "FullName": state.full_name,
                    "UserName": state.user_name,
                    "Email": state.user_name,
                    "DivisionCustomerName": state.division_name,
                }
                self._send(200, {"d": {"results": [me]}})
                return 200
            match = _ENTITY.match(path)
            if not match:
                self._send(404, {"error": {"message": {"value": "Not found"}}})
                return 404
            division = int(match.group("division"))
            resource = match.group("resource")
            headers, over = self._rate_headers(division)
            fault = self._fault(method, path)
            if over or (fault and fault.kind == "429"):
                self._send(429, {"error": {"message": {"value": "API rate limit exceeded"}}}, headers)
                return 429
            if fault and fault.kind == "500":
                self._send(500, {"error": {"message": {"value": "Internal error"}}}, headers)
                return 500
            if division != state.division:
                self._send(403, {"error": {"message": {"value": "Forbidden division"}}}, headers)
                return 403
            status, payload = self._entity(method, resource, match.group("key"), query, body)
            if fault and fault.kind == "timeout":
                time.sleep(fault.seconds)  # the work is done; the answer comes too late
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(status, payload, headers)
            return status

        def _entity(self, method, resource, key, query, body):
            if resource == "sync/Cashflow/PaymentTerms":
                rows = _odata_filter(fake.rows("cashflow/Receivables"), query.get("$filter") or "Timestamp gt 0")
                return 200, {"d": {"results": rows[:SYNC_PAGE_SIZE]}}
            if resource == PRINTED and method == "POST":
                invoice_id = (body or {}).get("InvoiceID", "")
                if invoice_id not in state.tables["salesinvoice/SalesInvoices"]:
                    return 400, {"error": {"message": {"value": "Invoice not found"}}}
                fake.invoice_process(invoice_id)
                return 201, {"d": {"InvoiceID": invoice_id, "Status": 50}}
            if resource not in KEYS:
                return 404, {"error": {"message": {"value": "Unknown resource"}}}
            table = state.tables[resource]
            guid = key.removeprefix("guid").strip("'") if key else None
            if method == "GET" and guid:
                row = table.get(guid)
                return (200, {"d": row}) if row else (404, {"error": {"message": {"value": "Not found"}}})
            if method == "GET":
                try:
                    rows = _odata_filter(list(table.values()), query.get("$filter"))
                except ValueError:
                    return 400, {"error": {"message": {"value": "Invalid $filter"}}}
                skip = int(query.get("$skiptoken") or 0)
                top = int(query.get("$top") or 0) or None
                rows = rows[:top] if top else rows
                page = rows[skip : skip + PAGE_SIZE]
                if select := query.get("$select"):
                    names = select.split(",")
                    page = [{n: r.get(n) for n in names} for r in page]
                payload = {"d": {"results": page}}
                if skip + PAGE_SIZE < len(rows):
                    payload["d"]["__next"] = (
                        f"{fake.url}{self.path.split('?')[0]}?{urlencode({**query, '$skiptoken': skip + PAGE_SIZE})}"
                    )
                return 200, payload
            if resource not in WRITABLE:
                return 405, {"error": {"message": {"value": "Method not allowed"}}}
            if method == "POST":
                if resource == "salesinvoice/SalesInvoices":
                    return 201, {"d": fake.invoice_create(dict(body or {}))}
                return 201, {"d": fake.insert(resource, dict(body or {}))}
            if method == "PUT" and guid in table:
                with state.lock:
                    table[guid].update(body or {})
                    table[guid]["Timestamp"] = next(state.timestamp)
                return 204, None
            return 404, {"error": {"message": {"value": "Not found"}}}

    return Handler


@pytest.fixture
def fake_exact(settings):
    """A running fake Exact; the connector's base URL and OAuth client point at it."""
    fake = FakeExact()
    settings.EXACT_BASE_URL = fake.url
    settings.EXACT_CLIENT_ID = CLIENT_ID
    settings.EXACT_CLIENT_SECRET = CLIENT_SECRET
    yield fake
    fake.close()


def parse_qs_first(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
