# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench lock clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/clickfarm demo

test: $(STAMP)
	bash scripts/ensure-test-services.sh
	$(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(PY) -m benchmarks.run

# Regenerate the pinned constraints after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable --exclude pip > constraints.txt

clean:
	rm -rf $(VENV) var
