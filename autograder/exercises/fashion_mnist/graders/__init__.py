"""Fashion-MNIST's rubric: one pytest test per rubric line (see autograder.scoring)."""
