"""Sphinx configuration for the sklearn_adv documentation.

The build is offline: no intersphinx inventories are fetched, and the gallery
runs the example scripts in ``examples/`` (each runs in seconds on a CPU).
Build with ``make docs``.
"""

import fnmatch
import os
import re
import sys
from pathlib import Path

from sphinx.util import logging

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Build from the source tree even when the package is not installed.
sys.path.insert(0, str(ROOT))
# Examples and the estimators they run use one thread each.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

logger = logging.getLogger(__name__)

# -- Project ----------------------------------------------------------------

project = "sklearn-adv"
author = "The sklearn-adv developers"
copyright = "The sklearn-adv developers"
# Read from the source rather than imported, so that the configuration loads
# even when the package cannot be imported.
release = re.search(
    r'^__version__ = "([^"]+)"',
    (ROOT / "sklearn_adv" / "__init__.py").read_text(encoding="utf-8"),
    re.MULTILINE,
).group(1)
version = release

# -- General ----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
    "user_guide/_*.rst",  # sections included into a page
]
root_doc = "index"
default_role = "literal"
# References to scikit-learn, numpy, torch and skorch objects render as code
# without links: intersphinx would need the network.
nitpicky = False

# -- autodoc, autosummary, numpydoc ----------------------------------------

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
# The class template (_templates/autosummary/class.rst) lists the members.
autodoc_member_order = "groupwise"

# numpydoc documents each class's methods through the autodoc members of the
# class template; its own member tables would list them a second time.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- sphinx-gallery ---------------------------------------------------------

sphinx_gallery_conf = {
    # Paths relative to this folder.
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "within_subsection_order": "FileNameSortKey",
    # A failing example fails the build.
    "abort_on_example_error": True,
    "doc_module": ("sklearn_adv",),
    "reference_url": {"sklearn_adv": None},
    "backreferences_dir": "generated/backreferences",
    "inspect_global_variables": False,
    "remove_config_comments": True,
    "show_memory": False,
    "download_all_examples": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
}

# -- HTML -------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-adv {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_static_path = []
html_show_sourcelink = False
html_context = {"default_mode": "light"}


# -- The API page stays in step with the package ---------------------------

# Modules whose public names the API page lists; the estimators are the
# names in ``sklearn_adv.__all__``.
API_MODULES = (
    "sklearn_adv.pipeline",
    "sklearn_adv.plugins",
    "sklearn_adv.nn",
    "sklearn_adv.datasets",
)


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and callable(obj)
            and getattr(obj, "__module__", None) == module.__name__
        ]
    return set(names)


def _documented_names(api_text):
    """Fully qualified names listed in the autosummary tables of the API page."""
    documented, module, in_table = set(), "", False
    for line in api_text.splitlines():
        stripped = line.strip()
        if match := re.match(r"\.\. (?:currentmodule|module)::\s*(\S+)", stripped):
            module, in_table = match.group(1), False
        elif stripped.startswith(".. autosummary::"):
            in_table = True
        elif in_table and line and not line.startswith(" "):
            in_table = False
        elif in_table and stripped and not stripped.startswith(":"):
            documented.add(f"{module}.{stripped}")
    return documented


def check_api_page(app):
    """Warn (an error under ``-W``) for public names missing from api.rst.

    Also removes the pages generated for names no longer listed, which would
    otherwise be left outside every toctree.
    """
    from importlib import import_module

    documented = _documented_names((DOCS / "api.rst").read_text(encoding="utf-8"))
    for stub in (DOCS / "generated").glob("*.rst"):
        if stub.stem not in documented:
            stub.unlink()
    expected = set()
    for module_name in ("sklearn_adv", *API_MODULES):
        try:
            module = import_module(module_name)
        except ImportError as exc:
            logger.warning(f"api.rst: cannot import {module_name}: {exc}")
            continue
        expected |= {f"{module_name}.{name}" for name in _public_names(module)}
    for name in sorted(expected - documented):
        logger.warning(f"api.rst: public name {name} is not listed; add it to api.rst")


# -- Docstrings written for other projects' documentation -------------------

_TERM = re.compile(r":term:`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")
_REF = re.compile(r":ref:`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _as_literal(match):
    return f"``{(match.group(1) or match.group(2)).strip()}``"


def _as_text(match):
    return (match.group(1) or match.group(2)).strip()


def rewrite_foreign_roles(app, what, name, obj, options, lines):
    """Render glossary terms and cross-references of other projects as text.

    Methods inherited from scikit-learn (``get_params``, ``set_output``,
    ``set_fit_request``, ...) point to scikit-learn's glossary and user guide,
    which an offline build cannot link to; this project has no glossary.
    """
    foreign = not getattr(obj, "__module__", "sklearn_adv").startswith("sklearn_adv")
    for i, line in enumerate(lines):
        line = _TERM.sub(_as_literal, line)
        if foreign:
            line = _REF.sub(_as_text, line)
        lines[i] = line


# -- The user guide lists the pages that exist ---------------------------------


def drop_empty_globs(app, docname, source):
    """Drop the user guide's toctree patterns that match no page.

    Sphinx warns about a glob pattern that matches nothing (and the warning
    cannot be suppressed), while the guide's pages are written one by one.
    Patterns are consumed in order, as Sphinx does.
    """
    if docname != "user_guide/index":
        return
    remaining = {path.stem for path in (DOCS / "user_guide").glob("*.rst")}
    remaining.discard("index")
    lines, in_toctree = [], False
    for line in source[0].splitlines():
        stripped = line.strip()
        if stripped.startswith(".. toctree::"):
            in_toctree = True
        elif in_toctree and line and not line.startswith(" "):
            in_toctree = False
        elif in_toctree and "*" in stripped and not stripped.startswith(":"):
            matched = set(fnmatch.filter(remaining, stripped))
            if not matched:
                continue
            remaining -= matched
        elif in_toctree and stripped and not stripped.startswith(":"):
            remaining.discard(stripped)  # a page listed by name is no glob's to match
        lines.append(line)
    source[0] = "\n".join(lines) + "\n"


def setup(app):
    # Before autosummary generates the pages (default priority 500).
    app.connect("builder-inited", check_api_page, priority=100)
    app.connect("autodoc-process-docstring", rewrite_foreign_roles)
    app.connect("source-read", drop_empty_globs)
