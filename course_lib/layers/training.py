"""A compact training loop for the small models of lessons 03 and 05-06.

    history = train(model, (inputs, targets), steps=300)
    accuracy(model, (test_inputs, test_targets))

``inputs`` is a tensor, or a tuple of tensors passed to the model as separate arguments.
A model may return its logits alone or ``(logits, anything_else...)``; the rest (attention
weights) is ignored by the loop. Logits ``(B, ..., classes)`` with targets ``(B, ...)`` are fine:
the loss averages over every position (e.g. every step of a decoded sequence).

Everything is deterministic for a given ``seed``: the initial weights are set by the caller
(``torch.manual_seed`` before building the model), the order of the mini-batches by ``seed``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from course_lib.basics.runtime import default_device

__all__ = ["train", "predict", "accuracy", "default_device"]


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def logits_of(output):
    """A model's logits from its output: the output itself, or its first part when the model
    returns ``(logits, weights, ...)`` (every attention model of lessons 05-06 does)."""
    return output[0] if isinstance(output, (tuple, list)) else output


def check_data(data, name="data"):
    """``data = (inputs, targets)`` -> ``(inputs as a tuple of tensors, targets)``, or a
    TypeError/ValueError naming ``name`` unless it is a pair with one target per example.
    Training loops (this one, and lesson 06's scheduled one in experiments/capstone.py) call it."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"{name} must be a pair (inputs, targets), got {type(data).__name__}"
                        + (f" of length {len(data)}" if hasattr(data, "__len__") else ""))
    inputs, targets = _as_tuple(data[0]), data[1]
    for i, x in enumerate(inputs):
        if len(x) != len(targets):
            raise ValueError(f"{name}: input {i} holds {len(x)} examples but targets hold "
                             f"{len(targets)}; expected one target per example")
    return inputs, targets


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy for logits ``(B, ..., classes)`` and integer targets ``(B, ...)``."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def train(model, data, steps=300, batch_size=64, lr=3e-3, weight_decay=0.0, seed=0,
          loss_fn=cross_entropy, device=None, progress=True, desc="training"):
    """Train ``model`` with Adam on random mini-batches of ``data = (inputs, targets)``.

    Returns a history dict: ``loss`` and ``accuracy`` per step (on that step's mini-batch).
    """
    inputs, targets = check_data(data)
    device = device or default_device()
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    order = torch.Generator().manual_seed(seed)  # the same batches in the same order every run
    n = len(targets)
    history = {"loss": [], "accuracy": []}
    bar = tqdm(range(steps), desc=desc, disable=not progress, mininterval=0.5)
    for _ in bar:
        idx = torch.randint(n, (min(batch_size, n),), generator=order)
        batch = [x[idx].to(device) for x in inputs]
        y = targets[idx].to(device)
        logits = logits_of(model(*batch))
        loss = loss_fn(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history["loss"].append(loss.item())
        history["accuracy"].append((logits.argmax(-1) == y).float().mean().item())
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", refresh=False)
    model.eval()
    return history


@torch.no_grad()
def predict(model, inputs, batch_size=256, device=None):
    """Run ``model`` in eval mode on ``inputs`` (tensor or tuple) in batches, on the CPU at the end.

    Returns the model's output with every tensor concatenated over the batch: a tensor, or a tuple
    like ``(logits, weights)`` (lists of tensors, e.g. one per layer, are concatenated per item).
    """
    inputs = _as_tuple(inputs)
    device = device or default_device()
    model.to(device).eval()
    outputs = []
    for start in range(0, len(inputs[0]), batch_size):
        out = model(*(x[start : start + batch_size].to(device) for x in inputs))
        outputs.append(out)

    def cat(parts):
        first = parts[0]
        if isinstance(first, torch.Tensor):
            return torch.cat([p.cpu() for p in parts])
        if isinstance(first, list):
            return [cat([p[i] for p in parts]) for i in range(len(first))]
        return tuple(cat([p[i] for p in parts]) for i in range(len(first)))

    return cat(outputs)


def accuracy(model, data, batch_size=256, device=None) -> float:
    """Fraction of correct predictions (every position counts, for sequence outputs)."""
    inputs, targets = check_data(data)
    logits = logits_of(predict(model, inputs, batch_size, device))
    return (logits.argmax(-1) == targets).float().mean().item()
