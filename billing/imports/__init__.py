"""CSV import of products: upload, map columns to fields, check every row, then write all rows or only the valid
ones. The steps are the shared import pipeline's (commerce_hub.imports); the rules are the product services'.

Files up to SYNC_ROWS rows are checked and written during the request; larger files in Celery tasks, with progress.
"""

SYNC_ROWS = 1000
MAX_KEPT_ERRORS = 10_000  # errors kept for the report and its CSV; the count is always exact
