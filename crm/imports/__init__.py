"""CSV import of companies, contacts and deals: the CRM's header names (mapping), row checks and record writer,
plugged into the shared import pipeline (commerce_hub.imports) by crm.services.imports."""

from commerce_hub.imports import BATCH_SIZE, MAX_FILE_BYTES, MAX_ROWS, PREVIEW_ROWS

__all__ = ["BATCH_SIZE", "MAX_FILE_BYTES", "MAX_ROWS", "PREVIEW_ROWS"]
