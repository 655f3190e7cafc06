"""A real browser (Debian's chromium, driven by selenium) on the pages students and instructors use.

Student: the student bundle (`autograder student-bundle`) unzipped and installed as its README
says (`python3 -m venv`, `pip install "./kit[student]"`, from pip's cache), `jupyter notebook` in
the bundle, and the released notebook run in Notebook 7 cell by cell with Shift+Enter, its answer
cells typed into the page's CodeMirror editors: the stubs' checks say "not implemented yet", the
correct answers pass every check with no warning line, one mistake gets its hint.

Instructor: a copy of the course (tests/nbgrader_course.py) with one submission, `jupyter
notebook` with nbgrader's formgrader: the assignments are listed, Manage Submissions autogrades
the submission and generates its feedback, and the feedback page names every entry of its table
of contents and shows the pipeline's plots.

Both use tests/fashion.py's small synthetic data set (600 training images), so every cell of the notebook runs, the
5-epoch exploratory training and the pipeline's check included; the real-data routes are
tests/test_nbgrader.py and tests/test_routes.py. The student's install runs in the background
while the instructor's route runs. A step that fails leaves a screenshot, the page's text and
the Jupyter log in results/browser-artifacts/.

Chromium and chromedriver are Debian's (`make system-deps`, which `make install` runs, installs
them as root); selenium is pointed at both, so it never looks for or downloads a browser.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fashion import PARTS, ROOT, SOLUTION, write_synthetic_dataset
from nbgrader_course import (
    ASSIGNMENT,
    BIN,
    answered,
    make_course,
    nbgrader,
    nbgrader_env,
    read,
    submit,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "results" / "browser-artifacts"
# Chromium as root in a container: no sandbox, no GPU, and nothing that calls home.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)
# What the page must never show next to a passing check (item 1 of issue 32: a false one).
WARNING_LINE = re.compile(r"will not see the same code|not when graded|warning", re.I)
STUDENT = "alice"
STUDENT_NAMES = ("Ada", "Lovelace")  # first, last: in the course's gradebook before grading
UNANSWERED = "predict_classes"  # the part the instructor's submission leaves as released
MISTAKE = ("scale_images", "    return images / 256.0\n", "not 256")  # part, body, its hint


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/fashion.py's learnable synthetic images, with a test set of the real one's 10,000 images:
    the notebook's own cells pick test image 333 and say "10,000 test images"."""
    return write_synthetic_dataset(
        tmp_path_factory.mktemp("browser-fashion-mnist"), n_train=600, n_test=10_000
    )


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def webdriver_module():
    """selenium, or why the test cannot run: skipped only off CI and not as root (where
    `make system-deps` could not install chromium); in CI, or as root, a missing piece fails."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    try:
        from selenium import webdriver
    except ImportError:
        missing.append("selenium (the dev extra: make install)")
        webdriver = None
    if missing:
        reason = (
            f"{', '.join(missing)} not found: `make system-deps` installs Debian's chromium and "
            "chromium-driver as root (apt-get)"
        )
        if _in_ci() or os.geteuid() == 0:
            pytest.fail(reason)
        pytest.skip(reason)
    return webdriver


@pytest.fixture(scope="module")
def driver(webdriver_module, tmp_path_factory: pytest.TempPathFactory):
    from selenium.webdriver.chrome.service import Service

    options = webdriver_module.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")  # selenium-manager, were it ever asked: no network
        browser = webdriver_module.Chrome(
            options=options, service=Service(executable_path=str(CHROMEDRIVER))
        )
    browser.set_page_load_timeout(60)
    yield browser
    browser.quit()


# --- Jupyter servers ----------------------------------------------------------------------------


@dataclass
class Jupyter:
    url: str
    token: str
    process: subprocess.Popen
    log: Path

    def page(self, path: str) -> str:
        return f"{self.url}{path}?token={self.token}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyter_notebook(jupyter: Path, folder: Path, env: dict[str, str], log: Path):
    """`jupyter notebook` serving `folder` on 127.0.0.1 with a token, until the block ends."""
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(jupyter), "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        "--ServerApp.allow_root=True",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = Jupyter(f"http://127.0.0.1:{port}", token, process, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(server.page("/api/status"), timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"jupyter notebook did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def step(driver, name: str, server: Jupyter | None = None) -> Iterator[None]:
    """A step of a route: when it fails, its screenshot, the page's text and the server's log
    are kept in results/browser-artifacts/ (what the page showed, for CI). With
    BROWSER_SCREENSHOTS=<folder>, every step that passes leaves its screenshot there too, for a
    person to look at the pages."""
    try:
        yield
        if os.environ.get("BROWSER_SCREENSHOTS"):
            folder = Path(os.environ["BROWSER_SCREENSHOTS"])
            folder.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(folder / f"{name}.png"))
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        with contextlib.suppress(Exception):
            text = driver.execute_script("return document.body.innerText")
            (ARTIFACTS / f"{name}.txt").write_text(f"{driver.current_url}\n\n{text}")
        if server is not None:
            with contextlib.suppress(Exception):
                shutil.copy(server.log, ARTIFACTS / f"{name}-jupyter.log")
        raise


def wait_for(condition, timeout: float, what: str, interval: float = 0.25):
    """`condition()`'s first true value within `timeout` seconds. An element the page replaced
    while the condition read it (selenium's StaleElementReferenceException: a dialog closing
    between `find_elements` and `is_displayed`) means "not yet": the condition is asked again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception as exc:  # selenium is imported lazily, so its class is matched by name
            if type(exc).__name__ != "StaleElementReferenceException":
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


