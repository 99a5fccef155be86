"""The raw material of the lessons: real photos, generated images, and the lessons' fixed examples.

    images.py     real photos from ``skimage.data`` (nothing downloaded), noise, patches (lessons 01-05)
    shapes.py     small seeded synthetic shapes and sequences (lessons 05-06)
    digits.py     real handwritten digits on real texture, cluttered canvases (lesson 05)
    marks.py      two marks far apart whose relation is the label; controlled pairs (lesson 06)
    examples.py   the fixed examples lessons 00-04's text, explorers and checked outputs share
"""
