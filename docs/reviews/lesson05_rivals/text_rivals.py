"""Sceptic's rivals for lesson 05, word recall (course_lib/recall.py), on the lesson's own data:
recall.sentences / recall.train_recaller batches (same seed -> same sentences), recall.test_sets,
600 Adam steps, batch 64, parameters matched to the attention reader (6,920) within 10%.
Usage: PYTHONPATH=. python review/text_rivals.py [seed] [lr,lr,...] ["rival|rival"]
"""
import json, sys, time
import torch
import torch.nn.functional as F
from torch import nn
torch.set_num_threads(1)
from course_lib import recall as R

V, E, MAXLEN = len(R.VOCAB), 16, R.length_of(max(R.PAIRS))
TARGET = R.count_parameters(R.Recaller("attention"))


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, E)
        self.position = nn.Embedding(MAXLEN, E)

    def x(self, tokens):
        return self.embed(tokens) + self.position.weight[: tokens.shape[1]]


def classifier(n_in, hidden=32):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, R.N_CLASSES))


class BiRNN(Base):
    """Bidirectional GRU/LSTM over the whole sentence, as given; reads [fwd final, bwd final, asked]."""
    def __init__(self, h, cell="GRU"):
        super().__init__()
        self.rnn = getattr(nn, cell)(E, h, batch_first=True, bidirectional=True)
        self.classify = classifier(2 * h + E)

    def forward(self, tokens):
        x = self.x(tokens)
        _, hn = self.rnn(x)
        hn = hn[0] if isinstance(hn, tuple) else hn               # (2, B, h)
        return self.classify(torch.cat([hn[0], hn[1], x[:, -2]], -1)), None


class QueryFirstRNN(Base):
    """A unidirectional GRU/LSTM that reads the question first: input = [asked, ?, sentence...]
    (the same tokens, re-ordered by a fixed rule; positions embedded after re-ordering)."""
    def __init__(self, h, cell="GRU"):
        super().__init__()
        self.rnn = getattr(nn, cell)(E, h, batch_first=True)
        self.classify = classifier(h + E)

    def forward(self, tokens):
        tok = torch.cat([tokens[:, -2:], tokens[:, :-2]], 1)
        x = self.x(tok)
        _, hn = self.rnn(x)
        hn = hn[0] if isinstance(hn, tuple) else hn
        return self.classify(torch.cat([hn[-1], x[:, 0]], -1)), None


class PlainRNN(Base):
    """Unidirectional GRU/LSTM as the lesson's, but given as the rival with other cell/width."""
    def __init__(self, h, cell="LSTM"):
        super().__init__()
        self.rnn = getattr(nn, cell)(E, h, batch_first=True)
        self.classify = classifier(h + E)

    def forward(self, tokens):
        x = self.x(tokens)
        _, hn = self.rnn(x)
        hn = hn[0] if isinstance(hn, tuple) else hn
        return self.classify(torch.cat([hn[-1], x[:, -2]], -1)), None


class WideCNN(Base):
    """1-D CNN: three width-5 convs, dilations 1, 2, 4 (receptive field 29 words), ReLU, global
    max pooling over all positions (the question included), MLP with the asked word."""
    def __init__(self, c):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(E, c, 5, padding=2),
                                    nn.Conv1d(c, c, 5, padding=4, dilation=2),
                                    nn.Conv1d(c, c, 5, padding=8, dilation=4)])
        self.classify = classifier(c + E)

    def forward(self, tokens):
        x = self.x(tokens)
        h = x.transpose(1, 2)
        for conv in self.convs:
            h = torch.relu(conv(h))
        return self.classify(torch.cat([h.amax(2), x[:, -2]], -1)), None


class QueryConcatMax(Base):
    """No softmax, no product: every list word's width-5 window is concatenated with the asked
    word's embedding, two ReLU layers per position, global max pooling, the lesson's classifier."""
    def __init__(self, c):
        super().__init__()
        self.l1 = nn.Linear(6 * E, c)
        self.l2 = nn.Linear(c, c)
        self.classify = classifier(c + E)

    def forward(self, tokens):
        x = self.x(tokens)
        asked = x[:, -2]
        n_list = tokens.shape[1] - 3
        window = F.pad(x, (0, 0, 2, 2)).unfold(1, 5, 1).transpose(2, 3).flatten(2)[:, :n_list]
        h = torch.cat([window, asked[:, None].expand(-1, n_list, -1)], -1)
        h = torch.relu(self.l2(torch.relu(self.l1(h))))
        return self.classify(torch.cat([h.amax(1), asked], -1)), None


class SigmoidGate(Base):
    """The lesson's trunk; query from the asked word, key per word as in attention, but an
    independent sigmoid gate per word (no softmax, no competition), gated features summed."""
    def __init__(self, c):
        super().__init__()
        self.local = nn.Linear(5 * E, c)
        self.query, self.key = nn.Linear(E, c), nn.Linear(c, c)
        self.classify = classifier(c + E)

    def forward(self, tokens):
        x = self.x(tokens)
        asked = x[:, -2]
        n_list = tokens.shape[1] - 3
        window = F.pad(x, (0, 0, 2, 2)).unfold(1, 5, 1).transpose(2, 3).flatten(2)[:, :n_list]
        f = torch.relu(self.local(window))
        gate = torch.sigmoid((self.key(f) @ self.query(asked)[:, :, None])[..., 0] / f.shape[-1] ** 0.5)
        return self.classify(torch.cat([(gate[..., None] * f).sum(1), asked], -1)), gate


RIVALS = {
    "BiGRU": lambda w: BiRNN(w, "GRU"),
    "BiLSTM": lambda w: BiRNN(w, "LSTM"),
    "GRU, question first": lambda w: QueryFirstRNN(w, "GRU"),
    "LSTM (as given)": lambda w: PlainRNN(w, "LSTM"),
    "1-D CNN, field 29": WideCNN,
    "question-concat MLP + max": QueryConcatMax,
    "sigmoid gate (no softmax)": SigmoidGate,
}


def matched(name):
    w = min(range(4, 160), key=lambda w: abs(R.count_parameters(RIVALS[name](w)) - TARGET))
    return w


def run(name, seed, lr):
    w = matched(name)
    torch.manual_seed(seed)
    model = RIVALS[name](w)
    t = time.time()
    R.train_recaller(model, lr=lr, seed=seed, progress=False)
    scores = R.evaluate(model, R.test_sets())
    return {"rival": name, "width": w, "params": R.count_parameters(model), "seed": seed, "lr": lr,
            "steps": R.BUDGET["steps"], "batch": R.BUDGET["batch_size"],
            "accuracy": sum(scores.values()) / len(scores), "accuracy@2": scores[2],
            "accuracy@8": scores[8], "seconds": round(time.time() - t, 1)}


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    lrs = [float(x) for x in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1e-2, 3e-3]
    names = sys.argv[3].split("|") if len(sys.argv) > 3 else list(RIVALS)
    print("attention params", TARGET, flush=True)
    for name in names:
        for lr in lrs:
            r = run(name, seed, lr)
            print(json.dumps(r), flush=True)
            with open("review/text_results.jsonl", "a") as f:
                f.write(json.dumps(r) + "\n")
