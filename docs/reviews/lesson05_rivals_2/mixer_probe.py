"""What does the 2-block MLP-Mixer (word recall, seed 0, lr 0.01) do? Retrains it exactly as
text_rivals.py does, then on the held-out K = 8 sentences prints:
  (1) block 2's token-mixing row for the question's token (the only row the classifier reads):
      fixed weights, the same for every sentence, by word type (colour / is / number / ',');
  (2) the norm of block 1's channel-MLP output (what each word adds after it has seen the mixed-in
      question) at the asked colour against the other colours: does the per-word MLP switch a
      whole position off, or only some channels?
  (3) where the answer's sensitivity lies: share of |d correct logit / d embedding| on the asked
      pair's 4 words (an even spread puts 4/31 = 0.13 there).
Usage (repository root): PYTHONPATH=. python docs/reviews/lesson05_rivals_2/mixer_probe.py
"""
import sys, os
import torch
torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(__file__))
import text_rivals as T
from course_lib.experiments import recall as R

torch.manual_seed(0)
m = T.RIVALS["MLP-Mixer, 2 blocks"]()
R._train(m, lr=0.01, seed=0, progress=False)
tokens, labels = R.make_task()[1][8]
print("accuracy@8", (m(tokens)[0].argmax(-1) == labels).float().mean().item())

# (1) block 2's token mixing into the question's token (index -2 of 34; K = 8 fills all 34)
row = m.tok[1].weight[-2].detach()                 # (34,) weights over the input tokens
names = ["colour", "is", "number", ","]
for j, n in enumerate(names):
    print(f"block-2 mixing into the question token, {n:6s} positions:",
          " ".join(f"{v:+.2f}" for v in row[j:32:4].tolist()))
print("  ';' %+.2f  asked %+.2f  '?' %+.2f" % tuple(row[31:34].tolist()))

# (2) block 1's per-word channel MLP output at colours: asked vs others
x = m.embed(T.right_align(tokens)) + m.position
x = x + m.tok[0](m.n1[0](x).transpose(1, 2)).transpose(1, 2)
add = m.ch[0](m.n2[0](x)).detach()                 # (B, 34, d)
asked = R.asked_position(tokens)                   # index in the sentence (K = 8: no padding)
colours = torch.arange(0, 32, 4)
norms = add[:, colours].norm(dim=-1)               # (B, 8)
is_asked = colours[None] == asked[:, None]
print("block-1 channel-MLP output norm at the asked colour %.2f, at other colours %.2f" %
      (norms[is_asked].mean(), norms[~is_asked].mean()))
diff = (add[:, colours] - add[:, colours][~is_asked].reshape(len(tokens), 7, -1).mean(1, keepdim=True)).abs()
ch_share = (diff[is_asked] > 0.1 * diff[is_asked].amax(-1, keepdim=True)).float().mean()
print("share of the 16 channels that differ (> 10%% of the largest difference) at the asked colour: %.2f" % ch_share)

# (3) sensitivity of the correct logit to each word's embedding
emb = (m.embed(T.right_align(tokens)) + m.position).detach().requires_grad_(True)
h = emb
for n1, tok, n2, ch in zip(m.n1, m.tok, m.n2, m.ch):
    h = h + tok(n1(h).transpose(1, 2)).transpose(1, 2)
    h = h + ch(n2(h))
logit = m.classify(h[:, -2]).gather(1, labels[:, None]).sum()
g = torch.autograd.grad(logit, emb)[0].norm(dim=-1)[:, :31]     # the list's 31 words
window = asked[:, None] + torch.arange(4)
on_pair = (g.gather(1, window.clamp(max=30)) * (window < 31)).sum(1) / g.sum(1)
print("share of gradient on the asked pair's 4 words: %.2f (even spread 0.13)" % on_pair.mean())
