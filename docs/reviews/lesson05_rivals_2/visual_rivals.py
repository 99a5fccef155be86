"""Second sceptic's rivals for lesson 05, visual associative recall
(course_lib/experiments/visual_recall.py), on the lesson's own data and loop: ``make_task()``
(3,000 training canvases, 1,000 held-out canvases from held-out digits), the lesson's training
loop ``course_lib.layers.training.train`` exactly as ``visual_recall.fit`` calls it (800 Adam
steps, batch 64, batch order from the seed, ``torch.manual_seed(seed)`` before building).
Parameters within 10% of the attention model (6,075).

Usage (repository root): PYTHONPATH=. python docs/reviews/lesson05_rivals_2/visual_rivals.py SEED LR,LR "rival|rival"
"""
import json, sys, time
import torch
torch.set_num_threads(1)
from torch import nn
from course_lib.experiments import visual_recall as VR
from course_lib.layers.models import count_parameters
from course_lib.layers.training import train as train_loop, predict

TARGET = count_parameters(VR.build("attention"))


class SlotPool(nn.Module):
    """Cue-blind slot pooling. Every window is sorted into m shape slots plus one discarded
    'nothing' slot by its own features alone (a_t = softmax(P w_t), the cue not used); each slot
    sums the tokens (mark + digit beside it) of its windows: S = sum_t a_t[:m] token_t^T, an m x 32
    summary computed without the cue. Only then the cue's window, sorted by the same P, picks a
    slot (c = softmax(P w_cue)[:m], read = S^T c) and the lesson's linear head classifies the read.
    Like attention it gets the lesson's ItemFeatures, the cue's window, one projection shared by
    cue and windows, and the mask of the cue's own windows."""
    def __init__(self, dim=32, m=8):
        super().__init__()
        self.features = VR.ItemFeatures(dim)
        self.slot = nn.Linear(dim, m + 1)
        self.head = nn.Linear(dim, 10)
        self.m = m
        self.register_buffer("mask", VR.cue_mask(), persistent=False)

    def forward(self, images):
        windows, tokens = self.features(images)
        b = len(images)
        tokens = tokens.flatten(2).transpose(1, 2)                         # (B, n, dim)
        w = windows.flatten(2).transpose(1, 2)
        a = torch.softmax(self.slot(w), -1)[..., : self.m] * self.mask[None, :, None]
        S = torch.einsum("bnm,bnd->bmd", a, tokens)                        # summary, cue-blind
        cue = windows[:, :, VR.CUE_WINDOW[0], VR.CUE_WINDOW[1]]
        c = torch.softmax(self.slot(cue), -1)[:, : self.m]
        read = torch.einsum("bm,bmd->bd", c, S)
        weights = torch.einsum("bnm,bm->bn", a, c)                       # implied, for 'mass'
        return self.head(read), weights.reshape(b, VR.GRID, VR.GRID)


class PrototypePool(nn.Module):
    """Cue-blind attention pooling with m learned queries (prototypes), then the cue picks one.
    For each prototype p_k (a learned constant, the same for every canvas) a softmax over the
    windows of sharpness x cosine(K w_t, p_k): weights over positions computed from each window's
    content but NOT from the cue; S_k = the tokens averaged with those weights (m summaries,
    computed before the cue is looked at). Then the cue's window, projected by the same K, picks
    a summary by a softmax over cosine(K w_cue, p_k); the lesson's linear head. Attention's own
    prior (shared projection, cosine, sharpness 10, the cue's windows masked), cue-blind reading."""
    def __init__(self, dim=32, key_dim=16, m=8):
        super().__init__()
        self.features = VR.ItemFeatures(dim)
        self.to_key = nn.Linear(dim, key_dim)
        self.prototypes = nn.Parameter(torch.randn(m, key_dim))
        self.log_sharpness = nn.Parameter(torch.tensor(float(torch.log(torch.tensor(10.0)))))
        self.head = nn.Linear(dim, 10)
        self.register_buffer("mask", VR.cue_mask(), persistent=False)

    def forward(self, images):
        windows, tokens = self.features(images)
        b = len(images)
        tokens = tokens.flatten(2).transpose(1, 2)                         # (B, n, dim)
        k = nn.functional.normalize(self.to_key(windows.flatten(2).transpose(1, 2)), dim=-1)
        p = nn.functional.normalize(self.prototypes, dim=-1)
        s = self.log_sharpness.exp()
        logits = (k @ p.T) * s                                             # (B, n, m): no cue
        logits = logits.masked_fill(~self.mask[None, :, None], float("-inf"))
        a = torch.softmax(logits, 1)                                       # over positions
        S = torch.einsum("bnm,bnd->bmd", a, tokens)                        # m summaries
        cue = nn.functional.normalize(self.to_key(windows[:, :, VR.CUE_WINDOW[0], VR.CUE_WINDOW[1]]), dim=-1)
        c = torch.softmax((cue @ p.T) * s, -1)                             # (B, m): cue picks
        read = torch.einsum("bm,bmd->bd", c, S)
        weights = torch.einsum("bnm,bm->bn", a, c)                       # implied, for 'mass'
        return self.head(read), weights.reshape(b, VR.GRID, VR.GRID)


