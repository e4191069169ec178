"""CSV imports, one pipeline for every kind of record: read the file (reader), map its columns to fields (mapping,
forms), check every row and report each bad cell, then write all rows or only the valid ones (pipeline).

An app plugs in what it imports: its fields (objects with key, label, required and editable, like crm.fields'
FieldSpec), a row checker and a row writer. The rule every import keeps: nothing is written while any row fails,
unless the user chose to skip the invalid rows.
"""

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
BATCH_SIZE = 500
PREVIEW_ROWS = 5
PROGRESS_TTL = 3600  # live progress of a write, which only reaches the job row when its transaction commits
