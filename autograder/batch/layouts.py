"""Find the submissions in a folder and the student each one belongs to.

Supported layouts (`--layout auto` recognises them; mixing LMS file names and plain files in one
folder works too):

- `files`: submissions directly in the folder; the student id is the file name without its
  suffix (`alice.ipynb` -> `alice`; `a.py` and `a.ipynb` are kept apart as `a.py`, `a.ipynb`).
- `nbgrader`: `submitted/<student>/<assignment>/*.ipynb`, the folder being the course root or its
  `submitted/` folder; the student id is nbgrader's, the time is read from `timestamp.txt`.
- `lms` (or `canvas`, `moodle`, `blackboard` to name the platform): an LMS download, the
  student in the part of the file name the platform writes (never in the part the student
  chose: a Canvas upload the student named `x_<id>_assignsubmission_file_a.py` is still hers).
  One platform per folder: `auto` and `lms` detect it once from all the names, and refuse a
  folder whose names fit several platforms or none consistently (pass the platform then):
  - Canvas: `<lastfirst>_<user id>_<submission id>_<file>` and `<lastfirst>_LATE_<user id>_...`
    (a resubmission's file gets `-1`, `-2`... before its suffix): the Canvas user id;
  - Moodle: `<Full Name>_<participant id>_assignsubmission_file_<file>`: the participant id;
  - Blackboard: `<assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>`: the username.
- `folders`: a folder per student holding the file(s): the folder name is the student id, or
  Moodle's participant id for Moodle's `<Full Name>_<id>_assignsubmission_file_/` folders.

One submission per student: when a student has several files, the kit grades a notebook rather
than a `.py`, then the latest (Canvas resubmission number, Blackboard attempt time, file name)
and says which files it left out.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".ipynb", ".py")
PLATFORMS = ("canvas", "moodle", "blackboard")
LAYOUTS = ("auto", "files", "nbgrader", "lms", *PLATFORMS, "folders")

CANVAS = re.compile(
    r"^(?P<login>[A-Za-z0-9]+?)(?P<late>_LATE)?_(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$"
)
MOODLE = re.compile(
    r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_(?P<file>.*)$"
)
BLACKBOARD = re.compile(
    r"^(?P<assignment>.+)_(?P<id>[^_]+)_attempt_"
    r"(?P<ts>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})(?:_(?P<file>.+))?$"
)
RESUBMISSION = re.compile(r"-(\d+)$")


@dataclass(frozen=True)
class Submission:
    """One student's file to grade; `key` names its output folder (unique within a batch)."""

    student_id: str
    path: Path
    key: str
    layout: str = "files"
    assignment: str = ""
    first_name: str = ""
    last_name: str = ""
    timestamp: str = ""


@dataclass(frozen=True)
class _Found:
    student_id: str
    path: Path
    layout: str
    assignment: str = ""
    first_name: str = ""
    last_name: str = ""
    timestamp: str = ""
    order: tuple = ()


def _visible(path: Path) -> bool:
    return not path.name.startswith((".", "__"))


def _submission_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIXES and _visible(p)
    )


def _split_name(full: str) -> tuple[str, str]:
    """Moodle's "First Names Last" -> ("First Names", "Last")."""
    first, _, last = full.strip().rpartition(" ")
    return first, last


def parse_lms_name(name: str, platform: str | None = None) -> dict[str, str] | None:
    """The student in an LMS download's file (or folder) name, or None for a plain name.

    `platform` (canvas, moodle, blackboard) reads the name only as that platform writes it;
    without it the first platform whose pattern fits is taken (use `detect_platform` first
    for a folder: a student-chosen file name can fit another platform's pattern).

    >>> parse_lms_name("doejane_12345_67890_fashion_mnist-1.ipynb")["student_id"]
    '12345'
    >>> parse_lms_name("Jane Doe_4321_assignsubmission_file_fashion_mnist.ipynb")["last_name"]
    'Doe'
    >>> parse_lms_name("HW1_jdoe_attempt_2024-03-01-17-05-59_fashion_mnist.ipynb")["student_id"]
    'jdoe'
    >>> parse_lms_name("alice.ipynb") is None
    True
    """
    if platform not in (None, *PLATFORMS):
        raise ValueError(f"unknown platform {platform!r}; platforms are {', '.join(PLATFORMS)}")
    if platform in (None, "moodle") and (match := MOODLE.match(name)):
        first, last = _split_name(match["name"])
        return {"student_id": match["id"], "first_name": first, "last_name": last, "lms": "moodle"}
    if platform in (None, "blackboard") and (match := BLACKBOARD.match(name)):
        ts = match["ts"]
        return {
            "student_id": match["id"],
            "timestamp": f"{ts[:10]} {ts[11:].replace('-', ':')}",
            "lms": "blackboard",
        }
    if platform in (None, "canvas") and (match := CANVAS.match(name)):
        return {"student_id": match["id"], "lms": "canvas"}
    return None