# --- the student's install, in the background ------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIRTUAL_ENV", "PYTHON", "JPY_", "NBGRADER_"))
        and k not in ("KERAS_HOME", "AUTOGRADER_NOTEBOOK", "JUPYTER_CONFIG_DIR")
    }
    env.update(TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0", **extra)
    return env


def install_student_bundle(folder: Path) -> tuple[Path, Path]:
    """The README's student set-up: the bundle unzipped, a fresh venv, `pip install
    "./kit[student]"`. Returns (the venv's bin, the bundle's notebook)."""
    bundle = folder / f"{ASSIGNMENT}-student.zip"
    env = clean_env()
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "student-bundle", str(bundle), "--exercise", ASSIGNMENT],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    unpacked = folder / "student"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(unpacked)
    venv = folder / "venv"
    done = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True,
                          text=True, env=env, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    env = {**env, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"}
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "./kit[student]"],
        capture_output=True, text=True, cwd=unpacked, env=env, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    notebook = unpacked / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert notebook.is_file(), sorted(p.name for p in unpacked.rglob("*"))
    return venv / "bin", notebook


@pytest.fixture(scope="module", autouse=True)
def student_install(webdriver_module, tmp_path_factory: pytest.TempPathFactory):
    """Started first, awaited by the student's route (the instructor's runs meanwhile)."""
    folder = tmp_path_factory.mktemp("student")
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        future = pool.submit(install_student_bundle, folder)
        future.add_done_callback(
            lambda _: print(f"student bundle installed in {time.monotonic() - started:.0f} s")
        )
        yield future


