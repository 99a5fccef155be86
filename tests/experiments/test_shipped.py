"""course_lib/experiments/shipped.py: a lesson loads the weights of exactly its call, or trains.

Fast checks (no training of a lesson model): every shipped file belongs to a current call of
tools/ship_weights.py's table, and the fingerprint / fallback logic on a toy experiment. That the
files hold what training gives is tests/claims/test_shipped_weights.py (it trains).
"""
import importlib.util
import sys
import textwrap

import pytest
import torch

import ship_weights
from course_lib.experiments import shipped

TOY = '''
"""A toy experiment for the tests: one linear layer trained for a few steps."""
import torch
from torch import nn

CALLS = []

def build(model_name):
    return nn.Linear(3, 2)

def fit(model_name, train, seed=0, steps=5, progress=True):
    CALLS.append(model_name)
    torch.manual_seed(seed)
    model = build(model_name)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        loss = model(train[0]).pow(2).mean()
        optimizer.zero_grad(); loss.backward(); optimizer.step()
    model.losses = [loss.item()]
    return model.eval()
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A file-backed toy experiment module (its source is part of the fingerprint) whose weights
    go to a scratch folder."""
    path = tmp_path / "toy_experiment.py"
    path.write_text(textwrap.dedent(TOY))
    spec = importlib.util.spec_from_file_location("toy_experiment", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["toy_experiment"] = module
    spec.loader.exec_module(module)
    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path / "weights")
    monkeypatch.delenv("COURSE_RETRAIN", raising=False)
    yield module
    del sys.modules["toy_experiment"]


def test_every_lesson_call_has_current_weights_and_no_file_is_orphaned():
    calls = ship_weights.lesson_calls()
    paths = {shipped.weights_path(e, m, *a, **k) for e, m, a, k in calls}
    assert len(paths) == len(calls), "two calls would share one file"
    on_disk = set(shipped.WEIGHTS_DIR.glob("*.pt"))
    assert on_disk == paths, f"files without a call: {on_disk - paths}; calls without a file: {paths - on_disk}"
    for experiment, model_name, args, kwargs in calls:
        model = shipped.load(experiment, model_name, *args, **kwargs)
        assert model is not None and model.shipped and not model.training, (
            f"{ship_weights.describe((experiment, model_name, args, kwargs))}: the file is stale "
            "(the experiment's code or data changed): run python tools/ship_weights.py")
        size = sum(p.numel() for p in model.parameters())
        assert size > 0


def test_the_same_call_by_other_spellings_has_one_fingerprint(toy):
    x = torch.arange(12.0).reshape(4, 3)
    fp = shipped.fingerprint(toy, "a", (x,))
    assert shipped.fingerprint(toy, "a", (x,), seed=0) == fp               # a default spelled out
    assert shipped.fingerprint(toy, "a", train=(x.clone(),), progress=False) == fp   # by value
    assert shipped.fingerprint(toy, "b", (x,)) != fp
    assert shipped.fingerprint(toy, "a", (x,), seed=1) != fp
    changed = x.clone()
    changed[3, 2] += 1e-3
    assert shipped.fingerprint(toy, "a", (changed,)) != fp                 # one number of the data
    assert shipped.fingerprint(toy, "a", (x.double(),)) != fp              # the dtype


def test_a_shipped_call_loads_what_training_gave_without_training(toy):
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    path = shipped.ship(toy, "a", (x,))
    assert path.name == "toy_experiment_a.pt" and toy.CALLS == ["a"]
    trained = toy.fit("a", (x,))
    loaded = shipped.fit_or_load(toy, "a", (x,), progress=False)
    assert toy.CALLS == ["a", "a"]                                          # loading trained nothing
    assert loaded.shipped and not loaded.training
    assert all(torch.equal(a, b) for a, b in zip(trained.state_dict().values(), loaded.state_dict().values()))
    assert loaded.losses == pytest.approx(trained.losses)


def test_another_call_a_changed_experiment_or_retrain_trains_here(toy, monkeypatch):
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    shipped.ship(toy, "a", (x,))
    toy.CALLS.clear()
    assert not shipped.fit_or_load(toy, "a", (x,), steps=6).shipped         # another budget
    assert not shipped.fit_or_load(toy, "a", (x + 1,)).shipped              # other data
    assert not shipped.fit_or_load(toy, "a", (x,), retrain=True).shipped
    monkeypatch.setenv("COURSE_RETRAIN", "1")
    assert not shipped.fit_or_load(toy, "a", (x,)).shipped
    assert toy.CALLS == ["a"] * 4
    monkeypatch.setenv("COURSE_RETRAIN", "0")
    assert shipped.fit_or_load(toy, "a", (x,)).shipped
    # the experiment's own code is part of the call: an edited module no longer matches its file
    monkeypatch.setattr(shipped.inspect, "getsource", lambda module: TOY + "\n# steps = 6\n")
    assert not shipped.fit_or_load(toy, "a", (x,)).shipped


def test_errors_name_the_argument(toy):
    with pytest.raises(TypeError, match="experiment: expected an experiment module"):
        shipped.fit_or_load("clutter", "attention", None)
    with pytest.raises(TypeError, match="toy_experiment.fit does not take these arguments"):
        shipped.fit_or_load(toy, "a", None, epochs=3)
