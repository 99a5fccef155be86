"""Helpers the test folders share (tests/conftest.py puts tests/ on the path: ``from helpers.browser
import chromium_page``): artists (what a figure's artists show), browser (Chromium and servers for the
system tests), controls (moving an explorer's controls)."""