# --- the instructor -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course_server(driver, data_dir: Path, tmp_path_factory):
    """A copy of the course with one submission (every part answered but one), served by
    `jupyter notebook` with nbgrader's formgrader."""
    root = make_course(tmp_path_factory.mktemp("browser-course") / "course")
    env = nbgrader_env(data_dir)
    env.update(HOME=str(tmp_path_factory.mktemp("instructor-home")),
               NBGRADER_EXCHANGE=str(tmp_path_factory.mktemp("exchange")))  # fmt: skip
    nbgrader(root, env, "generate_assignment", ASSIGNMENT, "--force")
    first, last = STUDENT_NAMES
    nbgrader(root, env, "db", "student", "add", STUDENT, f"--first-name={first}",
             f"--last-name={last}")  # fmt: skip
    release = read(root / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    submission = answered(release, read(SOLUTION))
    for cell, released in zip(submission.cells, release.cells, strict=True):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == UNANSWERED:
            cell.source = released.source
    submit(root, STUDENT, submission)
    log = tmp_path_factory.mktemp("instructor-jupyter") / "jupyter.log"
    with jupyter_notebook(BIN / "jupyter", root, env, log) as server:
        yield root, server


def modal_text(driver, timeout: float) -> str:
    """The formgrader's result dialog, closed after reading."""
    from selenium.webdriver.common.by import By

    dialog = wait_for(
        lambda: [
            d for d in driver.find_elements(By.CSS_SELECTOR, ".modal-dialog") if d.is_displayed()
        ],
        timeout,
        "the formgrader's dialog",
        interval=1,
    )[0]
    text = dialog.text
    dialog.find_element(By.CSS_SELECTOR, ".modal-footer button").click()
    wait_for(
        lambda: (
            not [
                d
                for d in driver.find_elements(By.CSS_SELECTOR, ".modal-dialog")
                if d.is_displayed()
            ]
        ),
        30,
        "the dialog to close",
    )
    return text


def test_instructor_autogrades_from_the_formgrader_and_reads_the_feedback(
    driver, course_server
) -> None:
    from selenium.webdriver.common.by import By

    root, server = course_server
    with step(driver, "instructor-assignments", server):
        driver.get(server.page("/formgrader"))
        wait_for(lambda: driver.find_elements(By.LINK_TEXT, ASSIGNMENT), 60, "the assignments")
        listed = {a.text for a in driver.find_elements(By.CSS_SELECTOR, "td a") if a.text}
        course = {p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()}
        assert course <= listed, listed
        row = driver.find_element(By.XPATH, f"//tr[td/a[text()='{ASSIGNMENT}']]")
        submissions = row.find_element(By.XPATH, "td/a[text()='1']")  # the # Submissions column
        submissions.click()
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "td.autograde a"), 60, "submissions")

    with step(driver, "instructor-autograde", server):
        started = time.monotonic()
        driver.find_element(By.CSS_SELECTOR, "td.autograde a").click()
        text = modal_text(driver, 600)
        print(f"formgrader autograde: {time.monotonic() - started:.0f} s")
        assert f"Successfully autograded '{ASSIGNMENT}' for student '{STUDENT}'" in text, text
        first, last = STUDENT_NAMES
        score = re.search(
            rf"\[INFO\] {STUDENT} \({first} {last}\): {ASSIGNMENT} scored (\d+(?:\.\d+)?)/100 "
            rf"\(lost points: {UNANSWERED} 0/\d+\), graded in the sandbox in [\d.]+ s",
            text,
        )
        assert score, f"no INFO line naming the student and the score:\n{text}"
        assert "None, None" not in text
        wait_for(
            lambda: (
                driver.find_elements(By.CSS_SELECTOR, "td.score")
                and driver.find_element(By.CSS_SELECTOR, "td.score").text
            ),
            60,
            "the score in the table",
        )
        assert driver.find_element(By.CSS_SELECTOR, "td.score").text == f"{score.group(1)} / 100"
        assert driver.find_element(By.CSS_SELECTOR, "td.student-name").text == f"{last}, {first}"

    with step(driver, "instructor-feedback", server):
        driver.find_element(By.CSS_SELECTOR, "td.generate-feedback a").click()
        text = modal_text(driver, 300)
        assert "Successfully generated feedback" in text, text
        feedback = f"feedback/{STUDENT}/{ASSIGNMENT}/{ASSIGNMENT}.html"
        assert (root / feedback).is_file()
        # As from Jupyter's file browser: /files/ serves only to a page of the same server.
        driver.get(server.page(f"/tree/feedback/{STUDENT}/{ASSIGNMENT}"))
        driver.execute_script("window.location.href = arguments[0]", f"/files/{feedback}")
        wait_for(lambda: driver.find_elements(By.ID, "toc"), 60, "the feedback page")
        entries = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#toc li a")]
        tests = [e for e in entries if not e.startswith(f"{UNANSWERED}: not answered")]
        assert [e.split(":")[0] for e in tests] == list(PARTS), entries
        assert f"{UNANSWERED}: not answered (the cell is as released)" in entries, entries
        assert not [e for e in entries if e in ("Comment", "Test cell")], entries
        driver.find_element(By.PARTIAL_LINK_TEXT, "pipeline: test accuracy").click()
        plots = wait_for(
            lambda: driver.execute_script(
                "return Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0)"
                ".map(i => i.alt)"
            ),
            30,
            "the plots",
        )
        assert len(plots) == 2, plots
        assert plots[0].startswith("Training curves") and plots[1].startswith("Confusion matrix")


