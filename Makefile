# `make book`: build the HTML book (executes every chapter) into _build/html.
# `make test`: lint (ruff) + unit tests + every notebook executed by nbval.
# Both create the virtual environment .venv from requirements.txt on first use.

VENV ?= .venv
BIN := $(VENV)/bin
export OMP_NUM_THREADS ?= 1

.PHONY: book test clean

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

book: $(VENV)/.installed
	$(BIN)/jupyter-book build . -W -n --keep-going

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest tests book --nbval-lax --nbval-current-env

clean:
	rm -rf _build
