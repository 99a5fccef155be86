"""Second sceptic's rivals for lesson 05, word recall (course_lib/experiments/recall.py).

Same data and budget as the lesson: models trained by the lesson's own loop ``recall._train``
(600 Adam steps, batch 64, one K in 2..8 per batch, fresh sentences from the seed), scored on
``recall.make_task()[1]`` (held out, seed 12345). Parameters within 10% of the attention reader
(6,920). Weights are initialised after ``torch.manual_seed(seed)``, as ``recall.build`` does.

Usage (repository root): PYTHONPATH=. python docs/reviews/lesson05_rivals_2/text_rivals.py SEED LR,LR "rival|rival"
"""
import json, sys, time
import torch
torch.set_num_threads(1)
import torch.nn.functional as F
from torch import nn
from course_lib.experiments import recall as R
from course_lib.layers.models import count_parameters

V, E, MAXLEN = len(R.VOCAB), 16, R.length_of(max(R.PAIRS))
PAD = V                                   # an extra token id for right-aligned padding
TARGET = count_parameters(R.Recaller("attention"))


def classifier(n_in, hidden=32):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, R.N_CLASSES))


class Trunk(nn.Module):
    """The lesson's trunk: embedding + position, a width-5 ReLU layer -> features of the list
    (words before ';') and the asked word's embedding."""
    def __init__(self, width=32):
        super().__init__()
        self.embed = nn.Embedding(V, E)
        self.position = nn.Embedding(MAXLEN, E)
        self.local = nn.Linear(5 * E, width)

    def forward(self, tokens):
        L = tokens.shape[1]
        x = self.embed(tokens) + self.position.weight[:L]
        window = F.pad(x, (0, 0, 2, 2)).unfold(1, 5, 1)
        f = torch.relu(self.local(window.transpose(2, 3).flatten(2)))[:, : L - 3]
        return f, x[:, -2]


class OuterPool(nn.Module):
    """Question-blind second-order pooling: S = sum_t (A f_t)(B f_t)^T over the list (a fixed,
    uniform sum; no weight per position, the question not used), then the lesson's classifier
    MLP([vec S, asked]). The question meets the list only after the summary."""
    def __init__(self, width=32, p=8, q=8, hidden=32):
        super().__init__()
        self.trunk = Trunk(width)
        self.a, self.b = nn.Linear(width, p), nn.Linear(width, q)
        self.classify = classifier(p * q + E, hidden)

    def forward(self, tokens):
        f, asked = self.trunk(tokens)
        S = torch.einsum("btp,btq->bpq", self.a(f), self.b(f)).flatten(1)
        return self.classify(torch.cat([S, asked], -1)), None


class SlotPool(nn.Module):
    """Question-blind slot pooling: each list word is sorted into m slots by its own content
    (a_t = softmax(P f_t), the question not used), each slot sums its words' features
    (S = sum_t a_t f_t^T, m x width); only then the asked word picks a slot (c = softmax(Q asked),
    read = S^T c) and the lesson's classifier gets [read, asked]."""
    def __init__(self, width=32, m=12, hidden=32):
        super().__init__()
        self.trunk = Trunk(width)
        self.slot = nn.Linear(width, m)
        self.pick = nn.Linear(E, m)
        self.classify = classifier(width + E, hidden)

    def forward(self, tokens):
        f, asked = self.trunk(tokens)
        S = torch.einsum("btm,btw->bmw", torch.softmax(self.slot(f), -1), f)   # summary first
        read = torch.einsum("bm,bmw->bw", torch.softmax(self.pick(asked), -1), S)
        return self.classify(torch.cat([read, asked], -1)), None


def right_align(tokens):
    """(B, 4K+2) -> (B, MAXLEN): PAD on the left, so the question sits at the same index always."""
    B, L = tokens.shape
    return torch.cat([torch.full((B, MAXLEN - L), PAD, dtype=tokens.dtype), tokens], 1)


class FlatMLP(nn.Module):
    """The whole sentence, right-aligned to 34 slots, embedded (e numbers a word) and flattened
    (position kept): an MLP. No pooling, no weights over positions."""
    def __init__(self, e=8, hidden=24, layers=1):
        super().__init__()
        self.embed = nn.Embedding(V + 1, e)
        mods, n = [], MAXLEN * e
        for _ in range(layers):
            mods += [nn.Linear(n, hidden), nn.ReLU()]
            n = hidden
        self.mlp = nn.Sequential(*mods, nn.Linear(n, R.N_CLASSES))

    def forward(self, tokens):
        return self.mlp(self.embed(right_align(tokens)).flatten(1)), None