# --- Notebook 7 ---------------------------------------------------------------------------------


class NotebookPage:
    """The notebook as the page shows it: cell i is the i-th cell of the file."""

    CELL = "document.querySelectorAll('.jp-Notebook .jp-Cell')[arguments[0]]"

    def __init__(self, driver, server: Jupyter, path: Path):
        self.driver, self.server, self.path = driver, server, path
        self.cells = json.loads(path.read_text())["cells"]

    def open(self) -> None:
        self.driver.get(self.server.page(f"/notebooks/{self.path.name}"))
        wait_for(
            lambda: (
                self.driver.execute_script(
                    "return document.querySelectorAll('.jp-Notebook .jp-Cell .cm-content').length"
                )
                == len(self.cells)
            ),
            90,
            "the notebook's cells and editors",
        )

    def index(self, grade_id: str) -> int:
        return next(
            i
            for i, cell in enumerate(self.cells)
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id
        )

    def type_into(self, index: int, source: str) -> None:
        """Replace the cell's text in its CodeMirror 6 editor, as typing would (the page's own
        editor view, so Jupyter's model follows)."""
        self.driver.execute_script(
            f"const content = {self.CELL}.querySelector('.cm-content');"
            "const view = (content.cmTile || content.cmView).view;"
            "view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: arguments[1]}});",
            index,
            source,
        )
        shown = self.driver.execute_script(
            f"const c = {self.CELL}.querySelector('.cm-content');"
            "return (c.cmTile || c.cmView).view.state.doc.toString()",
            index,
        )
        assert shown == source, f"cell {index} shows {shown!r}"

    def prompt(self, index: int) -> str:
        return self.driver.execute_script(
            f"return {self.CELL}.querySelector('.jp-InputPrompt')?.innerText || ''", index
        ).strip()

    def run(self, index: int, timeout: float = 180) -> str:
        """Click into the cell, Shift+Enter, wait for its new execution count; its output."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        before = self.prompt(index)
        cell = self.driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[index]
        editor = cell.find_element(By.CSS_SELECTOR, ".jp-InputArea-editor")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", editor)
        editor.click()
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(
            Keys.SHIFT
        ).perform()
        wait_for(
            lambda: (p := self.prompt(index)) != before and re.fullmatch(r"\[\d+\]:", p),
            timeout,
            f"cell {index} to run",
        )
        return self.output(index)

    def output(self, index: int) -> str:
        return self.driver.execute_script(
            f"return {self.CELL}.querySelector('.jp-OutputArea')?.innerText || ''", index
        )

    def stderr(self, index: int) -> str:
        """What the cell wrote to stderr, tracebacks included (the page's pink boxes)."""
        return self.driver.execute_script(
            f"return Array.from({self.CELL}.querySelectorAll("
            "'[data-mime-type=\"application/vnd.jupyter.stderr\"]')).map(e => e.innerText)"
            ".join('\\n')",
            index,
        )

    def save(self) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("s").key_up(
            Keys.CONTROL
        ).perform()


@pytest.fixture(scope="module")
def student_page(driver, student_install, data_dir: Path, tmp_path_factory):
    """The released notebook open in Notebook 7, in the student's own install."""
    bin_dir, notebook = student_install.result(timeout=1500)
    home = tmp_path_factory.mktemp("student-home")
    env = clean_env(
        HOME=str(home),
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        VIRTUAL_ENV=str(bin_dir.parent),
        FASHION_MNIST_DIR=str(data_dir),
    )
    log = tmp_path_factory.mktemp("student-jupyter") / "jupyter.log"
    with jupyter_notebook(bin_dir / "jupyter", notebook.parent, env, log) as server:
        page = NotebookPage(driver, server, notebook)
        with step(driver, "student-open", server):
            page.open()
        yield page


def solutions(page: NotebookPage) -> dict[str, str]:
    """Each answer cell's correct source (the instructor's, without the solution markers)."""
    release = read(page.path)
    correct = answered(release, read(SOLUTION))
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in correct.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def check_cells(page: NotebookPage) -> dict[int, str]:
    """The self-check cells, by index: the part each checks."""
    found = {}
    for index, cell in enumerate(page.cells):
        code = [line for line in "".join(cell["source"]).splitlines() if not line.startswith("#")]
        match = re.match(r'check\("(\w+)"', "\n".join(code).strip())
        if cell["cell_type"] == "code" and match:
            found[index] = match.group(1)
    return found


def answer_cells(page: NotebookPage) -> dict[str, int]:
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: index
        for index, cell in enumerate(page.cells)
        if cell["metadata"].get("nbgrader", {}).get("solution")
    }


