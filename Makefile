# The two README commands, the one that reproduces the shipped model, and one for experiments.
.PHONY: demo test model candidate
demo:
	python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/imgcap demo
test:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/python -m pytest tests
# Train with the default recipe (about 25 minutes on 2 CPU cores), score on val and test, and ship it.
model:
	.venv/bin/imgcap train --data ../shared/data/flickr8k --out runs/flickr8k && \
	.venv/bin/imgcap score runs/flickr8k/best.safetensors --data ../shared/data/flickr8k --ship
# An experiment: train with ARGS into runs/NAME and score it on val only, so that the test split stays
# unseen until a model is chosen (`make model` scores test and ships). make candidate NAME=lite2 ARGS='--encoder lite2'
candidate:
	@test -n "$(NAME)" || { echo "make candidate needs NAME=... (the run folder under runs/)" >&2; exit 2; }
	.venv/bin/imgcap train --data ../shared/data/flickr8k --out runs/$(NAME) $(ARGS) && \
	.venv/bin/imgcap evaluate --data ../shared/data/flickr8k --model runs/$(NAME)/best.safetensors --split val
