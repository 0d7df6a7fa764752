"""The minipeft lessons: one script per step of the story, meant to be read in order.

Run them all with ``python -m lessons``, one with ``python -m lessons 3``, or list them
with ``python -m lessons --list``. Each script also runs on its own:
``python lessons/01_autograd.py --quick``. Figures and results go to ``figures/``.
"""