def detect_platform(names: list[str]) -> str | None:
    """The one LMS platform that wrote every LMS-looking name in a folder (None: plain names).

    Raises:
        ValueError: the names fit no single platform, or more than one equally.

    >>> detect_platform(["doejane_1_2_a.ipynb", "roe_3_4_x_9_assignsubmission_file_a.py"])
    'canvas'
    """
    fits = {name: {p for p in PLATFORMS if parse_lms_name(name, p)} for name in names}
    looking = {name: found for name, found in fits.items() if found}
    if not looking:
        return None
    common = set(PLATFORMS).intersection(*looking.values())
    if len(common) == 1:
        return common.pop()
    examples = "; ".join(
        f"{p}: {next(n for n, f in looking.items() if p in f)}"
        for p in PLATFORMS
        if any(p in f for f in looking.values())
    )
    if not common:
        raise ValueError(
            "the file names come from several LMS platforms (" + examples + "): download each "
            "platform's submissions to its own folder, or pass --layout canvas|moodle|blackboard"
        )
    raise ValueError(
        f"the file names fit {' and '.join(sorted(common))} alike ({examples}): pass "
        "--layout " + "|".join(sorted(common))
    )


def _order(path: Path, timestamp: str = "") -> tuple:
    """Preference among one student's files: notebooks, then later resubmissions and attempts."""
    resubmission = RESUBMISSION.search(path.stem)
    return (
        path.suffix == ".ipynb",
        timestamp,
        int(resubmission[1]) if resubmission else 0,
        path.name,
    )


def _nbgrader_root(folder: Path) -> Path | None:
    # A folder the instructor passed as nbgrader's submitted/ is the root, even when a student
    # is called "submitted" (her folder must not become the whole class).
    if folder.name != "submitted" and (folder / "submitted").is_dir():
        return folder / "submitted"
    for student in folder.iterdir():
        if student.is_dir() and _visible(student):
            for assignment in student.iterdir():
                if assignment.is_dir() and _submission_files(assignment):
                    return folder
    return None


def submissions_root(folder: str | Path, layout: str = "auto") -> Path:
    """The folder everything under which students wrote: nbgrader's `submitted/` for an
    nbgrader course (given as its root or as `submitted/`), else `folder` itself."""
    folder = Path(folder)
    if layout in ("auto", "nbgrader"):
        root = _nbgrader_root(folder)
        if root is not None:
            return root
    return folder


def _find_nbgrader(root: Path, assignment: str | None) -> list[_Found]:
    found = []
    for student in sorted(p for p in root.iterdir() if p.is_dir() and _visible(p)):
        for folder in sorted(p for p in student.iterdir() if p.is_dir() and _visible(p)):
            if assignment and folder.name != assignment:
                continue
            stamp_file = folder / "timestamp.txt"
            stamp = stamp_file.read_text(errors="replace").strip() if stamp_file.is_file() else ""
            for path in _submission_files(folder):
                # An assignment's main notebook is named after it: prefer it among several.
                order = (path.stem == folder.name, *_order(path))
                found.append(
                    _Found(student.name, path, "nbgrader", folder.name, "", "", stamp, order)
                )
    assignments = sorted({f.assignment for f in found})
    if len(assignments) > 1:
        raise ValueError(
            f"{root} holds several assignments ({', '.join(assignments)}): pass --assignment NAME"
        )
    return found


