"""Tiny models for lessons 05-06, built from the attention modules in ``modules.py``.

Each one trains in seconds on a laptop CPU and returns its attention weights next to its
predictions, so that we can check *where* it looked:

    mass_on_mask              how much attention lands on a ground-truth region
    AdditiveAttentionDecoder  encoder + decoder whose attention moves at every step (sequences)
    TinyViT / TinyCNN         an attention model and a convolutional model of similar size

Lesson 05's digit finder and video model live in ``clutter.py`` and ``video.py``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .core import AdditiveScore, attend
from .modules import TransformerBlock, _require_shape


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_macs(model: nn.Module, *inputs) -> int:
    """Multiply-accumulates for one forward pass on ``inputs`` (counted by torch's FlopCounterMode).

    Counts matrix products and convolutions (including attention's ``q @ k`` and ``w @ v``), the
    operations that dominate the cost; element-wise work (ReLU, softmax, norms) is left out.
    Divide by the batch size for a per-example number.
    """
    from torch.utils.flop_counter import FlopCounterMode

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
    _require_shape(weights, "weights", 3, "(B, h, w)")
    _require_shape(masks, "masks", 3, "(B, H, W)", B=weights.shape[0])
    region = masks[:, None].float()
    if rim:
        region = F.max_pool2d(region, 2 * rim + 1, stride=1, padding=rim)
    factor = masks.shape[-1] // weights.shape[-1]
    cells = F.max_pool2d(region, factor)[:, 0] > 0  # (B, h, w)
    mass = (weights * cells).flatten(1).sum(1).mean().item()
    chance = cells.flatten(1).float().mean(1).mean().item()
    return mass, chance


# --------------------------------------------------------------------------------------------
# Sequences: attention that moves with the decoder's state
# --------------------------------------------------------------------------------------------
class AdditiveAttentionDecoder(nn.Module):
    """An encoder-decoder with attention, for toy sequences: the additive score of Bahdanau et
    al. (2015); the query is the state *after* this step's update, as in Luong et al. (2015).

    The encoder (a bidirectional GRU) gives one vector per input position. At every output step
    the decoder's current state is the *query*: :class:`~course_lib.core.AdditiveScore` compares
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
        _require_shape(src, "src", 2, "(B, L)")
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


# --------------------------------------------------------------------------------------------
# Capstone: a tiny vision transformer and a tiny CNN
# --------------------------------------------------------------------------------------------
class TinyViT(nn.Module):
    """A vision transformer small enough to train on a CPU in seconds (Dosovitskiy et al., 2021).

    Cut the image into ``patch x patch`` tiles and embed each tile (a 3x3 convolution, then one
    linear map per tile: the small "convolutional stem" that helps tiny transformers train fast,
    Xiao et al., 2021), add a learned position embedding, prepend a class token, run ``depth``
    :class:`~course_lib.modules.TransformerBlock` (every tile can attend to every tile from the
    first layer on), classify the class token.

    Shapes: images ``(B, C, H, W)`` -> ``(logits (B, classes), weights)`` where ``weights`` is a
    list of ``depth`` tensors ``(B, heads, 1 + n, 1 + n)``; index 0 is the class token.
    """

    def __init__(self, image_size: int = 24, patch: int = 4, in_channels: int = 1,
                 num_classes: int = 2, dim: int = 16, depth: int = 2, heads: int = 2,
                 pos_scale: float = 0.5):
        super().__init__()
        if image_size % patch:
            raise ValueError(f"image_size={image_size} must be a multiple of patch={patch}")
        self.grid = image_size // patch
        self.in_channels, self.image_size = in_channels, image_size
        self.embed = nn.Sequential(
            nn.Conv2d(in_channels, dim, 3, padding=1), nn.ReLU(),     # local edges and corners
            nn.Conv2d(dim, dim, patch, stride=patch),                 # = a linear map per tile
        )
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 1 + self.grid**2, dim) * pos_scale)
        self.blocks = nn.ModuleList(TransformerBlock(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, images: torch.Tensor):
        _require_shape(images, "images", 4, "(B, C, H, W)", C=self.in_channels,
                       H=self.image_size, W=self.image_size)
        tokens = self.embed(images).flatten(2).transpose(1, 2)        # (B, n, dim)
        x = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], 1) + self.pos
        weights = []
        for block in self.blocks:
            x, w = block(x)
            weights.append(w)
        return self.head(self.norm(x[:, 0])), weights

    def cls_attention(self, weights, layer: int = -1) -> torch.Tensor:
        """Where the class token looks in ``layer``, averaged over heads: ``(B, grid, grid)``."""
        w = weights[layer][:, :, 0, 1:].mean(1)
        return w.reshape(-1, self.grid, self.grid)


class TinyCNN(nn.Module):
    """A plain convolutional classifier: 3x3 convolutions + ReLU, global average, linear.

    ``depth`` conv layers; the second one has stride 2 (halving the resolution keeps the cost
    low). Every layer is local and applies the same kernels to every image. A unit of the last
    layer sees a window of :attr:`receptive_field` pixels on a side (9 for depth 3); evidence from
    farther apart only meets in the final average, where it is *added*, never compared.

    ``padding_mode="circular"`` wraps the image around at its borders (a torus): then no pixel is
    special, and the network cannot tell *where* in the image something is. With the usual zero
    padding it can, a little, by sensing how far the border is (Islam et al., ICLR 2020).

    Shapes: images ``(B, C, H, W)`` -> ``(logits (B, classes), class_maps (B, classes, h, w))``,
    where ``class_maps`` is each position's contribution to each logit (the logits are their mean
    plus the bias): the CNN's answer to "where was the evidence?".
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 2, width: int = 16,
                 depth: int = 3, padding_mode: str = "zeros"):
        super().__init__()
        layers, c = [], in_channels
        for i in range(depth):
            layers += [nn.Conv2d(c, width, 3, padding=1, stride=2 if i == 1 else 1,
                                 padding_mode=padding_mode), nn.ReLU()]
            c = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)
        self.in_channels, self.depth = in_channels, depth

    @property
    def receptive_field(self) -> int:
        """Side of the window one output unit sees: each 3x3 layer adds 2 x (its input's stride)."""
        size, jump = 1, 1
        for i in range(self.depth):
            size += 2 * jump
            jump *= 2 if i == 1 else 1
        return size

    def forward(self, images: torch.Tensor):
        _require_shape(images, "images", 4, "(B, C, H, W)", C=self.in_channels)
        f = self.features(images)                                       # (B, width, h, w)
        class_maps = torch.einsum("bchw,kc->bkhw", f, self.head.weight)  # per-position evidence
        return class_maps.mean(dim=(2, 3)) + self.head.bias, class_maps
