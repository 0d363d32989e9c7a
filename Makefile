# The two README commands, and the one that reproduces the shipped model.
.PHONY: demo test model
demo:
	python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/imgcap demo
test:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/python -m pytest tests
# Train with the default recipe (about 25 minutes on 2 CPU cores), score on val and test, and ship it.
model:
	.venv/bin/imgcap train --data ../shared/data/flickr8k --out runs/flickr8k && \
	.venv/bin/imgcap score runs/flickr8k/best.safetensors --data ../shared/data/flickr8k --ship
