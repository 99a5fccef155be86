"""Attention modules for vision, each small enough to read in a minute (lessons 05-06).

Every module here computes its weights *from the input*, which is what makes it adaptive: the same
trained module gives each image its own weights, while a convolution applies one fixed kernel to
every image. Each ``forward`` returns ``(output, weights)`` so that we can look at the weights.

Two families appear:

* **softmax attention** (``AttentionPool``, ``TemporalAttention``, ``TransformerBlock``): the three
  steps of ``course_lib.attention.core``, similarity -> softmax weights -> weighted average. The weights of
  one query compete: they are >= 0 and sum to 1, so more weight here means less weight there.
* **sigmoid gates** (``SqueezeExcitation``, ``SpatialAttention``): each channel or pixel gets its
  own number in (0, 1) that multiplies (rescales) it. Gates do not compete and do not sum to 1:
  every channel could be fully on. There is no weighted average either: the output has the shape
  of the input. Still adaptive: the gates are computed from the input.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.basics.arrays import require_shape
from course_lib.attention.core import MultiHeadAttention, attend, softmax_weights


# --------------------------------------------------------------------------------------------
# Sigmoid gates: channel attention and spatial attention
# --------------------------------------------------------------------------------------------
class SqueezeExcitation(nn.Module):
    """Channel attention (Hu et al., 2018): rescale each channel by a gate computed from the image.

    squeeze:  average each channel over the image            (B, C, H, W) -> (B, C)
    excite:   a tiny MLP, then a sigmoid, gives one gate per channel, in (0, 1)
    rescale:  output = x * gate                              (B, C, H, W)

    Unlike softmax attention, the gates are independent sigmoids: they do not sum to 1 and do
    not compete, so the module can turn several channels up at once (or all down).

    Returns ``(output (B, C, H, W), gates (B, C))``.
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)
        self.channels = channels

    def forward(self, x: torch.Tensor):
        require_shape(x, "x", 4, "(B, C, H, W)", C=self.channels)
        squeezed = x.mean(dim=(2, 3))                                 # what is in each channel?
        gates = torch.sigmoid(self.fc2(F.relu(self.fc1(squeezed))))  # how much to keep of it
        return x * gates[:, :, None, None], gates


class SpatialAttention(nn.Module):
    """Spatial attention as in CBAM (Woo et al., 2018): one gate per pixel, computed from the image.

    Pool the channels two ways (mean and max), giving a 2-channel map ``(B, 2, H, W)``; a
    ``kernel_size x kernel_size`` convolution and a sigmoid turn it into a map of gates in (0, 1);
    the output is ``x * gate``. Like SE (and unlike softmax) the gates are independent: a pixel's
    gate does not shrink when another pixel's grows.

    Returns ``(output (B, C, H, W), gates (B, 1, H, W))``.
    """

    def __init__(self, kernel_size: int = 7):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd so the map stays centred, got {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor):
        require_shape(x, "x", 4, "(B, C, H, W)")
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        gates = torch.sigmoid(self.conv(pooled))
        return x * gates, gates


