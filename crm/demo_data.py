"""Demo CRM data: Dutch and Norwegian companies, their people, and deals spread over the pipeline."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from commerce_hub.accounts.models import User
from crm.defaults import LIFECYCLE_STAGES
from crm.models import Company, Contact, Deal, DealStageChange, Pipeline, Stage

NL_VAT = [
    "NL162275869B01",
    "NL192285142B01",
    "NL691682483B01",
    "NL987825707B01",
    "NL688136138B01",
    "NL864623112B01",
    "NL321146487B01",
    "NL187891151B01",
    "NL883235912B01",
    "NL178598835B01",
    "NL467279627B01",
    "NL738199795B01",
]
NO_ORGNR = [
    "872461272",
    "982868211",
    "919625783",
    "979490097",
    "893148515",
    "963992467",
    "821630878",
    "958141637",
    "943503168",
    "950128364",
    "961256496",
    "818875193",
]

NL_COMPANIES = [
    ("Van der Berg Logistiek B.V.", "vanderberglogistiek.nl", "Amsterdam", "1012 AB"),
    ("Dijkstra Bouwmaterialen", "dijkstrabouw.nl", "Groningen", "9711 LM"),
    ("Hollandse Kaashandel B.V.", "hollandsekaas.nl", "Gouda", "2801 JE"),
    ("Tulpenveld Bloemen", "tulpenveld.nl", "Lisse", "2161 AA"),
    ("Rijnmond Havendiensten", "rijnmondhaven.nl", "Rotterdam", "3011 AD"),
    ("De Vries Installatietechniek", "devriesinstallatie.nl", "Utrecht", "3511 CE"),
    ("Brabant Fietsen B.V.", "brabantfietsen.nl", "Eindhoven", "5611 AB"),
    ("Zeeuwse Mosselkwekerij", "zeeuwsemossel.nl", "Yerseke", "4401 AA"),
    ("Friese Zuivel Coöperatie", "friesezuivel.nl", "Leeuwarden", "8911 BD"),
    ("Amstel Architecten", "amstelarchitecten.nl", "Amsterdam", "1017 DD"),
    ("Limburgse Wijnhandel", "limburgsewijn.nl", "Maastricht", "6211 CL"),
    ("Delfts Blauw Design", "delftsblauwdesign.nl", "Delft", "2611 GT"),
]
NO_COMPANIES = [
    ("Fjordkraft Energi AS", "fjordkraftenergi.no", "Bergen", "5003"),
    ("Nordlys Sjømat AS", "nordlyssjomat.no", "Tromsø", "9008"),
    ("Haugen Trelast AS", "haugentrelast.no", "Lillehammer", "2609"),
    ("Oslo Byggservice AS", "oslobygg.no", "Oslo", "0150"),
    ("Trondheim Teknologi AS", "trondheimtek.no", "Trondheim", "7011"),
    ("Vestland Laks AS", "vestlandlaks.no", "Ålesund", "6002"),
    ("Lofoten Reiseliv AS", "lofotenreiseliv.no", "Svolvær", "8300"),
    ("Stavanger Offshore Service AS", "stavangeroffshore.no", "Stavanger", "4006"),
    ("Bjørnstad Møbler AS", "bjornstadmobler.no", "Drammen", "3015"),
    ("Solberg Regnskap AS", "solbergregnskap.no", "Kristiansand", "4611"),
    ("Nordkapp Transport AS", "nordkapptransport.no", "Hammerfest", "9600"),
    ("Hardanger Fruktlager AS", "hardangerfrukt.no", "Lofthus", "5781"),
]
NL_PEOPLE = [
    ("Jan", "Jansen"),
    ("Sanne", "Visser"),
    ("Daan", "Smit"),
    ("Emma", "Meijer"),
    ("Lucas", "de Boer"),
    ("Julia", "Mulder"),
    ("Sem", "de Groot"),
    ("Tess", "Bos"),
    ("Finn", "Vos"),
    ("Lotte", "Peters"),
    ("Bram", "Hendriks"),
    ("Fleur", "van Dijk"),
]
NO_PEOPLE = [
    ("Ola", "Nordmann"),
    ("Kari", "Hansen"),
    ("Jonas", "Johansen"),
    ("Nora", "Olsen"),
    ("Emil", "Larsen"),
    ("Ingrid", "Andersen"),
    ("Magnus", "Pedersen"),
    ("Sofie", "Nilsen"),
    ("Henrik", "Kristiansen"),
    ("Ida", "Jensen"),
    ("Sindre", "Berg"),
    ("Maja", "Haugen"),
]
TITLES = [
    "CEO",
    "CFO",
    "Head of Procurement",
    "Operations Manager",
    "IT Manager",
    "Finance Controller",
    "Sales Director",
    "Office Manager",
]
LIFECYCLE_KEYS = [key for key, _label in LIFECYCLE_STAGES]
DEAL_KINDS = [
    "Annual licence",
    "Onboarding package",
    "Support renewal",
    "Expansion",
    "Pilot",
    "Enterprise plan",
]


def default_pipeline_ensure() -> Pipeline:
    """The default pipeline (migration crm.0003 creates it in every tenant; an admin may have replaced it)."""
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        from crm.defaults import PIPELINE_NAME, PIPELINE_STAGES

        pipeline = Pipeline.objects.create(name=PIPELINE_NAME, is_default=True)
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, name=name, probability=Decimal(p), kind=kind, position=i)
            for i, (name, p, kind) in enumerate(PIPELINE_STAGES)
        )
    return pipeline


def seed(ctx) -> None:
    pipeline = default_pipeline_ensure()
    if ctx.scale:
        seed_at_scale(ctx, pipeline)
    elif not Company.objects.exists():
        seed_realistic(pipeline)


def seed_realistic(pipeline: Pipeline) -> None:
    rng = random.Random(2026)
    owners = list(User.objects.filter(role__in=["admin", "sales"]))
    stages = list(pipeline.stages.all())
    now = timezone.now()
    companies = []
    for i, (name, domain, city, postcode) in enumerate(NL_COMPANIES):
        companies.append(
            Company(
                name=name,
                domain=domain,
                city=city,
                postal_code=postcode,
                country="NL",
                vat_number=NL_VAT[i],
                registration_number=f"{30000000 + i * 7919:08d}",
                language="nl",
                currency="EUR",
                owner=rng.choice(owners),
                lifecycle_stage=rng.choice(LIFECYCLE_KEYS),
                phone=f"+31 20 555 {1000 + i}",
            )
        )
    for i, (name, domain, city, postcode) in enumerate(NO_COMPANIES):
        companies.append(
            Company(
                name=name,
                domain=domain,
                city=city,
                postal_code=postcode,
                country="NO",
                vat_number=f"NO{NO_ORGNR[i]}MVA",
                registration_number=NO_ORGNR[i],
                language="nb",
                currency="NOK",
                owner=rng.choice(owners),
                lifecycle_stage=rng.choice(LIFECYCLE_KEYS),
                phone=f"+47 22 55 {10 + i} 00",
            )
        )
    Company.objects.bulk_create(companies)
    contacts = []
    for company in companies:
        people = NL_PEOPLE if company.country == "NL" else NO_PEOPLE
        for first, last in rng.sample(people, 2):
            local = f"{first}.{last}".lower().replace(" ", "")
            contacts.append(
                Contact(
                    first_name=first,
                    last_name=last,
                    email=f"{local}@{company.domain}",
                    job_title=rng.choice(TITLES),
                    company=company,
                    language=company.language,
                    owner=company.owner,
                    lifecycle_stage=company.lifecycle_stage,
                )
            )
    Contact.objects.bulk_create(contacts)
    deals, changes = [], []
    for i, company in enumerate(companies):
        for _n in range(1 + i % 2):
            stage = stages[(i * 3 + _n) % len(stages)]
            amount = Decimal(rng.randrange(24, 960) * 250 if company.currency == "NOK" else rng.randrange(12, 480) * 25)
            deal = Deal(
                name=f"{rng.choice(DEAL_KINDS)} – {company.name}",
                amount=amount,
                amount_currency=company.currency,
                pipeline=pipeline,
                stage=stage,
                company=company,
                owner=company.owner,
                close_date=date.today() + timedelta(days=rng.randrange(-60, 120)),
                created_at=now - timedelta(days=rng.randrange(5, 90)),
            )
            deals.append(deal)
    Deal.objects.bulk_create(deals)
    for deal in deals:
        changes.append(DealStageChange(deal=deal, from_stage=None, to_stage=stages[0], changed_at=deal.created_at))
        if deal.stage_id != stages[0].pk:
            changes.append(
                DealStageChange(
                    deal=deal,
                    from_stage=stages[0],
                    to_stage=deal.stage,
                    changed_at=deal.created_at + timedelta(days=3),
                )
            )
        deal.contacts.set([c for c in contacts if c.company_id == deal.company_id][:1])
    DealStageChange.objects.bulk_create(changes)


def _copy(table: str, columns: list[str], rows, total: int, ctx, label: str) -> None:
    """COPY rows into the current tenant's table: one round trip per chunk, ~270k rows/s on this hardware."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="rows", disable=not ctx.progress, mininterval=0.5)
    with connection.cursor() as cursor:
        # Every CRM table has custom property values (JSON, NOT NULL); demo rows start with none.
        with cursor.cursor.copy(f"COPY {table} ({', '.join([*columns, 'properties'])}) FROM STDIN") as copy:
            for n, row in enumerate(rows, 1):
                copy.write_row((*row, "{}"))
                if n % 10000 == 0:
                    bar.update(10000)
        bar.update(total - bar.n)
    bar.close()


