"""Cheap data checks for shortcuts (no training): visual recall and word recall."""
import torch
torch.set_num_threads(1)
from course_lib import recall as R
from review.visual_rivals import task
(trx, trY, trw), (tex, teY, tew) = task()
for name, w, y in [("train", trw, trY), ("test", tew, teY)]:
    items, tgt = w["items"], w["target"]
    n = len(tgt)
    rank_row = items[..., 0].argsort(1).argsort(1)[torch.arange(n), tgt]   # 0 = top-most item
    rank_col = items[..., 1].argsort(1).argsort(1)[torch.arange(n), tgt]
    print(name, "target item index counts", torch.bincount(tgt).tolist(),
          "| target's row rank (top..bottom)", torch.bincount(rank_row, minlength=3).tolist(),
          "| col rank (left..right)", torch.bincount(rank_col, minlength=3).tolist())
    # best fixed guess from the class counts and from 'the digit class most often the answer'
    print(name, "label counts", torch.bincount(y, minlength=10).tolist())
# a position-only rule on train: for each (row-rank) pick, how often is it the target?
# word recall: where is the asked pair?
test = R.test_sets()
for k, (tok, lab) in test.items():
    pos = R.asked_position(tok) // 4
    print("K", k, "asked pair position counts", torch.bincount(pos, minlength=k).tolist(),
          "| label counts", torch.bincount(lab, minlength=8).tolist())
