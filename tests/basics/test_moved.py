"""A notebook from before the wings (issue 19) that imports an old module name is told where it went."""
import importlib
import subprocess
import sys

import pytest

import course_lib as cl
from course_lib.basics.moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_name_says_where_it_went(old):
    with pytest.raises(ModuleNotFoundError) as caught:
        importlib.import_module(f"course_lib.{old}")
    message = str(caught.value)
    assert f"course_lib.{MOVED[old]}" in message and "updated.ipynb" in message


@pytest.mark.parametrize("old", sorted(MOVED))
def test_every_new_home_exists(old):
    assert importlib.import_module(f"course_lib.{MOVED[old]}").__name__ == f"course_lib.{MOVED[old]}"


def test_the_old_ways_of_writing_an_import_all_get_the_sentence():
    # `from course_lib import capstone` and `cl.weight_rules` as a learner's old cells wrote them
    code = ("import course_lib as cl\n"
            "try:\n    from course_lib import capstone\nexcept ImportError as e:\n    print('A', e)\n"
            "try:\n    from course_lib.weight_rules import entropy\nexcept ImportError as e:\n    print('B', e)\n"
            "try:\n    cl.weight_rules\nexcept AttributeError as e:\n    print('C', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "A course_lib.capstone moved to course_lib.experiments.capstone" in out
    assert "B course_lib.weight_rules moved to course_lib.attention.weight_rules" in out
    assert "C course_lib.weight_rules moved to course_lib.attention.weight_rules" in out


def test_modules_that_exist_import_as_before():
    assert importlib.import_module("course_lib.attention.weight_rules").entropy
    assert cl.attend is importlib.import_module("course_lib.attention.core").attend
    with pytest.raises(ModuleNotFoundError, match="No module named 'course_lib.no_such_thing'"):
        importlib.import_module("course_lib.no_such_thing")
