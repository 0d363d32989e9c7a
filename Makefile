# The two README commands, as make targets.
.PHONY: demo test
demo:
	python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/imgcap demo
test:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/python -m pytest tests