class Mixer(nn.Module):
    """MLP-Mixer over the right-aligned sentence: blocks of [LayerNorm, token mixing (a learned
    34 x 34 matrix, the same for every sentence), LayerNorm, channel MLP], residual; the lesson's
    classifier reads the question's token after the last block."""
    def __init__(self, d=16, blocks=2, expand=2, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(V + 1, d)
        self.position = nn.Parameter(torch.zeros(MAXLEN, d))
        self.n1 = nn.ModuleList(nn.LayerNorm(d) for _ in range(blocks))
        self.tok = nn.ModuleList(nn.Linear(MAXLEN, MAXLEN) for _ in range(blocks))
        self.n2 = nn.ModuleList(nn.LayerNorm(d) for _ in range(blocks))
        self.ch = nn.ModuleList(nn.Sequential(nn.Linear(d, expand * d), nn.GELU(),
                                              nn.Linear(expand * d, d)) for _ in range(blocks))
        self.classify = classifier(d, hidden)

    def forward(self, tokens):
        x = self.embed(right_align(tokens)) + self.position
        for n1, tok, n2, ch in zip(self.n1, self.tok, self.n2, self.ch):
            x = x + tok(n1(x).transpose(1, 2)).transpose(1, 2)
            x = x + ch(n2(x))
        return self.classify(x[:, -2]), None


class MixerLeftAligned(Mixer):
    """The 2-block Mixer with the sentence as given (PAD on the right, so the question's index
    moves with K); the classifier reads the question's token at index 4K (known from the length)."""
    def forward(self, tokens):
        B, L = tokens.shape
        padded = torch.cat([tokens, torch.full((B, MAXLEN - L), PAD, dtype=tokens.dtype)], 1)
        x = self.embed(padded) + self.position
        for n1, tok, n2, ch in zip(self.n1, self.tok, self.n2, self.ch):
            x = x + tok(n1(x).transpose(1, 2)).transpose(1, 2)
            x = x + ch(n2(x))
        return self.classify(x[:, L - 2]), None


class DilatedCNN(nn.Module):
    """Right-aligned sentence, residual dilated 1-D convolutions (kernel 3, dilations
    1, 2, 4, 8, 16: a 63-word field, the whole sentence), read out at the question's index."""
    def __init__(self, d=18, dilations=(1, 2, 4, 8, 16), hidden=32):
        super().__init__()
        self.embed = nn.Embedding(V + 1, d)
        self.position = nn.Parameter(torch.zeros(MAXLEN, d))
        self.convs = nn.ModuleList(nn.Conv1d(d, d, 3, dilation=r, padding=r) for r in dilations)
        self.classify = classifier(d, hidden)

    def forward(self, tokens):
        x = (self.embed(right_align(tokens)) + self.position).transpose(1, 2)
        for conv in self.convs:
            x = x + torch.relu(conv(x))
        return self.classify(x[:, :, -2]), None


class QConcatMean(nn.Module):
    """The first sceptic's question-concat reader with MEAN pooling instead of max: the asked
    word joined to every list word's feature, two ReLU layers per word, the plain average (fixed,
    uniform weights: no selection), the lesson's classifier."""
    def __init__(self, width=32, h=24):
        super().__init__()
        self.trunk = Trunk(width)
        self.per = nn.Sequential(nn.Linear(width + E, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.classify = classifier(h + E)

    def forward(self, tokens):
        f, asked = self.trunk(tokens)
        g = self.per(torch.cat([f, asked[:, None].expand(-1, f.shape[1], -1)], -1))
        return self.classify(torch.cat([g.mean(1), asked], -1)), None


RIVALS = {
    "outer-product pool (question-blind) + MLP": lambda: OuterPool(32, 8, 8, 32),
    "slot pool (question-blind), then question picks slot": lambda: SlotPool(38, 12, 32),
    "flat MLP, position kept": lambda: FlatMLP(8, 24, 1),
    "flat MLP, 2 hidden layers": lambda: FlatMLP(8, 22, 2),
    "MLP-Mixer, 2 blocks": lambda: Mixer(16, 2, 2, 32),
    "MLP-Mixer, 2 blocks, left-aligned": lambda: MixerLeftAligned(16, 2, 2, 32),
    "MLP-Mixer, 1 block (summary before question)": lambda: Mixer(26, 1, 2, 32),
    "slot pool, 16 slots": lambda: SlotPool(36, 16, 32),
    "dilated CNN, field 63, read at question": lambda: DilatedCNN(18),
    "question-concat MLP + mean pool": lambda: QConcatMean(32, 24),
}


def run(name, seed, lr):
    torch.manual_seed(seed)
    model = RIVALS[name]()
    n = count_parameters(model)
    t = time.time()
    hist = R._train(model, lr=lr, seed=seed, progress=False)
    scores = R.evaluate(model, R.make_task()[1])
    rec = {"task": "word recall", "rival": name, "seed": seed, "lr": lr, "params": n,
           "target": TARGET, "steps": R.BUDGET["steps"], "batch": R.BUDGET["batch_size"],
           "accuracy": sum(scores.values()) / len(scores), "accuracy@2": scores[2],
           "accuracy@8": scores[8], "final_loss": sum(hist["loss"][-50:]) / 50,
           "seconds": round(time.time() - t, 1)}
    print(json.dumps(rec), flush=True)
    with open("docs/reviews/lesson05_rivals_2/results.jsonl", "a") as fh:
        fh.write(json.dumps(rec) + "\n")
    return rec


if __name__ == "__main__":
    if sys.argv[1] == "params":
        for name, make in RIVALS.items():
            n = count_parameters(make())
            print(f"{name}: {n} ({n / TARGET - 1:+.1%})")
        sys.exit()
    seed = int(sys.argv[1])
    lrs = [float(x) for x in sys.argv[2].split(",")]
    names = sys.argv[3].split("|") if len(sys.argv) > 3 else list(RIVALS)
    for name in names:
        for lr in lrs:
            run(name, seed, lr)
