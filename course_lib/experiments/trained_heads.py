"""Lesson 03: heads that learn different jobs. A task, a one-layer model, and the measurements.

The task. A sequence holds the eight letters A-H in a random order, and each letter carries a
random digit 0-9 (the token ``C7`` is the letter C carrying 7). At every position the model must
report two digits:

    job 1, by position: the digit one place to the left (the first position wraps to the last);
    job 2, by content:  the digit carried by the next letter of the alphabet (after H comes A),
                        wherever in the sequence that letter is.

Job 1 needs the same offset for every input; job 2 needs a look-up that depends on the letters.
A query that must fetch two digits from two places needs two weight distributions.

The model: token = letter embedding + digit embedding + position embedding; one
:class:`course_lib.MultiHeadAttention` layer; its output added to the token (a residual); a linear
read-out of the two digits. There is no MLP: one head that splits its weight between two positions
delivers the *sum* of two digits' vectors, and a linear read-out cannot tell which digit came from
where. So the task needs two heads, and each must take one job.

Controls, at equal parameters and training steps:
  * one head: ``MultiHeadAttention``'s parameter count does not depend on the number of heads;
  * uniform weights: the query projection frozen at zero, so every score is 0 and every weight 1/8.

    train, test = make_task()                         # 8000 training, 2000 held-out sequences
    model = fit("2 heads", train, seed=0)             # a few seconds on a CPU, with a progress bar
    result = evaluate(model, test)                    # accuracy per job, weights, where each job looks
    head_roles(result)                                # (heads, 2): weight each head puts on each job's source
    evaluate(without_head(model, 0), test)            # the ablation: head 0 removed
    claims({"2 heads": result, "1 head": ..., "uniform weights": ..., "without head 0": ...})

The experiment's four verbs (``course_lib/experiments/__init__.py``): :func:`make_task`,
:func:`fit` (a name of :data:`MODELS`), :func:`evaluate`, :func:`claims`.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from course_lib.attention.core import MultiHeadAttention
from course_lib.layers.training import predict, train as train_loop

LETTERS = "ABCDEFGH"
N = len(LETTERS)     # positions = letters per sequence
DIGITS = 10
JOBS = ("previous position", "next letter")
TEST_SEED = 10_000   # the test sequences: never used for training
#: The lesson's model and its two controls (same parameters, data and steps).
MODELS = ("2 heads", "1 head", "uniform weights")


def two_job_sequences(n_seq: int, seed: int) -> dict:
    """``n_seq`` random sequences and their answers (all tensors, first axis = sequence).

    Returns a dict with ``letters`` and ``digits`` ``(n_seq, N)`` (letter indices 0-7, digits
    0-9), ``targets`` ``(n_seq, N, 2)``: the two digits each position must report, and
    ``sources`` ``(n_seq, N, 2)``: the positions those digits come from (job 1, job 2).
    """
    g = torch.Generator().manual_seed(seed)
    letters = torch.argsort(torch.rand(n_seq, N, generator=g), dim=1)   # a shuffle of A-H
    digits = torch.randint(DIGITS, (n_seq, N), generator=g)
    previous = (torch.arange(N) - 1) % N
    where = torch.argsort(letters, dim=1)               # where[b, l]: position of letter l
    next_letter = torch.gather(where, 1, (letters + 1) % N)
    sources = torch.stack([previous.expand(n_seq, N), next_letter], dim=-1)
    targets = torch.gather(digits[:, :, None].expand(-1, -1, 2), 1, sources)
    return {"letters": letters, "digits": digits, "targets": targets, "sources": sources}


def make_task(n_train: int = 8000, n_test: int = 2000, seed: int = 0) -> tuple[dict, dict]:
    """``(train, test)``: ``n_train`` sequences drawn with ``seed`` and ``n_test`` held-out ones
    drawn with :data:`TEST_SEED` (never used for training); each a :func:`two_job_sequences` dict."""
    return two_job_sequences(n_train, seed), two_job_sequences(n_test, TEST_SEED)


def token_labels(letters, digits) -> list[str]:
    """``["C7", "A3", ...]`` for one sequence."""
    return [f"{LETTERS[int(l)]}{int(d)}" for l, d in zip(letters, digits)]


class TwoJobModel(nn.Module):
    """Embeddings, one multi-head self-attention layer, a residual and a linear read-out.

    ``attention``: any layer ``x (B, N, embed_dim) -> (output, weights (B, heads, N, N))`` with
    ``q_proj`` and ``out_proj`` (default: ``course_lib.MultiHeadAttention(embed_dim, num_heads)``;
    the lesson-03 exercise plugs in the learner's own). ``uniform=True`` freezes the query
    projection at zero: every weight is then 1/N (the control without attention).

    ``forward(letters, digits)`` -> ``(logits (B, N, 2, DIGITS), weights (B, heads, N, N))``.
    """

    def __init__(self, num_heads: int = 2, embed_dim: int = 32, uniform: bool = False,
                 attention: nn.Module | None = None):
        super().__init__()
        self.letter = nn.Embedding(N, embed_dim)
        self.digit = nn.Embedding(DIGITS, embed_dim)
        self.position = nn.Embedding(N, embed_dim)
        self.attention = attention if attention is not None else MultiHeadAttention(embed_dim, num_heads)
        self.num_heads = num_heads
        self.readout = nn.Linear(embed_dim, 2 * DIGITS)
        if uniform:
            for p in self.attention.q_proj.parameters():
                p.requires_grad_(False)
                p.zero_()

    def forward(self, letters, digits):
        x = self.letter(letters) + self.digit(digits) + self.position.weight
        y, weights = self.attention(x)
        logits = self.readout(x + y).unflatten(-1, (2, DIGITS))
        return logits, weights


def fit(model_name: str, train: dict, seed: int = 0, steps: int = 200,
        attention: nn.Module | None = None, progress: bool = True) -> TwoJobModel:
    """Build (seeded) and train the model ``model_name`` of :data:`MODELS` on ``train`` (a
    :func:`two_job_sequences` dict): Adam, ``steps`` mini-batches of 128. ``"1 head"`` and
    ``"uniform weights"`` (two heads, queries frozen at zero) are the controls: every model gets
    the same data, steps and parameter count. ``attention`` replaces the attention layer (the
    lesson-03 exercise trains the learner's own)."""
    if model_name not in MODELS:
        raise ValueError(f"model_name={model_name!r} is not known; expected one of {MODELS}")
    torch.manual_seed(seed)
    model = TwoJobModel(1 if model_name == "1 head" else 2, uniform=model_name == "uniform weights",
                        attention=attention)
    train_loop(model, ((train["letters"], train["digits"]), train["targets"]), steps=steps,
          batch_size=128, lr=2e-2, seed=seed, progress=progress, desc=f"training, {model_name}")
    return model.cpu().eval()


_TRAINED: dict[int, TwoJobModel] = {}


def trained_model(seed: int = 0) -> TwoJobModel:
    """The two-head model of the lesson, trained once per seed and remembered (the explorer and
    the notebook share it). Treat it as read-only: :func:`without_head` returns a copy."""
    if int(seed) not in _TRAINED:
        _TRAINED[int(seed)] = fit("2 heads", make_task(seed=int(seed))[0], seed=int(seed))
    return _TRAINED[int(seed)]


def evaluate(model: TwoJobModel, test: dict) -> dict:
    """Accuracy on ``test`` (a :func:`two_job_sequences` dict; :func:`make_task`'s held-out set):
    ``per_job`` (2,) (fraction of positions whose digit for that job is right), ``both`` (both
    digits right); plus the data and the attention weights ``(n_seq, heads, N, N)`` for
    :func:`head_roles`."""
    logits, weights = predict(model, (test["letters"], test["digits"]))
    right = logits.argmax(-1) == test["targets"]            # (n_seq, N, 2)
    return {"per_job": right.float().mean((0, 1)), "both": right.all(-1).float().mean().item(),
            "weights": weights, **test}


def head_roles(result: dict) -> torch.Tensor:
    """``(heads, 2)``: the mean weight each head puts on the source of job 1 (the previous
    position) and of job 2 (the next letter's position). Queries whose two sources coincide
    (the next letter happens to sit just to the left) are left out, so the two columns do not
    share any weight."""
    weights, sources = result["weights"], result["sources"]          # (B, H, N, N), (B, N, 2)
    index = sources[:, None, :, :].expand(-1, weights.shape[1], -1, -1)   # (B, H, N, 2)
    on_source = torch.gather(weights, 3, index)                      # (B, H, N, 2)
    distinct = (sources[..., 0] != sources[..., 1])[:, None, :, None]
    return (on_source * distinct).sum((0, 2)) / distinct.sum((0, 2))


def without_head(model: TwoJobModel, head: int) -> TwoJobModel:
    """A copy of ``model`` whose head ``head`` contributes nothing: its block of the output
    projection's input columns is set to zero (its attention still runs; nothing reads it)."""
    if not 0 <= head < model.num_heads:
        raise ValueError(f"head must be in [0, {model.num_heads - 1}] for a model with "
                         f"{model.num_heads} heads, got {head}")
    ablated = copy.deepcopy(model)
    out_proj = ablated.attention.out_proj
    width = out_proj.weight.shape[1] // model.num_heads
    with torch.no_grad():
        out_proj.weight[:, head * width:(head + 1) * width] = 0.0
    return ablated


def claims(run: dict) -> dict:
    """The lesson's claims as ``{sentence: holds}``, from ``run = {name: evaluate(...)}`` with the
    models of :data:`MODELS` and, for the ablation, ``"without head 0"`` / ``"without head 1"``
    (:func:`without_head` of the 2-head model). A claim is left out when a model it reads is
    missing: the notebook states the 2-head model's claims where it trains it, the others later.
    tests/claims/test_lesson03_heads_claims.py asserts every line for seeds 0-4 at 1 and 4 threads.
    """
    result = {}
    two, one, flat = run.get("2 heads"), run.get("1 head"), run.get("uniform weights")
    if two is not None:
        roles = head_roles(two)                                  # (heads, jobs)
        position_head = int(roles[:, 0].argmax())
        letter_head = 1 - position_head
        result.update({
            "both jobs right on at least 98% of positions": bool(two["per_job"].min() >= 0.98),
            "both digits right on at least 97% of positions": bool(two["both"] >= 0.97),
            "one head puts >= 0.9 of its weight on the previous position and <= 0.1 on the next letter":
                bool(roles[position_head, 0] >= 0.9 and roles[position_head, 1] <= 0.1),
            "the other head puts >= 0.9 on the next letter and <= 0.1 on the previous position":
                bool(roles[letter_head, 1] >= 0.9 and roles[letter_head, 0] <= 0.1),
        })
        if all(f"without head {h}" in run for h in range(2)):
            no_position = run[f"without head {position_head}"]["per_job"]
            no_letter = run[f"without head {letter_head}"]["per_job"]
            result["without the position head: job 1 falls to <= 0.4, job 2 stays >= 0.95"] = \
                bool(no_position[0] <= 0.4 and no_position[1] >= 0.95)
            result["without the letter head: job 2 falls to <= 0.4, job 1 stays >= 0.95"] = \
                bool(no_letter[1] <= 0.4 and no_letter[0] >= 0.95)
        if one is not None:
            result["two heads get both digits right on >= 0.45 more of the positions than one head"] = \
                bool(two["both"] - one["both"] >= 0.45)
    if one is not None:
        result["one head: both digits right on <= 50% of positions"] = bool(one["both"] <= 0.5)
        result["one head: one job done (>= 0.8), the other not (<= 0.45)"] = \
            bool(one["per_job"].max() >= 0.8 and one["per_job"].min() <= 0.45)
    if flat is not None:
        result["uniform weights: both digits right on <= 20%, each job <= 0.45"] = \
            bool(flat["both"] <= 0.2 and flat["per_job"].max() <= 0.45)
    return result
