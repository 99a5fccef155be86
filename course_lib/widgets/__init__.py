"""Interactive explorers of lessons 00-06, one module per lesson; all are listed in ``EXPLORERS``.

Views only: the lessons' data and computations live in the library below (the fixed examples in
``course_lib.data.examples``, figure helpers in ``course_lib.plotting``); a notebook takes nothing
from here but ``EXPLORERS``.

    from course_lib.widgets import EXPLORERS
    explorer = EXPLORERS["temperature_mask"]()   # build one
    explorer                                      # display it; move the sliders
    explorer.controls["temperature"].value = 0.5  # or drive it from code

    base.py        the one pattern behind every explorer (``Explorer``, ``register``, drawing helpers)
    heads.py       a head view for any multi-head attention (lessons 03, 06)
    lesson00.py .. lesson06.py   each lesson's explorers (``@register(name)`` adds them to EXPLORERS)
    sequences.py   lesson 05's decoder explorer: step through the outputs, watch the weights move
"""
from course_lib.widgets.base import EXPLORERS, Explorer, register  # noqa: F401

# Importing a lesson module registers its explorers.
from course_lib.widgets import lesson00  # noqa: F401,E402
from course_lib.widgets import lesson01, lesson02, lesson03  # noqa: F401,E402
from course_lib.widgets import lesson04  # noqa: F401,E402
from course_lib.widgets import lesson05, lesson06  # noqa: F401,E402
from course_lib.widgets import sequences  # noqa: F401,E402

__all__ = ["EXPLORERS", "Explorer", "register"]
