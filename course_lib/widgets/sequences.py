"""Lesson 05, section 4 explorer: step through a decoder's outputs and watch its attention move.

``decoder_steps``  pick a held-out sequence and an output step: the row of the alignment matrix
                   for that step is highlighted, its weights over the input positions are drawn as
                   bars (orange: the position a reversal must copy), and the symbol the decoder
                   wrote at that step is shown, right or wrong (steps and positions count from 0).

Pass a trained :class:`~course_lib.experiments.seq2seq.Reverser` (from the lesson notebook). Without one the
explorer uses hand-made attention: scores ``-(j - (L-1-i))**2``, softmax, a soft anti-diagonal,
and writes the symbol under the largest weight; this needs no training.

Speed (issue 20): what changes only with the sequence (its alignment matrix, its symbols above the
bars) is drawn once per sequence and then pasted (a :class:`~course_lib.widgets.base.Stamp`); a
move redraws the highlighted row and the bars, and the sentence about the step (which symbol it
wrote) is in the HTML readout above the picture: text is the slowest thing to draw.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import torch
from matplotlib.patches import Rectangle

from course_lib.experiments import seq2seq as S
from course_lib.plotting import OKABE_ITO, WEIGHT_CMAP
from course_lib.basics.language import tr
from course_lib.widgets.base import Explorer, Stamp, new_figure, readout_html, register


def _hand_made(src: torch.Tensor):
    """Attention that knows the answer: output step i looks near input position L-1-i."""
    length = src.shape[1]
    steps, positions = np.arange(length)[:, None], np.arange(length)[None, :]
    scores = -((positions - (length - 1 - steps)) ** 2).astype(float)
    weights = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)          # (L, L), every input
    weights = torch.from_numpy(np.broadcast_to(weights, (len(src), length, length)).copy())
    tokens = torch.gather(src, 1, weights.argmax(-1))
    return tokens, weights.float()


@register("decoder_steps")
def decoder_steps_explorer(model=None, n_sequences: int = 12, length: int = 12,
                           seed: int = 2024) -> Explorer:
    """An alignment matrix and one of its rows, for held-out reversals of ``length`` symbols.

    Args:
        model: a trained :class:`~course_lib.experiments.seq2seq.Reverser` with attention ``"dot"``, or None
            for hand-made attention.
        n_sequences, length, seed: which held-out sequences to offer (their own seed).
    """
    src, tgt = S.make_task([length], n_test=n_sequences, seed=seed)[1][length]
    if model is None:
        tokens, weights = _hand_made(src)
        source = "hand-made attention\n(orange box: the step shown)"  # literal: the catalog has it
    else:
        if getattr(model, "attention", None) != "dot":
            raise ValueError("model must be a seq2seq.Reverser with attention='dot' (the others "
                             f"have no weights to step through), got {type(model).__name__}"
                             f" with attention={getattr(model, 'attention', None)!r}")
        tokens, weights = model.generate(src)
        source = "trained attention\n(orange box: the step shown)"
    weights, tokens, src, tgt = weights.numpy(), tokens.numpy(), src.numpy(), tgt.numpy()
    positions = np.arange(length)

    fig = new_figure(9.5, 3.6)
    ax_m, ax_b = fig.subplots(1, 2, width_ratios=[1, 1.3])
    # The alignment matrix: rows are output steps, columns input positions. (The symbols are
    # drawn above the bars on the right; texts are the slowest artists to redraw.)
    matrix = ax_m.imshow(weights[0], cmap=WEIGHT_CMAP, vmin=0, vmax=1, interpolation="nearest")
    ax_m.set(xticks=positions[::2], yticks=positions[::2], xlabel="input position",
             ylabel="output step")
    row = Rectangle((-0.5, -0.5), length, 1, fill=False, ec=OKABE_ITO["orange"], lw=2)
    ax_m.add_patch(row)
    fig.colorbar(matrix, ax=ax_m, fraction=0.046, pad=0.04, label="attention weight")

    bars = ax_b.bar(positions, weights[0, 0], color=OKABE_ITO["sky"])
    ax_b.axhline(1 / length, color=OKABE_ITO["black"], ls=":", lw=1)
    ax_b.text(length - 0.4, 1 / length, tr("uniform 1/{n}").format(n=length), ha="right",
              va="bottom", fontsize=8)
    ax_b.set(ylim=(0, 1.12), yticks=np.linspace(0, 1, 6), xlim=(-0.6, length - 0.4),
             xticks=positions, xlabel="input position (its symbol above the bars)",
             ylabel="weight at this step")
    bar_text = [ax_b.text(j, 1.03, "", ha="center", va="bottom", fontsize=8) for j in positions]

    controls = {
        "sequence": W.IntSlider(value=0, min=0, max=n_sequences - 1, description="sequence"),
        "step": W.IntSlider(value=0, min=0, max=length - 1, description="output step"),
    }
    readout = W.HTML()
    shown = {"sequence": None}

    def update(sequence, step):
        i = step
        w = weights[sequence, i]
        if shown["sequence"] != sequence:     # drawn once per sequence (the Stamp below)
            shown["sequence"] = sequence
            matrix.set_data(weights[sequence])
            for j in positions:
                bar_text[j].set_text(str(src[sequence, j]))
        row.set_y(i - 0.5)
        correct = length - 1 - i
        for j, bar in enumerate(bars):
            bar.set_height(w[j])
            bar.set_color(OKABE_ITO["orange"] if j == correct else OKABE_ITO["sky"])
        verdict = tr("right") if tokens[sequence, i] == tgt[sequence, i] else tr("wrong")
        readout.value = readout_html(
            tr("Sequence {sequence}, output step {step}: weight {weight:.2f} on position {correct} "
               "(orange), the one a reversal copies.").format(sequence=sequence, step=step,
                                                               weight=w[correct], correct=correct),
            tr("The decoder writes {token} ({verdict}).").format(token=tokens[sequence, i],
                                                                 verdict=verdict))

    ax_b.set_title("the weights of the step shown\n(orange: the position it must copy)")
    ax_m.set_title(source)
    explorer = Explorer(fig, controls, update,
                        "Step through the outputs: at each step the decoder's new state asks "
                        "'which input do I copy now?', and its weights (bars, and the highlighted "
                        "row of the matrix) move one position to the left. Pick another "
                        "sequence: the symbols change, the walk along the anti-diagonal does not.",
                        animated=[Stamp([matrix, *bar_text], lambda: shown["sequence"]), row,
                                  *bars], readout=readout)
    return explorer
