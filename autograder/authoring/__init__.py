"""Tools for instructors who write exercises: `autograder new-exercise NAME` (scaffold.py) and
the nbgrader notebook it writes (notebook.py)."""
