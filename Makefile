# The two commands a newcomer needs: `make run` and `make test`.
# Each creates the virtualenv and installs what it needs first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# `chalice package` imports app.py and asks pip for Linux wheels; it never calls
# AWS. Dummy credentials, a region and hidden config files make sure of that.
OFFLINE_AWS := env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
	AWS_ACCESS_KEY_ID=dummy AWS_SECRET_ACCESS_KEY=dummy \
	AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

.PHONY: install run test lint typecheck package docs pytest browser-deps media-deps npm-deps clean

# uv installs the same pinned set as pip would, in seconds instead of the
# minutes pip takes here, which keeps a fresh clone's first `make run` short.
UV_VERSION := 0.13.9

# The project itself goes in editable, for its console script: course-media-ops.
$(STAMP): requirements.txt requirements-dev.txt requirements-processing.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP) npm-deps
	$(BIN)/python -m devstack

# CI runs exactly this (.ci/run). Each step stops the build on failure.
test: $(STAMP)
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory typecheck
	@$(MAKE) --no-print-directory package
	@$(MAKE) --no-print-directory browser-deps
	@$(MAKE) --no-print-directory media-deps
	@$(MAKE) --no-print-directory pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy strict over the Python; TypeScript's strict check over the client package
# (its JSDoc-typed sources against the declarations generated from docs/) and
# over the demo page that imports it.
typecheck: $(STAMP) npm-deps
	$(BIN)/mypy
	node_modules/.bin/tsc -p packages/client
	node_modules/.bin/tsc -p web

# The deployable artefact: the processing function's layer (PyAV, built for the
# Lambda runtime), Chalice's SAM template merged with infra/template.json,
# linted, then checked for what cfn-lint cannot know (every function covered by
# the log policy and the alarms, no wildcard role left from Chalice), run through
# the real SAM transform, and the resulting CloudFormation linted too.
package: $(STAMP)
	rm -rf build/package
	$(BIN)/python -m scripts.build_layer build/layers/media
	$(BIN)/python -m scripts.build_template infra/template.json build/infra/template.json
	$(OFFLINE_AWS) $(BIN)/chalice package --stage prod --merge-template build/infra/template.json build/package
	$(BIN)/cfn-lint build/package/sam.json
	$(OFFLINE_AWS) $(BIN)/python -m scripts.check_package build/package/sam.json
	$(BIN)/cfn-lint build/package/transformed.json

# -q keeps the log short; pytest still prints its summary line (and -ra the
# reasons for skips), and the ten slowest steps so a slow test is seen early.
# A run that collects nothing exits 5 and fails the build.
pytest: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -q --durations=10

# What the browser tests need beyond Python: Debian's Chromium, installed with
# apt-get where we are root (CI is); elsewhere the browser tests skip and say
# why. Then curl, for the local stack's curl tests. And the npm packages below.
browser-deps: npm-deps
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "browser-deps: installing chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "browser-deps: not root: Chromium not installed, the browser tests will skip"; fi
	@# The local-stack tests PUT parts with real curl (docs/local-stack.md).
	@if command -v curl >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "browser-deps: installing curl"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; \
	else echo "browser-deps: curl not found and not root: the curl tests will fail"; fi

# Debian's FFmpeg: the processing tests make their media files with ffmpeg and
# compare with ffprobe. Installed with apt-get where we are root (CI is);
# elsewhere those tests skip and say why. (Processing itself needs only PyAV.)
media-deps:
	@if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "media-deps: installing ffmpeg"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; \
	else echo "media-deps: not root: ffmpeg not installed, the processing tests will skip"; fi

# The npm workspace (package.json, package-lock.json, into the gitignored
# node_modules/): the client package packages/client (linked in as
# @course-media/client) with its type generators and TypeScript, unmodified Uppy,
# esbuild and the AsyncAPI parser. The local stack serves node_modules/ to the pages.
npm-deps:
	@if [ node_modules/.package-lock.json -nt package-lock.json ]; then :; \
	elif command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm-deps: npm not found: web/uppy.html and the Uppy test need it"; fi

docs: $(STAMP) npm-deps
	$(BIN)/python -m scripts.gen_docs

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
