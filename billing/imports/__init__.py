"""CSV import of products: upload, map columns to fields, check every row, then write all rows or only the valid
ones. Reading files and mapping columns reuse the CRM import (crm.imports); the rules are the product services'.

Files up to SYNC_ROWS rows are checked and written during the request; larger files in Celery tasks, with progress.
"""

SYNC_ROWS = 1000
BATCH_SIZE = 500
PREVIEW_ROWS = 5
MAX_KEPT_ERRORS = 10_000  # errors kept for the report and its CSV; the count is always exact
PROGRESS_TTL = 3600  # live progress of a write, which only reaches the job row when its transaction commits