# --------------------------------------------------------------------------------------------
# Dynamic convolution: the kernel itself is computed from the input
# --------------------------------------------------------------------------------------------
class DynamicConv2d(nn.Module):
    """A convolution whose kernel is predicted from the input (Chen et al., CVPR 2020).

    The layer keeps ``num_experts`` ordinary kernels. For each image it

    1. scores the experts from the average value of each input channel (similarity),
    2. turns the scores into softmax weights over the experts (weight allocation),
    3. mixes the experts' kernels with those weights (weighted aggregation)

    and convolves the image with its own mixed kernel. An ordinary ``nn.Conv2d`` is the special
    case of one expert: the same kernel for every image.

    The router here is a single linear layer on the channel averages, the smallest that shows the
    idea; Chen et al. use average pooling -> FC -> ReLU -> FC -> softmax with a temperature.

    Returns ``(output (B, C_out, H', W'), expert_weights (B, num_experts))``;
    :meth:`kernels` gives the per-image kernels ``(B, C_out, C_in, K, K)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 num_experts: int = 4, temperature: float = 1.0):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.temperature = kernel_size, temperature
        self.experts = nn.Parameter(
            torch.randn(num_experts, out_channels, in_channels, kernel_size, kernel_size)
            / (in_channels * kernel_size**2) ** 0.5
        )
        self.router = nn.Linear(in_channels, num_experts)

    def expert_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax weights over the experts, one row per image: ``(B, num_experts)``."""
        require_shape(x, "x", 4, "(B, C, H, W)", C=self.in_channels)
        scores = self.router(x.mean(dim=(2, 3)))
        return softmax_weights(scores, temperature=self.temperature)

    def kernels(self, x: torch.Tensor) -> torch.Tensor:
        """The kernel each image is convolved with: ``(B, C_out, C_in, K, K)``."""
        w = self.expert_weights(x)
        return torch.einsum("be,eoikl->boikl", w, self.experts)

    def forward(self, x: torch.Tensor):
        weights = self.expert_weights(x)  # also checks the shape of x
        b = x.shape[0]
        kernels = torch.einsum("be,eoikl->boikl", weights, self.experts)
        # One convolution per image, done at once: fold the batch into the channels and use
        # groups=B, so that image i only meets kernel i.
        out = F.conv2d(x.reshape(1, b * self.in_channels, *x.shape[2:]),
                       kernels.reshape(b * self.out_channels, self.in_channels,
                                       self.kernel_size, self.kernel_size),
                       padding=self.kernel_size // 2, groups=b)
        return out.reshape(b, self.out_channels, *out.shape[2:]), weights


# --------------------------------------------------------------------------------------------
# Softmax attention: pooling with a learned query, over space or over time
# --------------------------------------------------------------------------------------------
class AttentionPool(nn.Module):
    """Summarise ``n`` tokens into one vector with a *learned query* (attention pooling).

    1. similarity: score each token's key against the query,
    2. weights:    softmax over the tokens,
    3. aggregate:  weighted average of the tokens' values.

    Global average pooling is the special case of equal weights 1/n for every input; here the
    weights depend on what the tokens contain.

    Shapes: tokens ``(B, n, dim)`` -> ``(pooled (B, dim), weights (B, n))``.
    """

    def __init__(self, dim: int, key_dim: int | None = None):
        super().__init__()
        key_dim = key_dim or dim
        self.query = nn.Parameter(torch.randn(1, 1, key_dim) * key_dim**-0.5)
        self.to_key = nn.Linear(dim, key_dim)
        self.to_value = nn.Linear(dim, dim)
        self.dim = dim

    def forward(self, tokens: torch.Tensor):
        require_shape(tokens, "tokens", 3, "(B, n, dim)", dim=self.dim)
        q = self.query.expand(tokens.shape[0], 1, -1)
        pooled, weights = attend(q, self.to_key(tokens), self.to_value(tokens))
        return pooled[:, 0], weights[:, 0]


class TemporalAttention(AttentionPool):
    """Attention over the frames of a video: which time steps matter for this clip?

    The same three steps as :class:`AttentionPool`, with one token per frame (or per pair of
    frames). A learned embedding of the time index is added first, so the module *could* prefer
    a fixed moment; after training on moving objects it prefers the frames where something moves,
    which are different frames in every clip.

    Shapes: frames ``(B, T, dim)`` -> ``(pooled (B, dim), weights over time (B, T))``.
    """

    def __init__(self, dim: int, max_frames: int = 32):
        super().__init__(dim)
        self.time_embedding = nn.Parameter(torch.zeros(1, max_frames, dim))

    def forward(self, frames: torch.Tensor):
        require_shape(frames, "frames", 3, "(B, T, dim)", dim=self.dim)
        return super().forward(frames + self.time_embedding[:, : frames.shape[1]])


class TransformerBlock(nn.Module):
    """A pre-norm Transformer encoder block: self-attention, then a small MLP, both residual.

    Every token attends to every token (global), with weights computed from the tokens (adaptive).
    Returns ``(tokens (B, n, dim), weights (B, heads, n, n))``.
    """

    def __init__(self, dim: int, heads: int = 2, mlp_ratio: int = 2):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(),
                                 nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x: torch.Tensor):
        attended, weights = self.attn(self.norm1(x))
        x = x + attended
        return x + self.mlp(self.norm2(x)), weights


