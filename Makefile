# `make book`: build the HTML book (executes every chapter) into _build/html.
# `make test`: lint (ruff, import-linter's tier contract) + unit tests + every notebook (nbval).
# `make browser-test`: the built book checked in headless Chromium (after `make book`).
# Both create the virtual environment .venv from requirements.txt on first use.

VENV ?= .venv
BIN := $(VENV)/bin
export OMP_NUM_THREADS ?= 1

.PHONY: book book-other-model test test-other-kernels browser-test lint-workflows clean serve

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

book: $(VENV)/.installed
	env -u MPLBACKEND $(BIN)/jupyter-book build . -W -n --keep-going

# The whole book again against the same recipe trained with another seed (NVP_BOOK_MODEL, read by
# nvp.book.model_name): every model-dependent number is glued from its cell, so each chapter must
# execute with no failed assert and carry that model's numbers, which the last step checks
# against the main build. Output: _build/other-model/_build/html (after `make book`).
OTHER_MODEL ?= mnist5k-seed1
book-other-model: $(VENV)/.installed
	NVP_BOOK_MODEL=$(OTHER_MODEL) env -u MPLBACKEND $(BIN)/jupyter-book build . -W -n --keep-going \
		--path-output _build/other-model
	NVP_OTHER_MODEL_HTML=_build/other-model/_build/html NVP_OTHER_MODEL=$(OTHER_MODEL) \
		$(BIN)/pytest -q tests/test_other_model.py

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest tests book --nbval-lax --nbval-current-env --ignore=tests/browser

# The numerically sensitive tests again on a second set of CPU kernels (ATen's and oneDNN's AVX2
# paths, documented by PyTorch and oneDNN): the rounding another machine would do. On a CPU
# without AVX-512 these are its own kernels; there `ATEN_CPU_CAPABILITY=default` differs.
SENSITIVE := tests/test_flows.py tests/test_vardeq.py tests/test_model.py tests/test_perf_paths.py \
	tests/test_distributed.py tests/test_train.py tests/test_pretrained.py tests/test_conditional.py \
	tests/test_classifier.py tests/test_export.py
test-other-kernels: $(VENV)/.installed
	ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 $(BIN)/pytest $(SENSITIVE)

# After `make book`: every page in headless Chromium (Debian's `chromium`); screenshots of every
# chapter in _build/screenshots/.
browser-test: $(VENV)/.installed
	NVP_BROWSER_TESTS=1 $(BIN)/pytest tests/browser

lint-workflows: $(VENV)/.installed
	$(BIN)/actionlint -no-color .github/workflows/book.yml

clean:
	rm -rf _build

# The built book over HTTP on http://127.0.0.1:8000 (the live tools cannot load from file://).
serve:
	$(BIN)/python -m http.server --directory _build/html --bind 127.0.0.1 8000
