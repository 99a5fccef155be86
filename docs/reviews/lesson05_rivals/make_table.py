"""Collect review/*_results.jsonl into a markdown table (attention's stored sweep score beside)."""
import json, collections
rows = collections.OrderedDict()
att = {"word recall": json.load(open("course_lib/sweeps/lesson05_recall.json"))["runs"],
       "visual recall": json.load(open("course_lib/sweeps/lesson05_visual_recall.json"))["runs"]}
out = ["| task | rival | params (attention) | lr | steps x batch | accuracy seed 0 / 1 / 2 | attention (stored sweep) seed 0 / 1 / 2 |",
       "|---|---|---|---|---|---|---|"]
for task, path, tp in [("word recall", "review/text_results.jsonl", 6920),
                       ("visual recall", "review/visual_results.jsonl", 6075)]:
    try:
        lines = [json.loads(l) for l in open(path)]
    except FileNotFoundError:
        continue
    groups = collections.OrderedDict()
    for r in lines:
        groups.setdefault((r["rival"], r["lr"]), {})[r["seed"]] = r
    order = list(dict.fromkeys(r["rival"] for r in lines))
    for (rival, lr), by_seed in sorted(groups.items(), key=lambda g: (order.index(g[0][0]), -g[0][1])):
        r0 = next(iter(by_seed.values()))
        accs = " / ".join(f"{by_seed[s]['accuracy']:.3f}" if s in by_seed else "-" for s in (0, 1, 2))
        a = " / ".join(f"{att[task][str(s)]['attention']['accuracy']:.3f}" for s in (0, 1, 2))
        extra = f" (train {r0['train_accuracy']:.2f})" if "train_accuracy" in r0 else ""
        out.append(f"| {task} | {rival} | {r0['params']:,} ({tp:,}) | {lr:g} | {r0['steps']} x {r0['batch']} | {accs}{extra} | {a} |")
print("\n".join(out))
