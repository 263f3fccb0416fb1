"""Sphinx configuration for the tnlib documentation."""

project = "tnlib"
author = "tnlib developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc",
              "sphinx.ext.mathjax", "sphinx.ext.viewcode"]
autosummary_generate = True
numpydoc_show_class_members = False
autodoc_default_options = {"members": True, "undoc-members": False}
html_theme = "alabaster"
exclude_patterns = ["_build"]
