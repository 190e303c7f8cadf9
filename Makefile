# The two commands a newcomer needs: `make run` and `make test`.
# Each creates the virtualenv and installs what it needs first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit package docs clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m devstack

test: $(STAMP) lint typecheck package
	$(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Package offline (dummy credentials) and lint the merged CloudFormation.
package: $(STAMP)
	rm -rf build/package
	AWS_ACCESS_KEY_ID=dummy AWS_SECRET_ACCESS_KEY=dummy AWS_DEFAULT_REGION=us-east-1 \
	  $(BIN)/chalice package --stage prod --merge-template infra/template.json build/package
	$(BIN)/cfn-lint build/package/sam.json

docs: $(STAMP)
	$(BIN)/python -m scripts.gen_docs

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
