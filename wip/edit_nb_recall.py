"""Insert the visual-recall subsection after the cluttered-digit explorer cell of notebook 05."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell
P = "notebooks/05_adaptivity.ipynb"
nb = nbformat.read(P, as_version=4)
ids = [c.get("id") for c in nb.cells]
if "vr05-intro" in ids:
    raise SystemExit("already inserted")
at = ids.index("h05-d6796b0a") + 1

def md(cid, src, slide="-"):
    c = new_markdown_cell(src.strip("\n")); c["id"] = cid
    c.metadata["slideshow"] = {"slide_type": slide}
    return c

def code(cid, src):
    c = new_code_cell(src.strip("\n")); c["id"] = cid
    c.metadata["slideshow"] = {"slide_type": "-"}
    return c

cells = [
md("vr05-intro", r"""
### Where to read, given by content: visual associative recall

Max pooling matched attention above because the task never asked which features occur together at
one place, only *whether* each stroke pattern
occurs somewhere. Here is a question it cannot answer that way: **which digit stands beside the mark
that matches the cue?** Each 32 x 32 canvas holds three real digits of three different classes
(held-out digit images for the test canvases) on a real texture, each with a small mark on its left,
each mark a different shape (a ring, a plus, a cross, a triangle: 5 x 5 patterns a conv layer tells
apart). In the top-left corner sits the cue: one of the three marks' shapes. The label is the class
of the digit beside the matching mark. The items are somewhere else on every canvas, so the place to
read is given by content (which mark matches the cue), never by position; and what to read there is
a conjunction, this mark *and* that digit, at one place.
""", slide="subslide"),
code("vr05-data", r"""
from course_lib import visual_recall

(recall_train_x, recall_train_y, _), recall_test = visual_recall.make_task()   # 3000 / 1000 canvases
recall_x, recall_y, recall_where = recall_test

fig, axes = plt.subplots(1, 6, figsize=(10, 2), layout="constrained")
for j, ax in enumerate(axes):
    show_image(ax, recall_x[j, 0].numpy(), title=f"label {int(recall_y[j])}")
    r, c = recall_where["items"][j, recall_where["target"][j]].tolist()   # the cued item (grading only)
    ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), visual_recall.ITEM_W, visual_recall.ITEM_H,
                               fill=False, ec=OKABE_ITO["orange"], lw=1.5))
fig.suptitle("Held-out canvases: the cue (top left) names a mark; the label is the digit beside it (orange)")
plt.show()
"""),
md("vr05-models", r"""
The figure shows six held-out canvases: the orange box (never shown to a model) holds the mark that
matches the cue and its digit. The attention model, `visual_recall.RecallModel`, shares its features
with every rival: 8 x 8 windows described by a conv layer, and at each window a *token* that combines
the window with the one 8 pixels to its right, so a token can see a mark and the digit beside it.
Then the three steps: the **query is computed from the cue's window**, each window's key from its own
features by the same projection (cosine similarity times a learned sharpness), one softmax over the
windows, and the token there is read and classified. The rivals keep the features, tokens and
classifier and replace the query-key step by uniform pooling, global max pooling or a learned fixed
mixing over the windows; a plain CNN whose receptive field covers the whole canvas completes them.
All have the same data, steps and batches, and parameters within 10% (printed below). Only attention
trains here, for a few seconds; the rivals and other seeds come from the stored sweep.
"""),
code("vr05-train", r"""
recall_model = visual_recall.fit("attention", (recall_train_x, recall_train_y))   # seed 0
recall_result = visual_recall.evaluate(recall_model, recall_test)
print("parameters:", visual_recall.parameter_counts())
print(f"attention: held-out accuracy {recall_result['accuracy']:.2f}; weight on the cued mark "
      f"{recall_result['mass']:.2f}; chance 0.10, one of the three digits on the canvas 0.33")
"""),
code("vr05-facts", r"""
# NBVAL_CHECK_OUTPUT
for claim, holds in visual_recall.attention_claims(recall_result).items():
    print(f"{claim}: {holds}")
assert all(visual_recall.attention_claims(recall_result).values())
recall_sweep = sweeps.load("lesson05_visual_recall")
print(sweeps.table(recall_sweep, "accuracy"))
print("claims over the stored seeds:")
for claim in visual_recall.claims(recall_sweep["runs"][0]):
    held = [s for s, run in recall_sweep["runs"].items() if visual_recall.claims(run)[claim]]
    print(f"  {claim}: {len(held)} of {len(recall_sweep['runs'])} seeds")
"""),
code("vr05-maps", r"""
maps = recall_result["weights"]                                   # (1000, 13, 13): one per window
fig, axes = plt.subplots(2, 6, figsize=(10, 3.8), layout="constrained")
for j in range(6):
    show_image(axes[0, j], recall_x[j, 0].numpy(), title=f"label {int(recall_y[j])}")
    ax = axes[1, j]
    ax.imshow(recall_x[j, 0], cmap="gray", vmin=0, vmax=1)
    # window [i, k] starts at pixel (2i, 2k): draw its weight as a 2 x 2 square on the centre of
    # the mark it would hold, pixel (2i + 3, 2k + 4)
    top, left = visual_recall.MARK_ROW + 1, visual_recall.MARK_COL + 1
    span = visual_recall.STRIDE * visual_recall.GRID
    extent = (left, left + span, top + span, top)
    overlay = ax.imshow(maps[j], cmap=WEIGHT_CMAP, vmin=0, vmax=0.5, alpha=0.75, extent=extent)
    guess = int(recall_result["predictions"][j].argmax())
    ax.set_title(f"says {guess}", color="black" if guess == int(recall_y[j]) else OKABE_ITO["vermillion"])
    ax.set(xlim=(-0.5, 31.5), ylim=(31.5, -0.5), xticks=[], yticks=[])
axes[1, 0].set_ylabel("attention\nover marks")
fig.colorbar(overlay, ax=axes[1, :], shrink=0.8, label="weight of a window")
fig.suptitle("Held-out canvases: the weight goes to the mark that matches the cue, wherever it is")
plt.show()
"""),
md("vr05-lesson", r"""
In the figure, each map's weight sits on the mark whose shape matches the cue in the corner, a
different place on every canvas, and the model reads the digit beside it. The table says what the
rivals make of the same features: uniform pooling, max pooling and fixed mixing summarise the
windows without looking at the cue first, and a linear classifier of such a summary cannot tell "a 3
beside the ring, cue ring" from "a 3 beside the ring, cue plus"; the plain CNN could in principle
combine cue and items across its whole receptive field but does not learn to in the same steps.
**The lesson in one sentence: when the place to read is named by the content of this input and what
to read there is a conjunction of features, only weights computed from the input (attention) read it;
reach (fixed mixing) and per-channel selection (max pooling) do not.**
"""),
]
nb.cells[at:at] = cells
nbformat.write(nb, P)
print("inserted", len(cells), "cells at", at)
