"""CSV import of companies, contacts and deals: reading the file, mapping its columns to fields, checking every
row, and writing the rows that pass. The flow and its states live in crm.services.imports."""

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
BATCH_SIZE = 500
PREVIEW_ROWS = 5
