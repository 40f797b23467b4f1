# The two commands a newcomer needs; each sets itself up first.
.PHONY: run test lint bench

run:            ## run ringbot (sandbox mode when no App credentials are set)
	@scripts/bootstrap
	.venv/bin/python -m bot

test:           ## every test: unit, end-to-end, and the conformance run through Prism
	@scripts/bootstrap --npm
	.venv/bin/python -m pytest
	RINGBOT_PRISM=1 .venv/bin/python -m pytest -m e2e

lint:
	@scripts/bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy bot

bench:          ## issue 12's figures (rate limit, latency, ingest) beside their baselines; about 8 min
	@scripts/bootstrap --npm
	.venv/bin/python bench/scale.py
	.venv/bin/python bench/ingest_memory.py