def _from_name(
    path: Path, layout: str, *, owner: str | None = None, platform: str | None = None
) -> _Found | None:
    """A file's student from its LMS name (or its folder's), else its own name (`files`)."""
    if owner is not None:
        info = parse_lms_name(owner, "moodle")  # only Moodle writes a folder per student
    else:
        info = parse_lms_name(path.name, platform) if platform else None
    if info is None:
        if layout == "lms":
            return None
        student = owner if owner is not None else path.stem
        return _Found(
            student, path, "folders" if owner is not None else "files", order=_order(path)
        )
    stamp = info.get("timestamp", "")
    return _Found(
        info["student_id"],
        path,
        "folders" if owner is not None else "lms",
        "",
        info.get("first_name", ""),
        info.get("last_name", ""),
        stamp,
        _order(path, stamp),
    )


def _find_flat(folder: Path, layout: str) -> list[_Found]:
    found = []
    files = _submission_files(folder)
    if layout in PLATFORMS:
        platform = layout
    elif layout in ("auto", "lms"):
        try:
            platform = detect_platform([p.name for p in files])
        except ValueError as exc:
            raise ValueError(f"{folder}: {exc}") from None
    else:
        platform = None
    if layout in ("auto", "files", "lms", *PLATFORMS):
        for path in files:
            item = _from_name(path, "lms" if layout in PLATFORMS else layout, platform=platform)
            if item is not None:
                found.append(item)
    if layout in ("auto", "folders"):
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and _visible(p)):
            for path in _submission_files(sub):
                item = _from_name(path, layout, owner=sub.name)
                if item is not None:
                    found.append(item)
    if layout == "files":
        found = [f for f in found if f.layout == "files"]
    return found


def _safe_key(text: str) -> str:
    key = re.sub(r"[^A-Za-z0-9._@+-]", "_", text).strip(".") or "student"
    return key[:120]


def discover(
    folder: str | Path, layout: str = "auto", assignment: str | None = None
) -> tuple[list[Submission], list[str]]:
    """The submissions in `folder`, sorted by student id, and notes on files left out."""
    folder = Path(folder)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; layouts are {', '.join(LAYOUTS)}")
    root = _nbgrader_root(folder) if layout in ("auto", "nbgrader") else None
    if layout == "nbgrader" and root is None:
        raise ValueError(
            f"{folder} is not an nbgrader course: no <student>/<assignment>/ notebooks"
        )
    found = _find_nbgrader(root, assignment) if root is not None else _find_flat(folder, layout)

    notes: list[str] = []
    chosen: list[_Found] = []
    plain = [f for f in found if f.layout == "files"]
    named = {f.student_id for f in found if f.layout != "files"}
    clashes = sorted(f.path.name for f in plain if f.student_id in named)
    if clashes:  # a plain file would be graded as a student the platform already names
        raise ValueError(
            f"{', '.join(clashes)}: named like a student id the LMS file names already use; "
            "rename or move the file (one student, one id)"
        )
    stems = Counter(f.student_id for f in plain)
    for item in plain:  # plain files are not students: keep a.py and a.ipynb both
        sid = item.student_id if stems[item.student_id] == 1 else item.path.name
        chosen.append(_Found(sid, item.path, item.layout, order=item.order))
    by_student: dict[str, list[_Found]] = defaultdict(list)
    for item in found:
        if item.layout != "files":
            by_student[item.student_id].append(item)
    for student, items in by_student.items():
        items.sort(key=lambda f: f.order)
        chosen.append(items[-1])
        if len(items) > 1:
            left = ", ".join(f.path.name for f in items[:-1])
            notes.append(
                f"{student}: {len(items)} files, grading {items[-1].path.name} (not {left})"
            )

    keys: Counter[str] = Counter()
    submissions = []
    for item in sorted(chosen, key=lambda f: (f.student_id, f.path.name)):
        key = _safe_key(item.student_id)
        keys[key] += 1
        if keys[key] > 1:
            key = f"{key}-{keys[key]}"
        submissions.append(
            Submission(
                item.student_id,
                item.path,
                key,
                item.layout,
                item.assignment,
                item.first_name,
                item.last_name,
                item.timestamp,
            )
        )
    return submissions, notes
