"""What every wing stands on (all lessons): no attention here, only the ground rules.

    arrays.py     the NumPy/torch door: NumPy in -> NumPy out, and the argument checks whose
                  messages name the argument, the shape seen and what was expected
    language.py   English or Chinese (中文): ``tr`` for feedback and figures, ``say`` for printed sentences
    threads.py    how many CPU threads torch may use here (``use_course_threads``)
    runtime.py    ``seed_everything`` and ``default_device``: the same numbers on every run, CUDA if present
    moved.py      where a module went when course_lib was arranged into wings: an old import says so
"""
