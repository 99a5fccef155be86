"""Sceptic's rivals for lesson 05, visual associative recall (course_lib/visual_recall.py), on the
lesson's own data (visual_recall.make_task(): 3000 train canvases, 1000 test canvases with held-out
digits), trained by visual_recall's own loop (course_lib.training.train: 800 Adam steps, batch 64,
same batch order per seed), parameters within 10% of the attention model (6,075).
Usage: PYTHONPATH=. python review/visual_rivals.py seed lr,lr "rival|rival"
"""
import json, os, sys, tempfile, time
import torch
import torch.nn.functional as F
from torch import nn
torch.set_num_threads(1)
from course_lib import visual_recall as V
from course_lib.models import count_parameters
from course_lib.training import train as train_loop

TARGET = count_parameters(V.build("attention"))
CUE = V.CUE_WINDOW


def tokens_of(features, images):
    windows, tokens = features(images)
    return windows, tokens.flatten(2).transpose(1, 2)          # (B, dim, 13, 13), (B, n, dim)


class PoolMLP(nn.Module):
    """The lesson's features and tokens; uniform or max pooling; an MLP head (not linear)."""
    def __init__(self, h, pool="max", dim=32):
        super().__init__()
        self.pool, self.features = pool, V.ItemFeatures(dim)
        self.head = nn.Sequential(nn.Linear(dim, h), nn.ReLU(), nn.Linear(h, 10))

    def forward(self, images):
        _, t = tokens_of(self.features, images)
        pooled = t.amax(1) if self.pool == "max" else t.mean(1)
        return self.head(pooled), images.new_zeros(len(images), 1)


class CueConcatMax(nn.Module):
    """No product, no softmax, no sigmoid: the cue window's features (taken where attention takes
    its query) are concatenated to every token; two ReLU 1x1 layers per position; global max
    pooling; linear head."""
    def __init__(self, h, dim=32):
        super().__init__()
        self.features = V.ItemFeatures(dim)
        self.l1, self.l2 = nn.Linear(2 * dim, h), nn.Linear(h, h)
        self.head = nn.Linear(h, 10)

    def forward(self, images):
        w, t = tokens_of(self.features, images)
        cue = w[:, :, CUE[0], CUE[1]]
        x = torch.cat([t, cue[:, None].expand(-1, t.shape[1], -1)], -1)
        x = torch.relu(self.l2(torch.relu(self.l1(x))))
        return self.head(x.amax(1)), images.new_zeros(len(images), 1)


class FiLMMax(nn.Module):
    """FiLM: the cue window's features give a per-channel scale and shift (through a rank-r
    bottleneck) applied to every token, the same at every position; ReLU; global max pooling;
    linear head."""
    def __init__(self, r, dim=32):
        super().__init__()
        self.features = V.ItemFeatures(dim)
        self.film = nn.Sequential(nn.Linear(dim, r), nn.ReLU(), nn.Linear(r, 2 * dim))
        self.head = nn.Linear(dim, 10)

    def forward(self, images):
        w, t = tokens_of(self.features, images)
        gamma, beta = self.film(w[:, :, CUE[0], CUE[1]]).chunk(2, -1)
        x = torch.relu(t * (1 + gamma[:, None]) + beta[:, None])
        return self.head(x.amax(1)), images.new_zeros(len(images), 1)


class SigmoidGateMax(nn.Module):
    """The attention model with the softmax replaced by an independent sigmoid gate per window
    (cosine(query from cue, key) * sharpness + bias), gated tokens max-pooled (no competition)."""
    def __init__(self, _=None, dim=32, key_dim=16):
        super().__init__()
        self.features = V.ItemFeatures(dim)
        self.to_key = nn.Linear(dim, key_dim)
        self.log_sharpness = nn.Parameter(torch.tensor(2.3))
        self.bias = nn.Parameter(torch.tensor(-5.0))
        self.head = nn.Linear(dim, 10)
        self.register_buffer("mask", V.cue_mask(), persistent=False)

    def forward(self, images):
        w, t = tokens_of(self.features, images)
        q = F.normalize(self.to_key(w[:, :, CUE[0], CUE[1]]), dim=-1)
        k = F.normalize(self.to_key(w.flatten(2).transpose(1, 2)), dim=-1)
        gate = torch.sigmoid((k @ q[:, :, None])[..., 0] * self.log_sharpness.exp() + self.bias)
        gate = gate * self.mask
        return self.head((gate[..., None] * t).amax(1)), images.new_zeros(len(images), 1)


