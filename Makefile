# Everything a fresh machine needs: `make grade` and `make test` do their own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make grade EXERCISE=housing_prices` grades that exercise's reference solution; a SUBMISSION
# of your own is graded as EXERCISE (the exercise is always the instructor's, never the file's).
EXERCISE ?= fashion_mnist
SUBMISSION ?= solutions/$(EXERCISE)/$(EXERCISE).ipynb
# Every exercise: one folder each under solutions/ (and autograder/exercises/). A course that
# releases only some: `make release EXERCISES=fashion_mnist` (nbgrader export lists every
# assignment in the gradebook, released or not).
EXERCISES ?= $(notdir $(wildcard solutions/*))
RESULTS ?= results/results.json
# The shared copy of the real data when it is there (CI and developer machines); otherwise the grader
# looks for Debian's dataset-fashion-mnist and an existing keras cache by itself.
FASHION_MNIST_DIR ?= $(firstword $(wildcard $(CURDIR)/../shared/data/fashion-mnist))
export FASHION_MNIST_DIR
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0
# nbgrader runs alembic and jupyter from the environment's bin.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install system-deps grade check test test-fast lint format release bench bench-compare docs gradescope-bundle student-bundle clean

install: $(VENV)/.installed system-deps

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip 'setuptools>=77'  # pyproject's SPDX license (PEP 639)
	@# The distribution was called fashion-mnist-autograder until 2026-12: drop that install.
	$(BIN)/pip uninstall -q -y fashion-mnist-autograder >/dev/null 2>&1 || true
	$(BIN)/pip install -q -e '.[nbgrader,dev,cluster,docs]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# Debian packages, each with the command that shows it is there: bubblewrap is the sandbox
# (without it the grader falls back to resource limits, and says so); chromium and its driver run
# the real-browser test (tests/test_browser.py), which fails in CI (CI=true) without them.
SYSTEM_DEPS := bwrap:bubblewrap chromium:chromium chromedriver:chromium-driver
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300

system-deps:
	@missing=""; for pair in $(SYSTEM_DEPS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  ($(APT_GET) install$$missing >/dev/null 2>&1 || \
	   ($(APT_GET) update >/dev/null 2>&1 && $(APT_GET) install$$missing >/dev/null 2>&1)) \
	  && echo "installed$$missing" \
	  || echo "note: could not install$$missing (no bubblewrap: grading without the sandbox; no chromium: the browser test skips, fails in CI)"; \
	else echo "note: not installed:$$missing (apt-get install them as root: bubblewrap is the strongest sandbox; chromium and chromium-driver run tests/test_browser.py)"; fi

grade: install
	$(BIN)/autograder grade $(SUBMISSION) --exercise $(EXERCISE) --results $(RESULTS)

check: install
	$(BIN)/autograder check $(SUBMISSION) --exercise $(EXERCISE)

# Test files run side by side, one per core (pytest-xdist); a file's tests stay together in one
# process, so its module fixtures (an nbgrader course, a trained model) are built once, and the
# longest files are handed out first (tests/suite_order.py, not xdist's default of the files
# with most tests first). `make test TEST_JOBS=0` runs everything in one process.
TEST_JOBS ?= 2
PYTEST_PARALLEL := $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder)

test: install
	$(BIN)/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-fast: install
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not real_data and not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check autograder tests benchmarks
	$(BIN)/ruff format --check autograder tests benchmarks

format: install
	$(BIN)/ruff format autograder tests benchmarks
	$(BIN)/ruff check --fix autograder tests benchmarks

# The student's notebook: assignments/ from the instructor's solutions/ (commit the result).
# Only the releases older than their source are written again (FORCE=1: all of them); nbgrader
# writes the same bytes for the same source, so an unchanged exercise's release never changes.
# Each source is checked first as `autograder rebuild-notebooks` checks it (no points rewritten).
release: install
	for exercise in $(EXERCISES); do \
	  source=solutions/$$exercise/$$exercise.ipynb; target=assignments/$$exercise/$$exercise.ipynb; \
	  if [ -z "$(FORCE)" ] && [ "$$target" -nt "$$source" ]; then echo "$$target is up to date"; continue; fi; \
	  $(BIN)/python -m autograder.authoring.rebuild $$exercise || exit 1; \
	  $(BIN)/nbgrader generate_assignment $$exercise --force || exit 1; done

# Gradescope's autograder zip; the data goes in when FASHION_MNIST_DIR (or the grader's search)
# finds the official files. More options: GRADESCOPE_ARGS="--no-data --visibility FILE --leaderboard".
# What students install: the released notebook and the self-checks, no solutions.
student-bundle: install
	for exercise in $(EXERCISES); do \
	  $(BIN)/autograder student-bundle dist/$$exercise-student.zip --exercise $$exercise || exit 1; done

gradescope-bundle: install
	for exercise in $(EXERCISES); do \
	  $(BIN)/autograder gradescope-bundle results/gradescope-$$exercise.zip --exercise $$exercise \
	    $(GRADESCOPE_ARGS) || exit 1; done

# One submission: `autograder grade` vs a bare training script vs nbconvert of the original notebook
# (times and ratios, one run on this machine), then where the grading's time goes, part by part,
# then a small class per exercise: batch seconds per submission vs the bare pipeline training.
bench: install
	$(BIN)/python benchmarks/single_submission.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/training_floor.py
	$(BIN)/python benchmarks/grading_time.py
	$(BIN)/python benchmarks/class_speed.py
	$(BIN)/python benchmarks/batch_throughput.py

# Before and after in one run: each reference graded with commit BASE and with this checkout,
# interleaved (`make bench-compare BASE=v0.1.0`).
bench-compare: install
	@test -n "$(BASE)" || { echo "name the commit to compare with: make bench-compare BASE=<commit>"; exit 2; }
	$(BIN)/python benchmarks/compare_commits.py $(BASE) --repeat $(or $(REPEAT),2)

# The manual: regenerate its generated pages (the rubric of each exercise, the CLI reference)
# from the graders and the argument parser, then build it strictly into site/ (a broken link or
# a missing page fails; tests/test_docs.py runs the same build in `make test`).
docs: install
	$(BIN)/python docs/generate.py
	$(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) results site *.egg-info
