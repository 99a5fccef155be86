"""Moving an explorer's controls as a learner would: the explorer tests of every lesson (widgets),
and the Chinese edition's test that every move keeps the figure in Chinese (basics/test_language.py)."""
import ipywidgets as W
import numpy as np


def another_value(control):
    """A valid value different from the control's current one."""
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.Select)):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return next(o for o in options if o != control.value)
    if isinstance(control, W.Checkbox) or isinstance(control, W.ToggleButton):
        return not control.value
    if isinstance(control, (W.FloatLogSlider,)):
        return control.base ** ((control.min + control.max) / 2) if \
            not np.isclose(control.value, control.base ** ((control.min + control.max) / 2)) \
            else control.base ** control.max
    if hasattr(control, "min") and hasattr(control, "max"):
        lo, hi = control.min, control.max
        target = lo + (hi - lo) * 0.8
        if isinstance(control, (W.IntSlider, W.BoundedIntText)):
            target = int(round(target))
        if np.isclose(target, control.value):
            target = lo
        return target
    raise AssertionError(f"no rule for {type(control).__name__}")
