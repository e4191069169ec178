"""Payment methods a buyer saves for later off-session charges (Stripe's SetupIntent). The processor keeps the card
or account; we keep its id and what may be shown again (brand, last four digits, expiry)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from payments.models import SavedPaymentMethod
from payments.processors import processor_get
from payments.processors.base import outside_transaction_required
from payments.selectors.settings import payment_settings


def payment_method_save(
    *, company_id: int | None, contact_id: int | None, method: str, method_data: dict, attempt_key: str, email: str = ""
) -> SavedPaymentMethod:
    """Save a method with the tenant's processor. The attempt key makes a repeated submit save it once; a
    ProcessorDeclined from the processor reaches the caller unchanged (the form shows its message)."""
    outside_transaction_required("payment_method_save")
    processor = processor_get(payment_settings().processor)
    key = f"commerce-hub-setup-{attempt_key}"
    result = processor.setup_create(idempotency_key=key, method=method, method_data=method_data, customer_email=email)
    try:
        with transaction.atomic():
            return SavedPaymentMethod.objects.create(
                company_id=company_id,
                contact_id=contact_id,
                processor=processor.key,
                processor_reference=result.reference,
                kind=result.kind,
                details=result.details,
            )
    except IntegrityError:
        return SavedPaymentMethod.objects.get(processor=processor.key, processor_reference=result.reference)
