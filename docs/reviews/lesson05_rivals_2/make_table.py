"""The table of RESULTS.md from results.jsonl (seed 0 rows per learning rate; seeds 1-2 where run).
Usage (repository root): python docs/reviews/lesson05_rivals_2/make_table.py"""
import json, os
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
CONTENT = {  # rival -> per-position read weights computed from question/cue and content?
    "outer-product pool (question-blind) + MLP": "no: question-blind sum of outer products, the question meets only the summary",
    "slot pool (question-blind), then question picks slot": "not computed (summary first, question-blind); in effect yes: the read weight of word t is a_t . c(question)",
    "slot pool, 16 slots": "as above",
    "flat MLP, position kept": "no: one MLP on the flattened sentence",
    "flat MLP, 2 hidden layers": "no",
    "MLP-Mixer, 2 blocks": "no: token mixing is a fixed learned matrix (the lesson's 'fixed mixing', twice); per-word GELU MLP acts per channel",
    "MLP-Mixer, 2 blocks, left-aligned": "no (as above)",
    "MLP-Mixer, 1 block (summary before question)": "no",
    "dilated CNN, field 63, read at question": "no: fixed kernels",
    "question-concat MLP + mean pool": "no weights (uniform mean); 'yes' by the course's ReLU-survival argument",
    "slot pool (cue-blind), then cue picks slot": "not computed (cue-blind summary); in effect yes (a_t . c(cue))",
    "prototype attention pool (cue-blind), then cue picks": "weights over positions from content vs learned constants, NOT the cue; in effect cue-dependent",
    "prototype attention pool, 4 prototypes": "as above",
    "cue-product MLP + max pool": "no weights (per-channel max); 'yes' by the course's ReLU-survival argument",
    "plain attention (separate q/k, scaled dot, no cosine prior)": "yes: softmax over positions of q(cue) . k(window)",
    "attention": "yes (the lesson's own model, run through this harness: a check, and a reference at lr 0.002)",
    "cue-mixer (cue into every position, residual GELU MLP, fixed signed mixing)": "no: fixed mixing over positions; per-position GELU MLP on [token, cue]",
}
rows = [json.loads(l) for l in open(os.path.join(HERE, "results.jsonl"))]
by = defaultdict(dict)
for r in rows:
    by[(r["task"], r["rival"], r["lr"])][r["seed"]] = r
print("| task | rival | content-computed per-position weights? | params (attention) | lr | steps x batch | accuracy seed 0 / 1 / 2 | seed 0: acc@2, acc@8 (word) or train acc, mass (visual) |")
print("|---|---|---|---|---|---|---|---|")
order = list(CONTENT)
for (task, rival, lr), seeds in sorted(by.items(), key=lambda kv: (kv[0][0] != "word recall", order.index(kv[0][1]), -kv[0][2])):
    r0 = seeds.get(0) or next(iter(seeds.values()))
    acc = " / ".join(f"{seeds[s]['accuracy']:.3f}" if s in seeds else "-" for s in (0, 1, 2))
    extra = (f"{r0['accuracy@2']:.2f}, {r0['accuracy@8']:.2f}" if task == "word recall"
             else f"{r0['train_accuracy_1000']:.2f}, {r0['mass']:.2f}")
    print(f"| {task} | {rival} | {CONTENT[rival]} | {r0['params']:,} ({r0['target']:,}) | {lr:g} | "
          f"{r0['steps']} x {r0['batch']} | {acc} | {extra} |")
