"""Sphinx configuration of the skloss documentation.

Build: ``make -C docs html`` or ``sphinx-build -W -b html docs docs/_build/html``
(warnings are errors).  The loss and link tables of the user guide are generated
here from the registry, so they cannot drift from the code.
"""

import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import skloss  # noqa: E402
from skloss._demo import loss_rows, loss_table  # noqa: E402

project = "skloss"
author = "the skloss developers"
copyright = "2025, the skloss developers"
release = skloss.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/*.inc", "benchmarks/*.rst", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

html_theme = "pydata_sphinx_theme"
html_title = f"skloss {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}

# ---------------------------------------------------------------- generated tables

_LINK_FORMULAS = {
    "identity": (r"r = \mu", r"\mu = r"),
    "log": (r"r = \log \mu", r"\mu = e^{r}"),
    "log1p": (r"r = \log(1 + \mu)", r"\mu = e^{r} - 1"),
    "logit": (r"r = \log \frac{p}{1 - p}", r"p = \frac{1}{1 + e^{-r}}"),
    "half_logit": (r"r = \frac{1}{2} \log \frac{p}{1 - p}", r"p = \frac{1}{1 + e^{-2r}}"),
    "probit": (r"r = \Phi^{-1}(p)", r"p = \Phi(r)"),
    "softmax": (r"r_k = \log p_k + c", r"p_k = \frac{e^{r_k}}{\sum_j e^{r_j}}"),
    "clipped_linear": (r"r = 2p - 1", r"p = \frac{\min(\max(r, -1), 1) + 1}{2}"),
    "sign": (r"r = \pm 1", r"\hat y = [r > 0]"),
}


def _link_table():
    used = {}
    for row in loss_rows():
        for link in (part.strip() for part in row["link"].split("/")):
            used.setdefault(link, []).append(row["name"])
    from skloss.losses import _link

    names = list(getattr(_link, "_LINKS", {})) or sorted(used)
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - link\n     - raw from prediction\n     - prediction from raw (``inverse_link``)"
        "\n     - used by",
    ]
    for name in names:
        forward, inverse = _LINK_FORMULAS.get(name, ("", ""))
        users = ", ".join(f"``{n}``" for n in used.get(name, [])) or "(custom losses)"
        cells = [f"``{name}``", f":math:`{forward}`" if forward else "",
                 f":math:`{inverse}`" if inverse else "", users]
        lines.append("   * - " + "\n     - ".join(cells))
    if "one-vs-rest" in used:
        users = ", ".join(f"``{n}``" for n in used["one-vs-rest"])
        lines.append("   * - " + "\n     - ".join(
            ["one-vs-rest", "", ":math:`p_k = s_k / \\sum_j s_j`, :math:`s` the binary inverse link", users]))
    return "\n".join(lines) + "\n"


def _write_generated():
    out = HERE / "generated"
    out.mkdir(exist_ok=True)
    files = {
        "loss_table_regression.inc": loss_table("rst", task="regression"),
        "loss_table_classification.inc": loss_table("rst", task="classification"),
        "link_table.inc": _link_table(),
    }
    for name, text in files.items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


_write_generated()


def _check_api_lists_every_loss(app):
    """Warn (an error under -W) when api.rst misses a public name of skloss.losses."""
    import skloss.losses

    api = (HERE / "api.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s+(\w+)\s*$", api, flags=re.M))
    missing = sorted(n for n in skloss.losses.__all__ if n not in listed)
    if missing:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "docs/api.rst does not list these public names of skloss.losses: %s", ", ".join(missing)
        )


def _skip_metadata_requests(app, what, name, obj, skip, options):
    # scikit-learn's generated set_{fit,partial_fit,score}_request methods cite
    # its own glossary; estimators document them by inheritance, not here
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("builder-inited", _check_api_lists_every_loss)
    app.connect("autodoc-skip-member", _skip_metadata_requests)
