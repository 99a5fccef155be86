"""The weights lessons 05 and 06 load instead of training (course_lib/experiments/weights/) are
what training gives: every call of tools/ship_weights.py's ``lesson_calls()`` is trained again here
at one torch thread (the setting the files were made with) and compared parameter by parameter,
and the loaded model evaluates as the freshly trained one does.

Training at one thread is deterministic on one machine and torch build, so the comparison is exact
up to 1e-6; on another CPU a different summation order can move the weights: then re-run
``python tools/ship_weights.py`` there and this test passes again.
"""
import pytest
import torch

import ship_weights
from course_lib.experiments import shipped

CALLS = ship_weights.lesson_calls()


@pytest.mark.parametrize("threads", [1], indirect=True)
@pytest.mark.parametrize("call", CALLS, ids=[ship_weights.describe(c) for c in CALLS])
def test_training_gives_the_shipped_weights(call, threads):
    experiment, model_name, args, kwargs = call
    loaded = shipped.load(experiment, model_name, *args, **kwargs)
    assert loaded is not None, "no current shipped weights: run python tools/ship_weights.py"
    trained = experiment.fit(model_name, *args, progress=False, **kwargs)
    fresh, stored = trained.state_dict(), loaded.state_dict()
    assert fresh.keys() == stored.keys()
    gaps = {k: (fresh[k] - stored[k]).abs().max().item() for k in fresh if fresh[k].numel()}
    assert max(gaps.values()) <= 1e-6, {k: v for k, v in gaps.items() if v > 1e-6}
    if hasattr(trained, "losses"):
        assert torch.allclose(torch.tensor(trained.losses, dtype=torch.float64),
                              torch.tensor(loaded.losses, dtype=torch.float64), atol=1e-6)
