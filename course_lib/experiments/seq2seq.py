"""Lesson 05, section 4: reversing a sequence, attention beside its strongest rivals.

The task: **reverse** a sequence of symbols. An encoder reads the input; a decoder writes the
output one symbol at a time. Without a context, everything the decoder knows about the input is
the encoder's final state: a fixed number of floats, however long the input. With attention, the
decoder's state at every output step is a *query* that looks back over all the encoder's vectors
(Bahdanau, Cho & Bengio, ICLR 2015; the query is the state after this step's update, Luong et al.,
2015). Four variants of one model, trained the same way on the same batches:

    Reverser(attention="dot")      score = scaled dot product of the state with each input vector
    Reverser(attention="fixed")    step i reads input L-1-i, a fixed index given by hand: the
                                   rival that knows the answer's place without any content
    Reverser(attention="uniform")  the same model with weights fixed to 1/L
    Reverser(attention="none")     a recurrent encoder-decoder without attention: only the final
                                   state carries the input (the practitioner's first rival)

Reversal needs only a *position*: output step i copies input L-1-i whatever the symbols are. So the
fixed index solves it as well as attention does; what attention shows is that it *learns* that
index from content-free cues (the place embeddings) and reads it out as the anti-diagonal.

    train, test = make_task(lengths=range(4, 17))   # how to draw training batches; held-out sequences
    model = fit("dot", train, seed=0)                # 250 steps, every step one random length
    scores = evaluate(model, test)                   # per-token and whole-sequence accuracy
    mass = mass_on_source(model, test)               # attention on the position being copied
    claims(scores, mass)                             # the lesson's thresholded sentences
    run_seed(0)                                      # every variant, for tools/sweep.py

The experiment's four verbs (``course_lib/experiments/__init__.py``): :func:`make_task`,
:func:`fit` (a kind of :data:`ATTENTION_KINDS`), :func:`evaluate`, :func:`claims`.

Token ids: 0 = start (BOS), symbols 1..n_symbols.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from course_lib.attention.core import attend
from course_lib.data.shapes import BOS, shift_right
from course_lib.layers.models import count_parameters

ATTENTION_KINDS = ("dot", "fixed", "uniform", "none")
#: How the lesson and the sweep name each variant.
NAMES = {"dot": "attention", "fixed": "fixed index L-1-i", "uniform": "uniform weights",
         "none": "recurrent, no attention"}
#: The shared training budget of every variant (the sweep stores it beside the runs).
BUDGET = {"steps": 250, "batch_size": 64, "lr": 2e-2, "lengths": "4-16", "hidden": 32,
          "hidden_none": 34, "optimizer": "Adam"}


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
def reversal_batch(n: int, length: int, n_symbols: int, generator: torch.Generator):
    """``n`` random sequences of ``length`` symbols and their reversals.

    Returns ``src (n, length)``, ``tgt (n, length)`` int64 with ``tgt[:, i] = src[:, length-1-i]``.
    """
    src = torch.randint(1, n_symbols + 1, (n, length), generator=generator)
    return src, src.flip(1)


def make_task(lengths=range(4, 17), n_test: int = 200, n_symbols: int = 8, seed: int = 12345):
    """``(train, test)``. Training draws a fresh batch of one random length at every step, from
    :func:`fit`'s seed, so ``train`` is what the batches are drawn from: ``{"lengths": (4, ...,
    16), "n_symbols": 8}``. ``test``: held-out sequences ``{length: (src, tgt)}``, ``n_test`` per
    length, drawn from their own ``seed``.

    (At the shortest lengths some test sequences also occur in training: 8**4 = 4096 possible
    sequences of length 4. From length 8 on, a repeat is very unlikely: 8**8 = 16.8 million.)
    """
    generator = torch.Generator().manual_seed(seed)
    test = {length: reversal_batch(n_test, length, n_symbols, generator) for length in lengths}
    return {"lengths": tuple(lengths), "n_symbols": n_symbols}, test


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------
def fixed_index_weights(batch: int, steps: int, length: int, first_step: int = 0) -> torch.Tensor:
    """The fixed-index rival's weights: output step ``i`` puts weight 1 on input ``length-1-i``.

    -> ``(batch, steps, length)`` for steps ``first_step .. first_step + steps - 1``; the same for
    every input of this length (it depends on no symbol, only on the place).
    """
    rows = torch.arange(first_step, first_step + steps)
    if int(rows[-1]) >= length:
        raise ValueError(f"steps: output steps {first_step}..{int(rows[-1])} reach past an input "
                         f"of length {length}; a reversal has one output step per input symbol")
    weights = F.one_hot(length - 1 - rows, length).float()
    return weights.expand(batch, steps, length)


class Reverser(nn.Module):
    """A GRU encoder-decoder, with dot-product attention, a fixed index, uniform weights, or
    no attention.

    * encoder: each symbol's embedding plus a learned embedding of its place counted from the
      end (last symbol 0), read by a bidirectional GRU with ``hidden // 2`` numbers per
      direction: one vector of ``hidden`` numbers per input position;
    * decoder: a GRU that starts from the encoder's two final states and is fed the previous
      output symbol plus a learned embedding of the step number; its state ``s_i`` after step
      ``i`` is the query. (The two position embeddings make "step i copies place i from the end"
      learnable in a few hundred steps. All four variants get them. Inputs may be up to ``max_length`` symbols long.)
    * ``"dot"``: context ``c_i = attend(s_i, memory, memory)`` (scaled dot product, softmax,
      weighted average); ``"fixed"``: ``c_i`` = the memory at input ``L-1-i``
      (:func:`fixed_index_weights`, same parameters); ``"uniform"``: ``c_i`` = the plain mean of
      the memory (same parameters, weights 1/L); ``"none"``: no context;
    * output: ``logits_i = out(tanh(combine([s_i, c_i])))``.

    Shapes: ``src (B, L_in)``, ``tgt_in (B, L_out)`` -> ``(logits (B, L_out, n_symbols + 1),
    weights (B, L_out, L_in))``; ``weights`` is one-hot for "fixed", all 1/L_in for "uniform",
    None for "none".
    """

    def __init__(self, n_symbols: int = 8, hidden: int = 32, embed: int = 16,
                 attention: str = "dot", max_length: int = 32):
        super().__init__()
        if attention not in ATTENTION_KINDS:
            raise ValueError(f"attention={attention!r} is not known; expected one of {ATTENTION_KINDS}")
        if hidden % 2:
            raise ValueError(f"hidden={hidden} must be even (half of it per encoder direction)")
        self.attention, self.vocab = attention, n_symbols + 1
        self.embed = nn.Embedding(self.vocab, embed)
        self.in_position = nn.Embedding(max_length, embed)    # where an input symbol sits
        self.out_position = nn.Embedding(max_length, embed)   # which output step this is
        self.encoder = nn.GRU(embed, hidden // 2, batch_first=True, bidirectional=True)
        self.decoder = nn.GRU(embed, hidden, batch_first=True)
        uses_context = attention != "none"
        self.combine = nn.Linear(2 * hidden if uses_context else hidden, hidden)
        self.out = nn.Linear(hidden, self.vocab)

    def encode(self, src: torch.Tensor):
        """``src (B, L)`` -> ``memory (B, L, hidden)``, decoder start state ``(1, B, hidden)``."""
        if src.dim() != 2:
            raise ValueError(f"src must have shape (B, L), got {tuple(src.shape)}")
        from_end = torch.arange(src.shape[1] - 1, -1, -1)  # last symbol: 0, the one before: 1...
        # final: the last state of each direction, (2, B, hidden/2)
        memory, final = self.encoder(self.embed(src) + self.in_position(from_end))
        return memory, torch.cat([final[0], final[1]], dim=-1)[None]

    def read_out(self, states: torch.Tensor, memory: torch.Tensor, first_step: int = 0):
        """Decoder states ``(B, L_out, hidden)`` of steps ``first_step, first_step + 1, ...`` ->
        logits, and the weights over ``memory``."""
        if self.attention == "dot":
            context, weights = attend(states, memory, memory, kind="scaled_dot")
        elif self.attention == "fixed":
            weights = fixed_index_weights(states.shape[0], states.shape[1], memory.shape[1],
                                          first_step)
            context = weights @ memory                     # the memory at input L-1-i
        elif self.attention == "uniform":
            weights = torch.full(states.shape[:2] + memory.shape[1:2], 1 / memory.shape[1])
            context = weights @ memory                     # the mean of the memory, every step
        else:
            return self.out(torch.tanh(self.combine(states))), None
        return self.out(torch.tanh(self.combine(torch.cat([states, context], -1)))), weights

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor):
        memory, start = self.encode(src)
        steps = self.out_position(torch.arange(tgt_in.shape[1]))
        # teacher forcing: the true previous symbols are known, so all steps run at once
        states, _ = self.decoder(self.embed(tgt_in) + steps, start)
        return self.read_out(states, memory)

    @torch.no_grad()
    def generate(self, src: torch.Tensor):
        """Greedy decoding, feeding back the model's own outputs. -> ``(tokens (B, L),
        weights (B, L, L) or None)``: one output per input symbol."""
        memory, state = self.encode(src)
        token = torch.full_like(src[:, :1], BOS)
        tokens, weights = [], []
        for i in range(src.shape[1]):
            step, state = self.decoder(self.embed(token) + self.out_position.weight[i], state)
            logits, w = self.read_out(step, memory, first_step=i)
            logits[..., BOS] = -torch.inf                  # BOS is never an output symbol
            token = logits.argmax(-1)
            tokens.append(token)
            weights.append(w)
        return torch.cat(tokens, 1), None if weights[0] is None else torch.cat(weights, 1)


# --------------------------------------------------------------------------------------------
# Training and evaluation
# --------------------------------------------------------------------------------------------
def evaluate(model: Reverser, test: dict) -> dict:
    """Greedy decoding on every held-out length: ``{length: (per_token, exact)}``, where
    ``per_token`` is the fraction of output symbols right and ``exact`` the fraction of
    sequences reversed without a single mistake."""
    model.eval()
    scores = {}
    for length, (src, tgt) in test.items():
        tokens, _ = model.generate(src)
        right = tokens == tgt
        scores[length] = (right.float().mean().item(), right.all(1).float().mean().item())
    return scores


def weight_on_source(weights: torch.Tensor) -> torch.Tensor:
    """Weight each output step of a reversal puts on the position it copies.

    ``weights (B, L, L)`` (output step x input position) -> ``(B, L)``: ``weights[:, i, L-1-i]``,
    the anti-diagonal.
    """
    if weights.dim() != 3 or weights.shape[1] != weights.shape[2]:
        raise ValueError(f"weights must have shape (B, L, L), got {tuple(weights.shape)}")
    return weights.flip(-1).diagonal(dim1=-2, dim2=-1)


def mass_on_source(model: Reverser, test: dict) -> dict:
    """Attention on the right input position, per length: ``{length: (mass, beside, uniform)}``.

    ``mass``: the mean of :func:`weight_on_source` over steps and held-out sequences (greedy
    decoding); ``beside``: the mean weight on the two positions next to it, together;
    ``uniform`` = 1/L, what weights that ignore the decoder's state would put on one position.
    """
    result = {}
    for length, (src, _) in test.items():
        _, weights = model.generate(src)
        flipped = weights.flip(-1)                          # flipped[:, i, i]: the copied position
        beside = sum(flipped.diagonal(offset, -2, -1).sum(-1) for offset in (-1, 1)) / length
        result[length] = (weight_on_source(weights).mean().item(), beside.mean().item(), 1 / length)
    return result


def build(model_name: str, n_symbols: int = 8) -> Reverser:
    """A fresh, untrained variant ``model_name`` (in :data:`ATTENTION_KINDS`) for ``n_symbols``
    symbols (:func:`make_task`'s default 8)."""
    if model_name not in ATTENTION_KINDS:
        raise ValueError(f"model_name={model_name!r} is not known; expected one of {ATTENTION_KINDS}")
    return Reverser(n_symbols=n_symbols,
                    hidden=BUDGET["hidden_none"] if model_name == "none" else BUDGET["hidden"],
                    attention=model_name)


def fit(model_name: str, train: dict, seed: int = 0, steps: int = BUDGET["steps"], lr: float = BUDGET["lr"],
        progress: bool = True) -> Reverser:
    """One variant (``model_name`` in :data:`ATTENTION_KINDS`), trained with the shared budget on
    batches drawn as ``train`` (:func:`make_task`) says: the initial weights and the batches depend
    only on ``seed``, so every variant sees the same sequences in the same order. The model
    without a context gets ``hidden_none`` = 34 numbers instead of 32, so that its parameter
    count is within 1% of the others' (it has no context to combine)."""
    torch.manual_seed(seed)
    model = build(model_name, n_symbols=train["n_symbols"])
    _train(model, steps=steps, lengths=train["lengths"], lr=lr, seed=seed, progress=progress,
           desc=NAMES[model_name])
    return model


def _train(model: Reverser, steps: int = 250, lengths=range(4, 17), batch_size: int = 64,
           lr: float = 2e-2, seed: int = 0, progress: bool = True, desc: str = "training"):
    """Adam on fresh random batches; each batch has one length drawn from ``lengths``, so one
    model learns every length. The batches depend only on ``seed`` (and ``model.vocab``).

    Returns ``{"loss": [...]}`` per step (teacher-forced cross-entropy).
    """
    generator = torch.Generator().manual_seed(seed)
    lengths = list(lengths)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    history = {"loss": []}
    bar = tqdm(range(steps), desc=desc, disable=not progress, mininterval=0.5)
    for _ in bar:
        length = lengths[int(torch.randint(len(lengths), (1,), generator=generator))]
        src, tgt = reversal_batch(batch_size, length, model.vocab - 1, generator)
        logits, _ = model(src, shift_right(tgt))
        loss = F.cross_entropy(logits.reshape(-1, model.vocab), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history["loss"].append(loss.item())
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", refresh=False)
    model.eval()
    return history


def fit_every_model(seed: int, lr: dict | None = None, steps: int = BUDGET["steps"],
                    progress: bool = False) -> dict:
    """Every variant trained with ``seed`` on the same batches: ``{kind: model}``. ``lr``: a
    learning rate per kind (default: the budget's for all; the lesson reports the lr tried per
    model on seed 0); ``steps``: a smaller budget for unit tests."""
    train = make_task()[0]
    return {kind: fit(kind, train, seed, steps=steps, lr=(lr or {}).get(kind, BUDGET["lr"]),
                      progress=progress) for kind in ATTENTION_KINDS}


def metrics(models: dict, test: dict) -> dict:
    """``{name: {"parameters", "exact@L", "symbols@L" for every held-out length L}}`` for the
    models of :func:`fit_every_model`, named as the lesson names them (``NAMES``)."""
    runs = {}
    for kind, model in models.items():
        runs[NAMES[kind]] = {"parameters": float(count_parameters(model))}
        for length, (token, exact) in evaluate(model, test).items():
            runs[NAMES[kind]][f"exact@{length}"] = exact
            runs[NAMES[kind]][f"symbols@{length}"] = token
    return runs


def run_seed(seed: int) -> dict:
    """Every variant trained with ``seed`` and evaluated on the held-out sequences: the
    experiment ``tools/sweep.py lesson05_reversal course_lib.experiments.seq2seq:run_seed`` stores."""
    return metrics(fit_every_model(seed), make_task()[1])


#: The other learning rates tried for every variant on seed 0 (``learning_rates``); the budget's
#: 2e-2 is the main sweep's seed 0.
LEARNING_RATES = (5e-3, 1e-2)


def learning_rates(seed: int) -> dict:
    """Every variant trained with each of ``LEARNING_RATES`` (same seed, batches and steps),
    beside the budget's learning rate that :func:`run_seed` uses:
    ``{"name, lr=...": {"exact@4", "exact@12", "exact@16"}}``, so that no rival loses for want of
    a learning rate. Stored by ``tools/sweep.py lesson05_reversal_lr
    course_lib.experiments.seq2seq:learning_rates --seeds 0``."""
    train, test = make_task()
    test = {n: seqs for n, seqs in test.items() if n in (4, 12, 16)}   # the lesson's sets
    runs = {}
    for kind in ATTENTION_KINDS:
        for lr in LEARNING_RATES:
            scores = evaluate(fit(kind, train, seed, lr=lr, progress=False), test)
            runs[f"{NAMES[kind]}, lr={lr:g}"] = {f"exact@{n}": scores[n][1] for n in scores}
    return runs


def claims(run: dict, mass: dict) -> dict:
    """The thresholded claims about the attention model that lesson 05, section 4 trains live:
    ``{sentence: bool}``, at lengths 12 and 16. ``run``: :func:`evaluate` of the trained model;
    ``mass``: :func:`mass_on_source` of it (where its weight went, the second measurement these
    claims read). The rivals' claims are asserted over seeds 0-4 by
    ``tests/claims/test_lesson05_reversal_claims.py``; the margins here were set on seeds 0-2.
    Each sentence is written out whole, lengths included, so that the Chinese edition finds it
    in i18n/zh/course_lib.po.
    """
    return {
        "attention: exact match at length 12 >= 0.9": run[12][1] >= 0.9,
        "attention: exact match at length 16 >= 0.8": run[16][1] >= 0.8,
        "attention on the copied position at length 12 >= 4 x uniform (1/12)": mass[12][0] >= 4 * mass[12][2],
    }
