"""Attention itself (lessons 00-03): similarity -> weights -> weighted aggregation.

    core.py               the three steps: ``similarity``, ``softmax_weights``, ``attend`` (the
                          NumPy/torch door) over ``compute_similarity``, ``allocate_weights``,
                          ``aggregate`` (tensors); ``MultiHeadAttention``, ``AdditiveScore`` (lessons 00-03)
    numerics.py           the floating-point care behind them: scores and softmax that stay right
                          at any scale (lessons 01-02)
    masks.py              which keys a query may attend to: causal, padding, window (lesson 02)
    weight_rules.py       other ways from scores to weights, each taking (scores, temperature, mask):
                          top-k, sparsemax, argmax; entropy (lesson 02)
    positions.py          positional encodings: telling attention *where* (lessons 03, 06)
    kernel_regression.py  attention pooling as Nadaraya-Watson regression (lesson 03)
    words.py              self-attention on the words of a sentence, heads built by hand (lesson 03)
"""
