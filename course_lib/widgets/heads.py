"""A head-view explorer for any multi-head attention (lessons 03 and 06): which key does each head
weigh, per query?

In the spirit of BertViz's head and model views (Vig, 2019), drawn with the course's own
:class:`~course_lib.widgets.base.Explorer` (a PNG in JupyterLab, on Binder and in the static site;
nothing loaded from a CDN). Top: the chosen head's weights for the chosen query, as lines from the
query (left column) to every key (right column), darker and thicker for larger weights, with the
weights as bars beside the keys. Bottom: every head of the chosen layer side by side, each as its
full query x key weight matrix on one fixed colour scale (0 to 1), the chosen query's row framed.

API (lesson 03 uses it for its trained model; lesson 06 for its ViT):

    from course_lib.widgets.heads import head_view
    explorer = head_view(weights, tokens)          # display it; move the controls
    explorer.controls["head"].value = 1            # or drive it from code

    weights   attention weights of one input: ``(layers, heads, n_q, n_k)``, or ``(heads, n_q,
              n_k)`` for one layer; a torch tensor or NumPy array (rows sum to 1). For several
              inputs pass ``(examples, layers, heads, n_q, n_k)`` and one token list per input.
    tokens    the key labels: a list of ``n_k`` strings (``["CLS", "p0", ...]``), or, for several
              inputs, a list of such lists.
    query_tokens   labels of the queries when they are not the keys (cross-attention); same form.
    layer_names, head_names   labels for the controls' readout and the panels (optional).
    description    the sentence shown above the controls (what to try).

Controls: ``query`` and ``head`` always; ``layer`` when there is more than one layer; ``example``
when there is more than one input. Reads well up to ~40 tokens (labels shrink as n grows).
Speed: every control redraws only what moves (~10-20 ms; the bars are drawn as one group, the
small maps once per example and layer). Each example's token labels are part of
its own cached background, drawn once when the explorer is built (~100 ms per example).
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

from course_lib.plotting import COLORS, WEIGHT_CMAP
from course_lib.basics.language import tr
from course_lib.widgets.base import Explorer, RectangleGroup, Stamp, new_figure, readout_html

BAR_LEFT, BAR_LENGTH = 1.12, 0.8   # where the weight bars start, and the length of weight 1


def _as_array(weights) -> np.ndarray:
    if hasattr(weights, "detach"):
        weights = weights.detach().cpu().numpy()
    return np.asarray(weights, dtype=float)


def _labels(tokens, n_examples: int, n: int, name: str) -> list[list[str]]:
    """Token labels as one list per example, checked against the weights' size."""
    if tokens is None:
        return [[str(i) for i in range(n)]] * n_examples
    per_example = tokens if tokens and not isinstance(tokens[0], str) else [tokens]
    per_example = [[str(t) for t in labels] for labels in per_example]
    if len(per_example) != n_examples or any(len(t) != n for t in per_example):
        raise ValueError(
            f"{name} must hold {n} labels{f' for each of {n_examples} examples' if n_examples > 1 else ''} "
            f"to match the weights; got {len(per_example)} list(s) of lengths "
            f"{[len(t) for t in per_example]}")
    return per_example


def normalise_weights(weights, several_examples: bool) -> np.ndarray:
    """Any accepted shape -> ``(examples, layers, heads, n_q, n_k)``."""
    w = _as_array(weights)
    expected = "(examples, layers, heads, n_q, n_k)" if several_examples else \
        "(layers, heads, n_q, n_k) or (heads, n_q, n_k)"
    if several_examples and w.ndim == 5:
        return w
    if not several_examples and w.ndim in (3, 4):
        return w[None] if w.ndim == 4 else w[None, None]
    raise ValueError(f"weights must have shape {expected} (tokens given as "
                     f"{'one list per example' if several_examples else 'one list'}), "
                     f"got shape {w.shape}")


