"""The lessons' trained experiments, each beside its strongest rivals (lessons 03, 05, 06).

Every experiment module speaks the same four verbs (CONTRIBUTING.md, "Experiments"):

    make_task(...) -> (train, test)        seeded data: what training draws from, and the
                                           held-out test set
    fit(model_name, train, seed=0, ...)    build one model (attention, or a rival: a name the
                                           module lists) and train it with the experiment's
                                           budget; returns the trained model
    evaluate(model, test) -> dict          held-out measurements: accuracy, where the weights went
    claims(run) -> {sentence: bool}        the facts the lesson states, computed from a run
    run_seed(seed) -> {model: {metric: float}}   every model of the experiment, for a stored sweep
    build(model_name) -> nn.Module         a fresh, untrained model (what shipped weights load into)

The rules behind the four verbs:
  * the data a model is trained on come from ``make_task``; where training draws a fresh batch at
    every step (seq2seq, recall), ``train`` says what the batches are drawn from and ``fit``'s
    seed draws them;
  * ``fit`` takes a model's *name* and builds the model itself, so that every rival is built and
    trained in one way; a loop that trains a given model is private to the module
    (``_train``) or named for what it does (``capstone.train_with_budget``);
  * ``claims(run)`` leaves out a sentence whose models the run lacks: the lesson trains one model
    live (``claims({"attention": evaluate(model, test)})``), the claims tests every model;
    where the claims also read where the weight went, that measurement is a second argument
    (``seq2seq.claims(scores, mass)``, ``recall.claims(run, on_pair)``);
  * an experiment with several tasks names the task where the others pass data:
    ``make_task(task)``, ``fit(model_name, task, seed)``, ``evaluate(model, task)``,
    ``claims(task, run)``, ``run_seed(seed, task)`` (capstone);
  * the data generators beneath ``make_task`` are named for what they make
    (``cluttered_digits``, ``digit_videos``, ``recall_canvases``, ``two_job_sequences``).

    module             lesson                   make_task          fit(model_name, ...)
    trained_heads.py   03: two heads learn      (train, test)      "2 heads", "1 head",
                       two jobs                 sequences          "uniform weights"
    clutter.py         05.2: a digit among      canvases, boxes    a pooling: "attention",
                       fragments on texture                        "uniform", "ink", "max", "mixing"
    visual_recall.py   05.2: the digit beside   canvases, where    MODELS: "attention", ...,
                       the cued mark            the items are      "cnn"
    video.py           05.3: which digit        clips              MODELS: "attention",
                       moves?                                      "max pooling", ..., "one frame"
    seq2seq.py         05.4: reversal needs     batch lengths,     "dot", "fixed", "uniform",
                       a place, not content     held-out seqs      "none"
    recall.py          05.4: the word to read   pairs per batch,   READERS: "attention",
                       is found by content      held-out sentences "mean", ..., "GRU"
    capstone.py        06: a CNN and a ViT,     make_task(task):   CONFIGS: "cnn", "vit", ...
                       matched, on two tasks    "local", "long-range"
    sweeps.py          stored sweeps: a claim as a range over seeds, computed once, re-checked
    shipped.py         shipped weights: the lessons' trained models as training gave them,
                       loaded when they belong to exactly the lesson's call (else trained)

The data the image experiments share (real digits on texture) live in ``course_lib.data.digits``;
an experiment imports data and layers from below, never from another experiment.
"""
