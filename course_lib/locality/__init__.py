"""What locality buys and costs (lessons 04 and 06): convolution beside attention.

    conv_attention.py   convolution as K*K attention heads with positional scores (lesson 04)
    costs.py            four pixel-mixing layers: exact counts of operations and parameters (lesson 04)
    memory.py           the peak memory one call really allocates, measured (lesson 04)
    reach.py            which input pixels can change an output pixel, measured by gradients (lessons 04, 06)
    mixing.py           five ways to mix pixels compared on three properties (lesson 04)
"""