class CueMLPMax(nn.Module):
    """No weights over positions. The cue window's features are broadcast to every position
    (as extra channels) and each position runs the same small MLP on [token_t, x_t], with
    x_t = w_t * w_cue (a per-channel product of the window's and the cue's features: the
    'bilinear concat') or x_t = w_cue (plain concatenation); then global max pooling (a fixed
    rule per channel) and a linear head. Like attention it gets the cue's window."""
    def __init__(self, dim=32, h=12, product=True):
        super().__init__()
        self.features = VR.ItemFeatures(dim)
        self.product = product
        self.mlp = nn.Sequential(nn.Linear(2 * dim, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.head = nn.Linear(h, 10)
        self.register_buffer("mask", VR.cue_mask(), persistent=False)

    def forward(self, images):
        windows, tokens = self.features(images)
        b = len(images)
        tokens = tokens.flatten(2).transpose(1, 2)
        w = windows.flatten(2).transpose(1, 2)
        cue = windows[:, :, VR.CUE_WINDOW[0], VR.CUE_WINDOW[1]][:, None]
        x = w * cue if self.product else cue.expand_as(w)
        g = self.mlp(torch.cat([tokens, x], -1))
        g = g.masked_fill(~self.mask[None, :, None], 0.0)                 # the cue's own windows
        return self.head(g.amax(1)), torch.full((b, VR.GRID, VR.GRID), 1 / VR.GRID**2)


class PlainAttention(nn.Module):
    """Content-computed weights WITHOUT the lesson's matching prior: the textbook attention a
    practitioner would write first. Query = W_q(cue window's features), keys = W_k(each window's
    features) with separate projections, scaled dot product, softmax over positions (the cue's
    windows masked, as in the lesson), the tokens averaged, the lesson's linear head."""
    def __init__(self, dim=32, key_dim=16):
        super().__init__()
        self.features = VR.ItemFeatures(dim)
        self.q, self.k = nn.Linear(dim, key_dim), nn.Linear(dim, key_dim)
        self.head = nn.Linear(dim, 10)
        self.register_buffer("mask", VR.cue_mask(), persistent=False)

    def forward(self, images):
        windows, tokens = self.features(images)
        b = len(images)
        tokens = tokens.flatten(2).transpose(1, 2)
        w = windows.flatten(2).transpose(1, 2)
        q = self.q(windows[:, :, VR.CUE_WINDOW[0], VR.CUE_WINDOW[1]])[:, None]
        scores = (q @ self.k(w).transpose(1, 2))[:, 0] / q.shape[-1] ** 0.5
        a = torch.softmax(scores.masked_fill(~self.mask[None], float("-inf")), -1)
        return self.head(torch.einsum("bn,bnd->bd", a, tokens)), a.reshape(b, VR.GRID, VR.GRID)


class CueMixer(nn.Module):
    """The word-recall Mixer's recipe for canvases, no weights over positions computed from
    anything: the cue window's features mixed into every position (what a token-mixing layer
    from the cue's token does; here a concatenation), a residual per-position GELU MLP on
    [LayerNorm(token_t), cue], then a learned fixed signed mixing over the 169 positions (the same
    for every canvas, like the Mixer's second token mixing; cue windows masked), linear head."""
    def __init__(self, dim=32, h=8):
        super().__init__()
        self.features = VR.ItemFeatures(dim)
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, h), nn.GELU(), nn.Linear(h, dim))
        self.mixing = nn.Parameter(torch.full((VR.GRID**2,), 1.0 / VR.GRID**2))
        self.head = nn.Linear(dim, 10)
        self.register_buffer("mask", VR.cue_mask(), persistent=False)

    def forward(self, images):
        windows, tokens = self.features(images)
        b = len(images)
        tokens = tokens.flatten(2).transpose(1, 2)
        cue = windows[:, :, VR.CUE_WINDOW[0], VR.CUE_WINDOW[1]][:, None].expand_as(tokens)
        x = tokens + self.mlp(torch.cat([self.norm(tokens), cue], -1))
        mix = self.mixing * self.mask
        pooled = torch.einsum("n,bnd->bd", mix, x)
        return self.head(pooled), mix.expand(b, -1).reshape(b, VR.GRID, VR.GRID)


RIVALS = {
    "cue-mixer (cue into every position, residual GELU MLP, fixed signed mixing)": lambda: CueMixer(32, 8),
    "plain attention (separate q/k, scaled dot, no cosine prior)": lambda: PlainAttention(32, 16),
    "cue-product MLP + max pool": lambda: CueMLPMax(32, 12, True),
    "prototype attention pool (cue-blind), then cue picks": lambda: PrototypePool(32, 16, 8),
    "prototype attention pool, 4 prototypes": lambda: PrototypePool(32, 16, 4),
    "slot pool (cue-blind), then cue picks slot": lambda: SlotPool(32, 8),
}


def run(name, seed, lr, task):
    train, test = task
    torch.manual_seed(seed)
    model = RIVALS[name]() if name in RIVALS else VR.build(name)
    n = count_parameters(model)
    t = time.time()
    train_loop(model, train[:2], steps=VR.STEPS, batch_size=VR.BATCH, lr=lr, seed=seed,
               progress=False, desc=name)
    r = VR.evaluate(model, test)
    tr = (predict(model, train[0][:1000])[0].argmax(-1) == train[1][:1000]).float().mean().item()
    rec = {"task": "visual recall", "rival": name, "seed": seed, "lr": lr, "params": n,
           "target": TARGET, "steps": VR.STEPS, "batch": VR.BATCH, "accuracy": r["accuracy"],
           "mass": r["mass"], "train_accuracy_1000": tr, "seconds": round(time.time() - t, 1)}
    print(json.dumps(rec), flush=True)
    with open("docs/reviews/lesson05_rivals_2/results.jsonl", "a") as fh:
        fh.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "params":
        for name, make in RIVALS.items():
            n = count_parameters(make())
            print(f"{name}: {n} ({n / TARGET - 1:+.1%})")
        sys.exit()
    seed = int(sys.argv[1])
    lrs = [float(x) for x in sys.argv[2].split(",")]
    names = sys.argv[3].split("|") if len(sys.argv) > 3 else list(RIVALS)
    task = VR.make_task()
    for name in names:
        for lr in lrs:
            run(name, seed, lr, task)
