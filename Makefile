# `make run` and `make test` are all a new machine needs (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint format messages bench clean-data

run: $(STAMP)
	@$(PYTHON) scripts/check_system.py run
	$(VENV)/bin/python -m commerce_hub.embedded run --port $(PORT)

test: $(STAMP)
	@$(PYTHON) scripts/check_system.py test
	$(VENV)/bin/python -m commerce_hub.embedded test $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Extract strings for English, Dutch and Norwegian Bokmal and compile them (needs GNU gettext).
messages: $(STAMP)
	$(VENV)/bin/python scripts/messages.py

$(STAMP): pyproject.toml
	@$(PYTHON) scripts/check_system.py install
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Benchmarks print ratios against a baseline measured in the same run (see bench/).
bench: $(STAMP)
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/signup_provisioning.py
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/crm_index.py
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/invoice_finalize.py
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/invoice_index.py
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/quote_index.py
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/invoice_pdf.py
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/webhook_ingest.py
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/checkout_load.py
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/billing_run.py
	$(VENV)/bin/python -m commerce_hub.embedded exec -- $(VENV)/bin/python bench/tenant_scale.py

clean-data:
	@echo "This deletes the embedded database and Redis data in .data/."
	rm -rf .data