def setup_cells(page: NotebookPage) -> list[int]:
    """The code cells before the first answer cell: the imports and `from ... import check`."""
    first = min(answer_cells(page).values())
    return [i for i, c in enumerate(page.cells[:first]) if c["cell_type"] == "code"]


def test_student_stubs_every_check_says_not_implemented_yet(student_page: NotebookPage) -> None:
    page = student_page
    released = {part: "".join(page.cells[i]["source"]) for part, i in answer_cells(page).items()}
    with step(page.driver, "student-stubs", page.server):
        for index in setup_cells(page):
            page.run(index, timeout=300)  # the first one starts the kernel and TensorFlow
        said = {}
        for grade_id, index in answer_cells(page).items():
            page.type_into(index, released[grade_id])
        for index, part in check_cells(page).items():
            answer = answer_cells(page).get(part)
            if answer is not None:
                page.run(answer)
            said[part] = page.run(index)
        assert set(said) == set(PARTS), said.keys()
        silent = {part: text for part, text in said.items() if "not implemented yet" not in text}
        assert silent == {}, "checks of stubs that do not say 'not implemented yet'"


def test_student_correct_code_passes_every_check_with_no_warning_line(
    student_page: NotebookPage,
) -> None:
    """Every cell, top to bottom, as a student runs it after answering each part (the 5-epoch
    exploratory training and the pipeline's check too: the data set is small)."""
    page = student_page
    correct = solutions(page)
    checks = check_cells(page)
    with step(page.driver, "student-correct", page.server):
        for grade_id, index in answer_cells(page).items():
            page.type_into(index, correct[grade_id])
        page.save()
        build_model = answer_cells(page)["build_model"]

        def saved() -> bool:
            with contextlib.suppress(Exception):  # a file Jupyter is writing
                return read(page.path).cells[build_model].source == correct["build_model"]
            return False

        wait_for(saved, 30, "the notebook to be saved")
        said, errors = {}, {}
        for index, cell in enumerate(page.cells):
            if cell["cell_type"] != "code":
                continue
            output = page.run(index, timeout=300)
            if index in checks:
                said[checks[index]] = output
            if page.stderr(index):
                errors[index] = page.stderr(index)
        assert set(said) == set(PARTS), said.keys()
        # What the page says under each check that is not a plain pass: its warning lines (a
        # false "The grader will not see the same code" was item 1 of issue 32), or its text.
        problems = {}
        for part, text in said.items():
            warned = [line for line in text.splitlines() if WARNING_LINE.search(line)]
            if warned or "All checks passed." not in text:
                problems[part] = warned or [text]
        assert problems == {}, "checks of correct code that do not simply pass:\n" + "\n".join(
            f"{part}: {line}" for part, lines in problems.items() for line in lines
        )
        assert errors == {}, "cells of a correct notebook that show an error or stderr"


def test_student_one_mistake_gets_its_hint(student_page: NotebookPage) -> None:
    page = student_page
    part, body, hint = MISTAKE
    source = solutions(page)[part]
    wrong = re.sub(r"    return .*\n?", body, source, count=1)
    assert wrong != source
    with step(page.driver, "student-mistake", page.server):
        for index in setup_cells(page):
            if not re.fullmatch(r"\[\d+\]:", page.prompt(index)):
                page.run(index, timeout=300)
        index = answer_cells(page)[part]
        page.type_into(index, wrong)
        page.run(index)
        check = next(i for i, p in check_cells(page).items() if p == part)
        text = page.run(check)
        assert hint in text and "All checks passed." not in text, text
        assert not [line for line in text.splitlines() if "will not see the same code" in line]