# --------------------------------------------------------------------------------------------
# Hand-made attention: a fixed similarity, input-dependent weights (no training needed)
# --------------------------------------------------------------------------------------------
def variation_across_inputs(weights) -> float:
    """How much a module's weights change from input to input: one number, 0 for a fixed kernel.

    Args:
        weights: the weights the module used for each of n inputs, shape ``(n, ...)``.

    Returns:
        the standard deviation across the inputs (sample std) of every single weight, averaged
        over the weights and divided by their mean absolute size, so that modules of different
        scales compare. A convolution kernel, the same tensor for every input, gives exactly 0.
    """
    w = torch.as_tensor(weights, dtype=torch.float64).flatten(1)  # (n_inputs, number of weights)
    return (w.std(dim=0).mean() / w.abs().mean()).item()


def motion_attention(videos: torch.Tensor, temperature: float = 0.1,
                     temporal_temperature: float = 1.0):
    """Hand-made attention over a video: score each place and each step by how much it changed.

    similarity = motion energy: the squared change since the previous frame, summed over 2x2
    patches (spatial scores) or over the whole frame (temporal scores); softmax turns each into
    weights. A static background scores zero everywhere, so it gets the low, equal weights of
    "nothing to see"; the moving object takes the weight.

    Shapes: videos ``(B, T, 1, H, W)`` -> ``(spatial (B, T-1, H/2, W/2), temporal (B, T-1))``,
    one spatial map and one temporal weight per step that has a previous frame.
    """
    require_shape(videos, "videos", 5, "(B, T, C, H, W)", C=1)
    energy = (videos[:, 1:] - videos[:, :-1])[:, :, 0] ** 2                # (B, T-1, H, W)
    b, t, h, w = energy.shape
    patch_energy = F.avg_pool2d(energy.reshape(b * t, 1, h, w), 2).reshape(b, t, -1) * 4
    spatial = softmax_weights(patch_energy, temperature=temperature)
    temporal = softmax_weights(energy.sum(dim=(2, 3)), temperature=temporal_temperature)
    return spatial.reshape(b, t, h // 2, w // 2), temporal


# --------------------------------------------------------------------------------------------
# Hand-set modules: readable weights, so their gates mean something before any training
# --------------------------------------------------------------------------------------------
def edge_filters() -> torch.Tensor:
    """Four fixed 3x3 edge detectors (horizontal, vertical, two diagonals): ``(4, 1, 3, 3)``.

    A convolution with these is the "fixed kernel" of lesson 05: the same four kernels are
    applied to every image.
    """
    h = torch.tensor([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]) / 4
    d = torch.tensor([[2.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, -2.0]]) / 4
    return torch.stack([h, h.T, d, d.flip(1)])[:, None]


def relative_channels_se(channels: int, sharpness: float = 20.0) -> SqueezeExcitation:
    """An SE block with hand-set weights: keep the channels stronger than the image's average.

    gate_c = sigmoid(sharpness * (mean_c - mean over channels of mean_c)). The sigmoid itself
    never makes gates compete; this hand-set second layer subtracts the channel average on
    purpose, so that which channels pass depends on the image. A trained SE block learns
    whatever channel interactions help.
    """
    se = SqueezeExcitation(channels, reduction=1)
    with torch.no_grad():
        se.fc1.weight.copy_(torch.eye(channels))
        se.fc1.bias.zero_()  # channel means of |edges| are >= 0, so the ReLU passes them
        se.fc2.weight.copy_(sharpness * (torch.eye(channels) - 1.0 / channels))
        se.fc2.bias.zero_()
    return se


def salience_spatial_attention(kernel_size: int = 7, sharpness: float = 8.0) -> SpatialAttention:
    """A CBAM spatial attention with a hand-set centre-minus-surround kernel.

    It opens the gate where the channel maximum is higher than in the surrounding window:
    places that stand out from their neighbourhood.
    """
    sa = SpatialAttention(kernel_size)
    k = kernel_size
    with torch.no_grad():
        weight = torch.full((k, k), -1.0 / (k * k - 9))
        weight[k // 2 - 1 : k // 2 + 2, k // 2 - 1 : k // 2 + 2] = 1.0 / 9
        sa.conv.weight.zero_()
        sa.conv.weight[0, 1] = sharpness * weight  # channel 1 = max over channels
        sa.conv.bias.zero_()
    return sa
