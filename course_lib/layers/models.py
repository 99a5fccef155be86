"""Tiny models and weight-map measurements for lessons 05-06, built from ``modules.py``.

Each one trains in seconds on a laptop CPU and returns its attention weights next to its
predictions, so that we can check *where* it looked:

    mass_on_mask              how much attention lands on a ground-truth region
    weights_on_pixels         a map over 8 x 8 windows spread onto the pixels they read
    max_pooling_map           where global max pooling reads: the share of channels per position
    AdditiveAttentionDecoder  encoder + decoder whose attention moves at every step (sequences)

Lesson 05's digit finder and video model live in ``experiments/clutter.py`` and
``experiments/video.py``; lesson 06's CNN and ViT in ``experiments/capstone.py``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_lib.attention.core import AdditiveScore, attend
from course_lib.basics.arrays import require_shape
from course_lib.data.digits import DIGIT


def count_parameters(model: nn.Module, *, include_frozen: bool = False) -> int:
    """Number of trainable numbers in ``model`` (the budget rivals are matched on, lessons 05-06).

    ``include_frozen=True`` counts frozen parameters too (``requires_grad=False``): lesson 03's
    uniform-weights control freezes its query projection at zero, yet holds as many numbers as
    the model it is compared with.
    """
    return sum(p.numel() for p in model.parameters() if include_frozen or p.requires_grad)


def count_macs(model: nn.Module, *inputs) -> int:
    """Multiply-accumulates for one forward pass on ``inputs`` (counted by torch's FlopCounterMode).

    Counts matrix products and convolutions (including attention's ``q @ k`` and ``w @ v``), the
    operations that dominate the cost; element-wise work (ReLU, softmax, norms) is left out.
    Divide by the batch size for a per-example number.
    """
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*inputs)
    return counter.get_total_flops() // 2  # one multiply-accumulate = 2 floating point operations


# --------------------------------------------------------------------------------------------
# Images: find the target in clutter
# --------------------------------------------------------------------------------------------
def mass_on_mask(weights: torch.Tensor, masks: torch.Tensor, rim: int = 0) -> tuple[float, float]:
    """How much attention lands on the ground-truth region, and how much chance would put there.

    Args:
        weights: ``(B, h, w)`` attention maps, each summing to 1.
        masks: ``(B, H, W)`` boolean ground truth at pixel resolution (H, W multiples of h, w).
            A cell of the ``h x w`` grid counts as "on the region" if any of its pixels is.
        rim: grow the region by this many pixels first (a patch whose features see one pixel
            beyond its borders already sees a target next to it).

    Returns:
        ``(mass, chance)``: the mean over images of the weight on the region, and the mean
        fraction of cells on the region (what uniform weights would give).
    """
    require_shape(weights, "weights", 3, "(B, h, w)")
    require_shape(masks, "masks", 3, "(B, H, W)", B=weights.shape[0])
    region = masks[:, None].float()
    if rim:
        region = F.max_pool2d(region, 2 * rim + 1, stride=1, padding=rim)
    factor = masks.shape[-1] // weights.shape[-1]
    cells = F.max_pool2d(region, factor)[:, 0] > 0  # (B, h, w)
    mass = (weights * cells).flatten(1).sum(1).mean().item()
    chance = cells.flatten(1).float().mean(1).mean().item()
    return mass, chance


def weights_on_pixels(weights: torch.Tensor) -> torch.Tensor:
    """Spread each 8 x 8 window's weight evenly over the 64 pixels it reads (lesson 05, sections 2-3).

    ``(B, h, w)`` -> ``(B, h+7, w+7)``; each map still sums to 1, so it can be compared with a
    box: uniform weights put (box area / canvas area) of the mass on any box, up to the border.
    """
    spread = torch.ones(1, 1, DIGIT, DIGIT, dtype=weights.dtype) / DIGIT**2
    return F.conv_transpose2d(weights[:, None], spread)[:, 0]


def max_pooling_map(tokens: torch.Tensor) -> torch.Tensor:
    """Where global max pooling reads: ``(B, n, dim)`` -> ``(B, n)``, the share of the ``dim``
    channels whose largest value lies at each position (each row sums to 1; lesson 05, section 2).

    Max pooling selects, like the hard limit of attention, but channel by channel: this map shows
    how many channels agree on a place, which one attention weight for all channels never needs.
    """
    require_shape(tokens, "tokens", 3, "(B, n, dim)")
    winners = tokens.argmax(1)                                              # (B, dim)
    return F.one_hot(winners, tokens.shape[1]).to(tokens.dtype).mean(1)


# --------------------------------------------------------------------------------------------
# Sequences: attention that moves with the decoder's state
# --------------------------------------------------------------------------------------------
class AdditiveAttentionDecoder(nn.Module):
    """An encoder-decoder with attention, for toy sequences: the additive score of Bahdanau et
    al. (2015); the query is the state *after* this step's update, as in Luong et al. (2015).

    The encoder (a bidirectional GRU) gives one vector per input position. At every output step
    the decoder's current state is the *query*: :class:`~course_lib.attention.core.AdditiveScore` compares
    it with every input vector, softmax turns the scores into weights, and the weighted average
    (the context) helps predict the next symbol. The state changes at every step, so the weights
    do too: one row of the alignment matrix per step.

    Shapes: ``src (B, L_in)`` symbols, ``tgt_in (B, L_out)`` (the target shifted right, starting
    with BOS) -> ``(logits (B, L_out, n_symbols + 1), weights (B, L_out, L_in))``.
    """

    def __init__(self, n_symbols: int = 8, hidden: int = 32):
        super().__init__()
        vocab = n_symbols + 1  # symbols 1..n_symbols and BOS = 0
        self.embed = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(64, hidden)  # lets the encoder tell equal symbols apart
        self.encoder = nn.GRU(hidden, hidden // 2, batch_first=True, bidirectional=True)
        self.init_state = nn.Linear(hidden, hidden)
        self.cell = nn.GRUCell(2 * hidden, hidden)
        self.score = AdditiveScore(hidden, hidden, d_hidden=hidden)
        self.out = nn.Linear(2 * hidden, vocab)
        self.vocab = vocab

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        require_shape(src, "src", 2, "(B, L)")
        positions = torch.arange(src.shape[1], device=src.device)
        memory, _ = self.encoder(self.embed(src) + self.position(positions))
        return memory                                                   # (B, L_in, hidden)

    def step(self, token, state, context, memory):
        """One decoder step: update the state, attend with it, predict the next symbol."""
        state = self.cell(torch.cat([self.embed(token), context], dim=-1), state)
        ctx, w = attend(state[:, None], memory, memory, kind=self.score)  # query = the state
        context = ctx[:, 0]
        return self.out(torch.cat([state, context], dim=-1)), state, context, w[:, 0]

    def start(self, memory):
        state = torch.tanh(self.init_state(memory.mean(dim=1)))
        return state, torch.zeros_like(state)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor):
        memory = self.encode(src)
        state, context = self.start(memory)
        logits, weights = [], []
        for i in range(tgt_in.shape[1]):          # teacher forcing: feed the true previous symbol
            out, state, context, w = self.step(tgt_in[:, i], state, context, memory)
            logits.append(out)
            weights.append(w)
        return torch.stack(logits, 1), torch.stack(weights, 1)

    @torch.no_grad()
    def generate(self, src: torch.Tensor, length: int | None = None, bos: int = 0):
        """Greedy decoding: feed back the model's own predictions. -> ``(tokens, weights)``.

        ``src`` may live on any device; the results come back on the CPU (like ``training.predict``).
        """
        src = src.to(next(self.parameters()).device)  # training may have moved us to the GPU
        memory = self.encode(src)
        state, context = self.start(memory)
        token = torch.full_like(src[:, 0], bos)
        tokens, weights = [], []
        for _ in range(length or src.shape[1]):
            out, state, context, w = self.step(token, state, context, memory)
            out[:, bos] = -torch.inf                  # BOS is never an output symbol
            token = out.argmax(-1)
            tokens.append(token)
            weights.append(w)
        return torch.stack(tokens, 1).cpu(), torch.stack(weights, 1).cpu()