class CoordCNN(nn.Module):
    """A CNN told where it is (CoordConv: x, y channels), with BatchNorm, whole-canvas receptive
    field (5x5 then four 3x3 stride-2 layers), global max pooling, MLP head."""
    def __init__(self, c, h=24):
        super().__init__()
        layers = [nn.Conv2d(3, c, 5, padding=2), nn.BatchNorm2d(c), nn.ReLU()]
        for _ in range(4):
            layers += [nn.Conv2d(c, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(c, h), nn.ReLU(), nn.Linear(h, 10))

    def forward(self, images):
        b = len(images)
        ys = torch.linspace(-1, 1, V.SIZE).view(1, 1, -1, 1).expand(b, 1, V.SIZE, V.SIZE)
        xs = torch.linspace(-1, 1, V.SIZE).view(1, 1, 1, -1).expand(b, 1, V.SIZE, V.SIZE)
        x = torch.cat([(images - 0.3) / 0.25, ys, xs], 1)
        return self.head(self.body(x).amax((2, 3))), images.new_zeros(len(images), 1)


class FlatCNN(nn.Module):
    """A CNN that keeps the layout: conv 5x5 stride 2 -> conv 3x3 stride 2 -> flatten the 8x8 map
    -> MLP (a position-aware readout, like a small VGG/LeNet head)."""
    def __init__(self, c, h=16):
        super().__init__()
        self.c1 = nn.Conv2d(1, c, 5, stride=2, padding=2)
        self.c2 = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.head = nn.Sequential(nn.Linear(c * 64, h), nn.ReLU(), nn.Linear(h, 10))

    def forward(self, images):
        x = torch.relu(self.c2(torch.relu(self.c1((images - 0.3) / 0.25))))
        return self.head(x.flatten(1)), images.new_zeros(len(images), 1)


RIVALS = {
    "max pool + MLP head": lambda w: PoolMLP(w, "max"),
    "mean pool + MLP head": lambda w: PoolMLP(w, "mean"),
    "cue-concat MLP + max pool": CueConcatMax,
    "cue-concat MLP + max pool, features 24 wide": lambda w: CueConcatMax(w, dim=24),
    "FiLM(cue) + max pool": FiLMMax,
    "sigmoid gate(cue) + max pool": SigmoidGateMax,
    "CoordConv CNN + BN + MLP head": CoordCNN,
    "CNN, flattened map + MLP": FlatCNN,
}
# the lesson's own models (course_lib.visual_recall.build), re-run here for other learning rates
# and to measure their training accuracy
for _m in V.MODELS:
    RIVALS[f"lesson's {_m}"] = (lambda m: (lambda w: V.build(m)))(_m)
FIXED_WIDTH = {"sigmoid gate(cue) + max pool": 0, **{f"lesson's {m}": 0 for m in V.MODELS}}


def matched(name):
    if name in FIXED_WIDTH:
        return FIXED_WIDTH[name]
    return min(range(2, 80), key=lambda w: abs(count_parameters(RIVALS[name](w)) - TARGET))


def task():
    # the lesson's canvases, cached once per machine in the system's temporary folder
    path = os.path.join(tempfile.gettempdir(), "sceptic_visual_task.pt")
    if os.path.exists(path):
        return torch.load(path, weights_only=False)
    t = V.make_task()
    torch.save(t, path)
    return t


def run(name, seed, lr, train, test):
    w = matched(name)
    torch.manual_seed(seed)
    model = RIVALS[name](w)
    t0 = time.time()
    train_loop(model, train[:2], steps=V.STEPS, batch_size=V.BATCH, lr=lr, seed=seed,
               progress=False, desc=name)
    from course_lib.training import predict
    logits, _ = predict(model, test[0])
    acc = (logits.argmax(-1) == test[1]).float().mean().item()
    # train accuracy on 1000 training canvases, to tell under-fitting from over-fitting
    tl, _ = predict(model, train[0][:1000])
    tr = (tl.argmax(-1) == train[1][:1000]).float().mean().item()
    return {"rival": name, "width": w, "params": count_parameters(model), "seed": seed, "lr": lr,
            "steps": V.STEPS, "batch": V.BATCH, "accuracy": acc, "train_accuracy": tr,
            "seconds": round(time.time() - t0, 1)}


if __name__ == "__main__":
    seed = int(sys.argv[1])
    lrs = [float(x) for x in sys.argv[2].split(",")]
    names = sys.argv[3].split("|") if len(sys.argv) > 3 else list(RIVALS)
    train, test = task()
    print("attention params", TARGET, flush=True)
    for name in names:
        for lr in lrs:
            r = run(name, seed, lr, train, test)
            print(json.dumps(r), flush=True)
            with open("review/visual_results.jsonl", "a") as f:
                f.write(json.dumps(r) + "\n")