def seed_at_scale(ctx, pipeline: Pipeline) -> None:
    n = ctx.scale
    rng = random.Random(n)
    owner_ids = list(User.objects.values_list("id", flat=True)) + [None]
    stage_ids = list(pipeline.stages.values_list("id", flat=True))
    lifecycle = LIFECYCLE_KEYS
    now = timezone.now()
    start_company = (Company.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    batch = now.strftime("%Y%m%d%H%M%S")

    def companies():
        for i in range(n):
            nl = i % 2 == 0
            name, domain, city, postcode = (NL_COMPANIES if nl else NO_COMPANIES)[i % 12]
            yield (
                f"{name} {i}",
                f"{i}-{batch}.{domain}",
                city,
                postcode,
                "NL" if nl else "NO",
                "nl" if nl else "nb",
                "EUR" if nl else "NOK",
                rng.choice(lifecycle),
                rng.choice(owner_ids),
                now - timedelta(minutes=i),
                now - timedelta(seconds=i),
                "",
                "",
                "",
                "",
            )

    _copy(
        "crm_company",
        [
            "name",
            "domain",
            "city",
            "postal_code",
            "country",
            "language",
            "currency",
            "lifecycle_stage",
            "owner_id",
            "created_at",
            "updated_at",
            "vat_number",
            "registration_number",
            "address_line1",
            "phone",
        ],
        companies(),
        n,
        ctx,
        "companies",
    )
    company_ids = list(Company.objects.filter(id__gte=start_company).order_by("id").values_list("id", flat=True))

    def contacts():
        for i in range(n):
            first, last = (NL_PEOPLE if i % 2 == 0 else NO_PEOPLE)[i % 12]
            yield (
                first,
                last,
                f"{first}.{last}.{i}.{batch}@example.com".lower().replace(" ", ""),
                rng.choice(TITLES),
                company_ids[i % len(company_ids)] if company_ids else None,
                rng.choice(lifecycle),
                rng.choice(owner_ids),
                "nl" if i % 2 == 0 else "nb",
                now - timedelta(minutes=i),
                now - timedelta(seconds=rng.randrange(0, 10**7)),
                "",
            )

    _copy(
        "crm_contact",
        [
            "first_name",
            "last_name",
            "email",
            "job_title",
            "company_id",
            "lifecycle_stage",
            "owner_id",
            "language",
            "created_at",
            "updated_at",
            "phone",
        ],
        contacts(),
        n,
        ctx,
        "contacts",
    )

    def deals():
        for i in range(n):
            nok = i % 2 == 1
            yield (
                f"{rng.choice(DEAL_KINDS)} {i}",
                Decimal(rng.randrange(1000, 500000)) / 100,
                "NOK" if nok else "EUR",
                pipeline.pk,
                rng.choice(stage_ids),
                rng.choice(owner_ids),
                company_ids[i % len(company_ids)] if company_ids else None,
                date.today() + timedelta(days=rng.randrange(-90, 180)),
                now,
                now - timedelta(minutes=i),
                now - timedelta(seconds=rng.randrange(0, 10**7)),
            )

    _copy(
        "crm_deal",
        [
            "name",
            "amount",
            "amount_currency",
            "pipeline_id",
            "stage_id",
            "owner_id",
            "company_id",
            "close_date",
            "stage_changed_at",
            "created_at",
            "updated_at",
        ],
        deals(),
        n,
        ctx,
        "deals",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_company; ANALYZE crm_contact; ANALYZE crm_deal")
