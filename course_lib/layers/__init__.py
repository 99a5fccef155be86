"""Trainable attention layers and the loop that trains them (lessons 03, 05-06).

    modules.py    attention modules for vision, each small enough to read in a minute
    models.py     tiny models built from them, returning their weights next to their outputs
    training.py   a compact training loop, ``predict`` and ``accuracy``
"""
