"""One module per exercise notebook: ``EXERCISE`` (the notebook stem) and its ``PARTS``."""

from coursekit.exercises.parts import ex01, ex02, ex03, ex04, ex05, ex06

MODULES = (ex01, ex02, ex03, ex04, ex05, ex06)
