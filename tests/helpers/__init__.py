"""Helpers the test folders share (tests/conftest.py puts tests/ on the path: ``from helpers.browser
import chromium_page``): artists (what a figure's artists show), browser (Chromium and servers for the
system tests), checks (a right answer to every exercise check), controls (moving an explorer's
controls), layout (the folders of tests/ and their groups)."""
