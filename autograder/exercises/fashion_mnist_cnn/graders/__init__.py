"""The convolutional exercise's rubric: one pytest test per rubric line (see autograder.scoring)."""
