"""Where a module went when course_lib was arranged into wings (every lesson's first import).

A learner's notebook written before the update may still say ``from course_lib.weight_rules
import entropy``. Python's own error ("No module named course_lib.weight_rules") would not say
what to do; this one names the new home and the update's ``.updated.ipynb`` beside the notebook:

    ModuleNotFoundError: course_lib.weight_rules moved to course_lib.attention.weight_rules ...

Only the *old names* are caught, by a finder that Python asks after the usual ones have found
nothing (``sys.meta_path``): every existing module imports exactly as before.
"""
from __future__ import annotations

import importlib.abc
import sys

# old module (under course_lib.) -> its home since the wings (CONTRIBUTING.md, "Layout")
MOVED = {
    "_arrays": "basics.arrays", "language": "basics.language", "threads": "basics.threads",
    "_numerics": "attention.numerics", "core": "attention.core", "masks": "attention.masks",
    "weight_rules": "attention.weight_rules", "positions": "attention.positions",
    "kernel_regression": "attention.kernel_regression", "words": "attention.words",
    "images": "data.images", "marks": "data.marks",
    "_image_args": "filters.image_args", "nonlocal_means": "filters.nonlocal_means",
    "filter_matrices": "filters.matrices", "skimage_reference": "filters.skimage_reference",
    "conv_attention": "locality.conv_attention", "costs": "locality.costs", "memory": "locality.memory",
    "reach": "locality.reach", "mixing": "locality.mixing",
    "modules": "layers.modules", "models": "layers.models", "training": "layers.training",
    "sweeps": "experiments.sweeps", "trained_heads": "experiments.trained_heads",
    "clutter": "experiments.clutter", "video": "experiments.video",
    "visual_recall": "experiments.visual_recall", "seq2seq": "experiments.seq2seq",
    "recall": "experiments.recall", "capstone": "experiments.capstone",
}


def moved_message(old: str) -> str:
    """The sentence for ``course_lib.<old>``: where it went, and what to do about the notebook."""
    return (f"course_lib.{old} moved to course_lib.{MOVED[old]} when the course was updated "
            f"(course_lib is now arranged by idea: CONTRIBUTING.md, 'Layout'). If this notebook is "
            f"your own copy from before the update, `make update` saved the new version beside it "
            f"as NAME.updated.ipynb: copy your answers into that one (some functions were renamed "
            f"too), or change this import to course_lib.{MOVED[old]}.")


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Asked last by the import system: refuses an old module name with :func:`moved_message`."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, old = fullname.partition(".")
        if package == "course_lib" and old in MOVED:
            # no ``name=``: `from course_lib import capstone` would then swallow this error and
            # say only "cannot import name 'capstone'" (importlib's _handle_fromlist)
            raise ModuleNotFoundError(moved_message(old))
        return None                                  # not an old name: not ours to answer


def install() -> None:
    """Put the finder at the end of ``sys.meta_path`` once (``import course_lib`` calls this)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
