"""The lessons' trained experiments, each beside its strongest rivals (lessons 03, 05, 06).

Every experiment module speaks the same four verbs (CONTRIBUTING.md, "Experiments"):

    make_task(...)        seeded data: the training set and the held-out test set
    fit(model_name, ...)  train one model (attention, or a rival) with the experiment's budget
    evaluate(model, test) held-out measurements: accuracy and where the weights went
    claims(run)           the facts the lesson states, computed from a run, as booleans

    trained_heads.py   two heads that learn two jobs (lesson 03)
    clutter.py         a digit hidden among fragments on real texture (lesson 05, section 2)
    visual_recall.py   read the digit beside the mark that matches a cue (lesson 05, section 2)
    video.py           which digit moves? attention over space and time (lesson 05, section 3)
    seq2seq.py         reversing a sequence: needs a place, not content (lesson 05, section 4)
    recall.py          a text task where the word to read is found by its content (lesson 05, section 4)
    capstone.py        a CNN and a vision transformer, matched, on two image tasks (lesson 06)
    sweeps.py          stored sweeps: a claim as a range over seeds, computed once, re-checked
"""
