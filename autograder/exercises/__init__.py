"""The course's exercises: one folder each (see autograder.exercise_spec)."""