def head_view(weights, tokens=None, query_tokens=None, *, layer_names=None, head_names=None,
              description: str = "", title: str = "") -> Explorer:
    """Build the head-view explorer (see the module's docstring for the arguments)."""
    several = bool(tokens) and not isinstance(tokens[0], str)
    w_all = normalise_weights(weights, several)
    n_ex, n_layers, n_heads, n_q, n_k = w_all.shape
    if not np.all(np.isfinite(w_all)) or w_all.min() < -1e-6 or w_all.max() > 1 + 1e-6:
        raise ValueError("weights must be finite attention weights in [0, 1] (rows summing to 1), "
                         f"got values in [{np.nanmin(w_all):.3g}, {np.nanmax(w_all):.3g}]")
    keys = _labels(tokens, n_ex, n_k, "tokens")
    queries = keys if query_tokens is None and n_q == n_k else \
        _labels(query_tokens, n_ex, n_q, "query_tokens")
    layer_names = list(layer_names or [tr("layer {k}").format(k=i) for i in range(n_layers)])
    head_names = list(head_names or [tr("head {k}").format(k=i) for i in range(n_heads)])
    colours = [COLORS[h % len(COLORS)] for h in range(n_heads)]
    font = max(4.5, min(9.0, 240.0 / max(n_q, n_k)))
    y_q, y_k = -np.arange(n_q, dtype=float), -np.arange(n_k, dtype=float)

    fig = new_figure(9.5, 5.2)
    grid = fig.add_gridspec(2, n_heads, height_ratios=[1.5, 1])
    ax = fig.add_subplot(grid[0, :])
    ax.set(xlim=(-0.4, BAR_LEFT + BAR_LENGTH + 0.05), ylim=(min(y_q.min(), y_k.min()) - 0.8, 0.9))
    ax.axis("off")
    ax.text(-0.05, 0.6, "queries", ha="right", fontsize=9, weight="bold")
    ax.text(0.8, 0.6, "keys", ha="left", fontsize=9, weight="bold")
    ax.text(BAR_LEFT, 0.6, "weight  0", ha="right", fontsize=8, color="gray")
    ax.text(BAR_LEFT + BAR_LENGTH, 0.6, "1", ha="center", fontsize=8, color="gray")
    for x in (BAR_LEFT, BAR_LEFT + BAR_LENGTH / 2, BAR_LEFT + BAR_LENGTH):
        ax.plot([x, x], [y_k.min() - 0.5, 0.45], color="0.85", lw=0.8, zorder=0)
    # drawn over the (background) label, so see-through: the label must show
    highlight = Rectangle((-0.38, -0.45), 0.36, 0.9, facecolor=(0.9, 0.62, 0.0, 0.25),
                          edgecolor=(0.9, 0.62, 0.0, 1.0), lw=1.5)
    ax.add_patch(highlight)
    query_texts = [ax.text(-0.05, y, queries[0][i], ha="right", va="center", fontsize=font)
                   for i, y in enumerate(y_q)]
    key_texts = [ax.text(0.8, y, keys[0][j], ha="left", va="center", fontsize=font)
                 for j, y in enumerate(y_k)]
    lines = LineCollection([[(0.0, 0.0), (0.75, y)] for y in y_k], zorder=2)
    ax.add_collection(lines)
    bars = ax.barh(y_k, np.zeros(n_k), left=BAR_LEFT, height=0.7, color=colours[0])
    # The sentence about the chosen query is in the readout above the picture (HTML): a line
    # of text drawn in the figure was a third of a move.
    readout = W.HTML()

    thumbs, row_frames, head_frames = [], [], []
    for h in range(n_heads):
        axh = fig.add_subplot(grid[1, h])
        thumbs.append(axh.imshow(w_all[0, 0, h], cmap=WEIGHT_CMAP, vmin=0, vmax=1,
                                 interpolation="nearest"))
        axh.set_xticks([])
        axh.set_yticks([])
        axh.set_title(head_names[h], color=colours[h], fontsize=9)
        if h == 0:
            axh.set_ylabel("query", fontsize=8)
        axh.set_xlabel("key", fontsize=8)
        row_frames.append(axh.add_patch(Rectangle((-0.5, -0.5), n_k, 1, fill=False,
                                                  ec=colours[h], lw=1.5)))
        head_frames.append(axh.add_patch(Rectangle((0, 0), 1, 1, transform=axh.transAxes,
                                                   fill=False, ec="black", lw=3, clip_on=False)))
    fig.colorbar(thumbs[-1], ax=fig.axes[1:], fraction=0.02, pad=0.01, label="weight")
    if title:
        fig.suptitle(title, fontsize=11)

    controls = {}
    if n_ex > 1:
        controls["example"] = W.IntSlider(value=0, min=0, max=n_ex - 1, description="example")
    if n_layers > 1:
        controls["layer"] = W.IntSlider(value=0, min=0, max=n_layers - 1, description="layer")
    controls["head"] = W.IntSlider(value=0, min=0, max=n_heads - 1, description="head")
    controls["query"] = W.IntSlider(value=0, min=0, max=n_q - 1, description="query")
    shown = {"example": 0, "layer": 0}

    def update(head, query, example=0, layer=0):
        w = w_all[example, layer, head, query]                       # (n_k,)
        rgba = np.tile(to_rgba(colours[head]), (n_k, 1))
        rgba[:, 3] = np.clip(w, 0.0, 1.0)                            # opacity = weight
        lines.set_segments([[(0.0, y_q[query]), (0.75, y)] for y in y_k])
        lines.set_color(rgba)
        lines.set_linewidth(0.5 + 4.5 * w)
        for bar, value in zip(bars, w):
            bar.set_width(BAR_LENGTH * value)
            bar.set_color(colours[head])
        highlight.set_y(y_q[query] - 0.45)
        if (shown["example"], shown["layer"]) != (example, layer):
            shown.update(example=example, layer=layer)
            for h, image in enumerate(thumbs):
                image.set_data(w_all[example, layer, h])
            for text, label in zip(query_texts, queries[example]):
                text.set_text(label)
            for text, label in zip(key_texts, keys[example]):
                text.set_text(label)
        for h in range(n_heads):
            row_frames[h].set_y(query - 0.5)
            head_frames[h].set_visible(h == head)
        best = int(np.argmax(w))
        in_use = float(np.exp(-(w[w > 0] * np.log(w[w > 0])).sum()))
        numbers = dict(query=queries[example][query], key=keys[example][best], weight=w[best],
                       in_use=in_use, head=head_names[head], layer=layer_names[layer])
        sentence = (tr("{layer}, {head}: query → key with the largest weight: {query} → {key} "
                       "{weight:.2f}; ≈{in_use:.1f} keys in use.") if n_layers > 1 else
                    tr("{head}: query → key with the largest weight: {query} → {key} {weight:.2f}; "
                       "≈{in_use:.1f} keys in use."))
        readout.value = readout_html(sentence.format(**numbers))
        # Token labels are drawn once per example, in that example's cached background (see
        # background_of below): many small texts are the slowest thing to draw.

    # The small maps change only with the example and the layer: drawn once for each, then
    # pasted (first: the frames are drawn over them). The bars as one group: drawn one by one,
    # 37 bars (a ViT's tokens) were half of a move.
    maps = Stamp(thumbs, key=lambda: (shown["example"], shown["layer"]))
    animated = [maps, highlight, lines, RectangleGroup(bars), *row_frames, *head_frames]
    explorer = Explorer(fig, controls, update,
                        description or "Pick a head and a query: the lines show where that "
                                       "query's weight goes. The small maps show every head of "
                                       "the layer at once, each query a row.",
                        animated=animated, background_of=lambda example=0, **_: example,
                        readout=readout)
    # Each example's token labels are drawn once, now, into its own cached background: a
    # change of example is then a blit like any other move.
    explorer.draw_backgrounds([{"example": e} for e in range(1, n_ex)])
    return explorer
