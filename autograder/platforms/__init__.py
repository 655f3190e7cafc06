"""Where courses already grade: GitHub Classroom, GitLab CI (JUnit) and Gradescope.

`github` writes the GitHub Classroom grading reporter's step outputs and a step summary;
`gradescope` builds the autograder zip and runs inside Gradescope's container; `fetch` gets the
official data files for any of them. The copy-and-go templates live in `autograder/recipes/`.
"""

from __future__ import annotations

from pathlib import Path

RECIPES = Path(__file__).resolve().parents[1] / "recipes"

# name -> (file inside recipes/, where it goes in the course's repository or zip)
RECIPE_FILES = {
    "github": ("github/classroom.yml", ".github/workflows/classroom.yml"),
    "gitlab": ("gitlab/gitlab-ci.yml", ".gitlab-ci.yml"),
    "gradescope-visibility": ("gradescope/visibility.json", "visibility.json"),
}


def recipe_path(name: str) -> Path:
    """The template called `name` (see RECIPE_FILES)."""
    if name not in RECIPE_FILES:
        raise ValueError(f"unknown recipe {name!r}; recipes are {', '.join(RECIPE_FILES)}")
    return RECIPES / RECIPE_FILES[name][0]
