"""The demo behind ``python -m skloss``, and the loss table of the README.

The demo is a list of *sections*: ``SECTIONS`` holds plain functions that take
no argument and print their part.  An issue that adds a feature appends one
function (``SECTIONS.append(my_section)`` at the bottom of this module, or in
the feature's own module imported here); :func:`main` runs them in order.

:func:`loss_table` renders the catalogue from the registry itself (names,
aliases, task, link, likelihood, formula), so the README, the docs and the demo
cannot drift from the code: ``tests/test_demo.py`` checks that the README holds
exactly ``loss_table("markdown")``.
"""

import re
import sys
import textwrap
import time

import numpy as np

from skloss.utils._display import heading as _heading


# ------------------------------------------------------------------ timing, verdicts

class _CompileClock:
    """Seconds spent compiling numba kernels, from numba's ``numba:compile``
    events (outermost compilations only: a kernel compiling its callees is
    counted once).  The demo reports them apart from the run time."""

    def __init__(self):
        self.seconds = 0.0
        self._depth = 0
        self._start = 0.0
        self._installed = False

    def install(self):
        if self._installed:
            return self
        from numba.core import event

        clock = self

        class _Listener(event.Listener):
            def on_start(self, ev):
                if clock._depth == 0:
                    clock._start = time.perf_counter()
                clock._depth += 1

            def on_end(self, ev):
                clock._depth -= 1
                if clock._depth == 0:
                    clock.seconds += time.perf_counter() - clock._start

        event.register("numba:compile", _Listener())
        self._installed = True
        return self


COMPILE_CLOCK = _CompileClock()


def timing_note(elapsed, compile_before):
    """``"3.1 s: 2.0 s compiling numba kernels, 1.1 s running"`` (or just the
    run time when nothing compiled) for a span that started when the compile
    clock read ``compile_before``."""
    compiled = COMPILE_CLOCK.seconds - compile_before
    if compiled < 0.05:
        return f"{elapsed:.1f} s"
    return (f"{elapsed:.1f} s: {compiled:.1f} s compiling numba kernels (once; cached on disk), "
            f"{max(elapsed - compiled, 0.0):.1f} s running")


def verdict(names, means, stds, what="score"):
    """The best of ``names`` by mean score, or, when others are within one
    standard deviation of it, a sentence saying there is no clear winner."""
    means = np.asarray(means, dtype=float)
    stds = np.asarray(stds, dtype=float)
    best = int(np.argmax(means))
    close = [i for i in np.argsort(-means) if i != best and means[i] >= means[best] - stds[best]]
    if not close:
        return f"best: {names[best]} ({what} {means[best]:.4f} +- {stds[best]:.4f})"
    tied = ", ".join(str(names[i]) for i in [best, *close])
    return (f"no clear winner: {tied} are within one standard deviation ({stds[best]:.4f}) of the "
            f"best {what} ({means[best]:.4f}, {names[best]})")

__all__ = ["SECTIONS", "main", "loss_table", "loss_rows"]

# ------------------------------------------------------------------ loss table

_COLUMNS = ("name", "aliases", "task", "link", "likelihood", "formula")


def _formula(cls):
    """The formula of a loss, as ``(text, is_tex)``.

    The class attribute ``formula`` (LaTeX) if set, else the first equation of
    the docstring's first ``.. math::`` directive (the lines up to the first
    blank line, so a ``cases`` block or a continued line is kept whole).  A
    ``formula`` attribute that is plain text rather than LaTeX can be marked by
    setting ``formula_is_tex = False`` on the class.  ``("", False)`` when there
    is none.
    """
    formula = getattr(cls, "formula", None)
    if formula:
        return " ".join(str(formula).split()), bool(getattr(cls, "formula_is_tex", True))
    lines = (cls.__doc__ or "").splitlines()
    for i, line in enumerate(lines):
        head, sep, rest = line.strip().partition(".. math::")
        if head or not sep:
            continue
        indent = len(line) - len(line.lstrip())
        content = [rest.strip()] if rest.strip() else []
        for following in lines[i + 1:]:
            text = following.strip()
            if not text:
                if content:
                    break
                continue
            if len(following) - len(following.lstrip()) <= indent:
                break  # back to the paragraph level: the directive has ended
            if not content and text.startswith(":"):
                continue  # a directive option such as :label:
            content.append(text)
        if content:
            return " ".join(" ".join(content).split()), True
    return "", False


def _link_of(loss):
    link = str(loss.link)
    if loss.task == "classification":
        multi = str(loss.multiclass_link) if loss.has_multiclass_form else "one-vs-rest"
        if multi != link:
            return f"{link} / {multi}"
    return link


def _likelihood_of(loss):
    try:
        likelihood = loss.likelihood
    except Exception:  # a likelihood that needs fitted data is still a likelihood
        return "yes"
    if likelihood is None:
        return "-"
    return str(getattr(likelihood, "name", None) or type(likelihood).__name__)


def loss_rows(task=None):
    """One dict per registered loss (default parameters), in registry order.

    Keys: ``name``, ``aliases``, ``task``, ``link``, ``likelihood``, ``formula``
    (strings), and ``formula_is_tex`` (whether ``formula`` is LaTeX or plain text).  Regression losses come first, then classification losses.
    """
    from skloss.losses import available_losses, get_loss, loss_aliases

    aliases = {}
    for alias, name in loss_aliases().items():
        aliases.setdefault(name, []).append(alias)
    rows = []
    tasks = ("regression", "classification") if task is None else (task,)
    for t in tasks:
        for name in available_losses(task=t):
            loss = get_loss(name)
            formula, is_tex = _formula(type(loss))
            rows.append(
                {
                    "name": name,
                    "aliases": ", ".join(sorted(aliases.get(name, []))),
                    "task": loss.task,
                    "link": _link_of(loss),
                    "likelihood": _likelihood_of(loss),
                    "formula": formula,
                    "formula_is_tex": is_tex,
                }
            )
    return rows


_TEX_WORDS = {
    "ell": "l", "cdot": "*", "times": "*", "epsilon": "eps", "varepsilon": "eps",
    "left": "", "right": "", "quad": " ", "qquad": " ", "mid": "|", "lvert": "|",
    "rvert": "|", "vert": "|", "ge": ">=", "geq": ">=", "le": "<=", "leq": "<=",
    "neq": "!=", "infty": "inf", "to": "->", "mathbb": "", "mathbf": "",
    "operatorname": "", "mathrm": "", "text": "", "tfrac": "frac", "dfrac": "frac",
}


def _simple(token):
    return re.fullmatch(r"[\w.]+", token.strip()) is not None


def _tex_to_text(tex):
    """A light LaTeX-to-plain-text rendering (terminal, README)."""
    s = re.sub(r"\\(begin|end)\{[a-z]*\}", " ", tex)
    s = s.replace("\\\\", ";").replace("&", " if ").replace(r"\|", "||")
    s = s.replace(r"\{", "\x00").replace(r"\}", "\x01")
    s = s.replace(r"\,", " ").replace(r"\;", " ").replace(r"\!", "").replace(r"\ ", " ")
    s = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", s)
    s = re.sub(r"\\([A-Za-z]+)", lambda m: _TEX_WORDS.get(m.group(1), m.group(1)), s)
    for _ in range(4):  # nested fractions, innermost first
        s = re.sub(
            r"frac\{([^{}]*)\}\{([^{}]*)\}",
            lambda m: "/".join(g if _simple(g) else f"({g})" for g in m.groups()),
            s,
        )
    s = re.sub(r"\^\{([^{}]*)\}", lambda m: "^" + (m.group(1) if _simple(m.group(1)) else f"({m.group(1)})"), s)
    s = re.sub(r"_\{([^{}]*)\}", r"_\1", s)
    s = s.replace("{", "").replace("}", "").replace("\x00", "{").replace("\x01", "}")
    s = re.sub(r"\b(log|exp) ([\w.]+/[\w.]+)", r"\1(\2)", s)  # log mu/y -> log(mu/y)
    return " ".join(s.split())


def loss_table(fmt="text", task=None, columns=_COLUMNS):
    """The catalogue as a table.

    Parameters
    ----------
    fmt : {"text", "markdown", "rst"}, default="text"
        ``"text"`` for a terminal and ``"markdown"`` for the README (formulas
        in plain text), ``"rst"`` for Sphinx (a ``list-table`` with ``:math:``
        formulas).
    task : {"regression", "classification"} or None
        Restrict to one task.
    columns : sequence of str
        Which of ``name``, ``aliases``, ``task``, ``link``, ``likelihood``,
        ``formula`` to show (default: all, in that order).

    Returns
    -------
    str
    """
    rows = loss_rows(task)
    header = list(columns)
    unknown = set(header) - set(_COLUMNS)
    if unknown:
        raise ValueError(f"Unknown columns {sorted(unknown)}; choose from {list(_COLUMNS)}.")
    if fmt == "markdown":

        def cell(key, value, row):
            # formulas as plain-text code spans: readable in a terminal, and no
            # LaTeX-in-markdown-table escaping to go wrong on GitHub
            if key == "formula" and value:
                value = f"`{_tex_to_text(value) if row['formula_is_tex'] else value}`"
            elif key in ("name",) and value:
                value = f"`{value}`"
            elif key == "aliases" and value:
                value = ", ".join(f"`{a}`" for a in value.split(", "))
            return value.replace("|", r"\|")

        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in rows:
            lines.append("| " + " | ".join(cell(k, row[k], row) for k in header) + " |")
        return "\n".join(lines) + "\n"
    if fmt == "rst":

        def cell(key, value, row):
            if not value:
                return ""
            if key == "formula":
                return f":math:`{value}`" if row["formula_is_tex"] else f"``{value}``"
            if key == "name":
                return f"``{value}``"
            if key == "aliases":
                return ", ".join(f"``{a}``" for a in value.split(", "))
            return value

        lines = [".. list-table::", "   :header-rows: 1", "", "   * - " + "\n     - ".join(header)]
        for row in rows:
            lines.append("   * - " + "\n     - ".join(cell(k, row[k], row) for k in header))
        return "\n".join(lines) + "\n"
    if fmt != "text":
        raise ValueError(f"fmt must be 'text', 'markdown' or 'rst'; got {fmt!r}.")
    body = [
        [_tex_to_text(row[k]) if k == "formula" and row["formula_is_tex"] else row[k] for k in header]
        for row in rows
    ]
    body = [[c or "-" for c in r] for r in body]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    fmt_row = "  ".join("{:<%d}" % w for w in widths[:-1]) + ("  {}" if len(widths) > 1 else "{}")
    lines = [fmt_row.format(*header), fmt_row.format(*("-" * w for w in widths))]
    lines += [fmt_row.format(*r) for r in body]
    return "\n".join(line.rstrip() for line in lines) + "\n"


# ------------------------------------------------------------------ sections


def section_losses():
    """The catalogue of losses, straight from the registry."""
    from skloss.losses import available_losses

    _heading(
        f"The losses ({len(available_losses('regression'))} regression, "
        f"{len(available_losses('classification'))} classification)"
    )
    for task in ("regression", "classification"):
        print(f"\n{task}:")
        print(loss_table("text", task=task, columns=("name", "link", "likelihood", "formula")), end="")
    print("\naliases:")
    for row in loss_rows():
        if row["aliases"]:
            print(textwrap.fill(row["aliases"], width=100, initial_indent=f"  {row['name']:<28} ",
                                subsequent_indent=" " * 31))
    print('Every name and alias works as loss="..." in every estimator, e.g.')
    print('GridSearchCV(MLELogisticRegression(), {"loss": ["log_loss", "probit", "hinge"]}).')


WORKED_P = np.array([0.10, 0.40, 0.50])
WORKED_Q = np.array([0.80, 0.15, 0.05])


def _vec(values, decimals=4):
    return "[" + ", ".join(f"{v:.{decimals}f}" for v in values) + "]"


def section_cross_entropy():
    """The cross-entropy worked example: H(P, Q) = H(P) + KL(P || Q), in bits."""
    from skloss import metrics

    p, q = WORKED_P, WORKED_Q
    _heading("Cross-entropy = entropy + KL divergence (in bits)")
    print(f"P (true distribution)   = {_vec(p, 2)}")
    print(f"Q (model's prediction)  = {_vec(q, 2)}")
    h_p = float(metrics.entropy(p, base=2))
    h_pq = float(metrics.cross_entropy(p, q, base=2))
    kl = float(metrics.kl_divergence(p, q, base=2))
    kl_qp = float(metrics.kl_divergence(q, p, base=2))
    js = float(metrics.js_divergence(p, q, base=2))
    print(f"entropy        H(P)      = -sum p log2 p      = {h_p:.4f} bits")
    print(f"cross-entropy  H(P, Q)   = -sum p log2 q      = {h_pq:.4f} bits")
    print(f"KL divergence  KL(P||Q)  =  sum p log2 (p/q)  = {kl:.4f} bits")
    print(f"check: H(P) + KL(P||Q) = {h_p:.4f} + {kl:.4f} = {h_p + kl:.4f} = H(P, Q)")
    print(f"KL is not symmetric: KL(Q||P) = {kl_qp:.4f} bits; "
          f"Jensen-Shannon JS(P, Q) = {js:.4f} bits (symmetric, <= 1)")
    print("Minimising cross-entropy over Q minimises KL(P||Q): H(P) does not depend on Q.")
    _one_hot_gradients()


def _one_hot_gradients():
    # with one-hot targets, H(P) = 0: log loss, cross-entropy and KL share a gradient
    from skloss.losses import available_losses, get_loss

    names = [n for n in ("log_loss", "kl_divergence") if n in available_losses()]
    if len(names) < 2:
        return
    raw = np.log(WORKED_Q)[None, :]
    y = np.array([2.0])
    grads = {n: get_loss(n).gradient(y, raw)[0] for n in names}
    print()
    print("One-hot target y = class 2, raw scores r = log(Q): the gradient d loss / d r")
    for n, g in grads.items():
        print(f"  {n:<14} {_vec(g)}")
    print(f"  {'Q - onehot(y)':<14} {_vec(WORKED_Q - np.eye(3)[2])}")
    print("  all equal: for a one-hot target H(P) = 0, so cross-entropy = KL, and the")
    print("  gradient of both is softmax(r) - onehot(y).")


SECTIONS = [section_losses, section_cross_entropy]

from skloss.linear_model._demo import logistic_section  # noqa: E402

SECTIONS.append(logistic_section)

from skloss.linear_model._linear_demo import regression_section  # noqa: E402

SECTIONS.append(regression_section)

from skloss.neural_network._demo import network_section  # noqa: E402

SECTIONS.append(network_section)


def main(sections=None):
    """Run the demo: every function of :data:`SECTIONS` in order.

    Parameters
    ----------
    sections : list of str, optional
        Names of section functions to run (default: all).

    Returns
    -------
    int
        0 on success (the exit code of ``python -m skloss``).
    """
    import skloss

    print(f"skloss {skloss.__version__}: scikit-learn estimators with a pluggable loss")
    COMPILE_CLOCK.install()
    start = time.perf_counter()
    for section in SECTIONS:
        if sections is not None and section.__name__ not in sections:
            continue
        section()
        sys.stdout.flush()
    print()
    print(f"(demo ran in {timing_note(time.perf_counter() - start, 0.0)})")
    return 0


# ------------------------------------------------------------------ README

README_START = "<!-- loss-table:start (generated by `python -m skloss._demo --readme`; do not edit) -->"
README_END = "<!-- loss-table:end -->"


def readme_table_block():
    """The README's loss-table block, markers included."""
    return f"{README_START}\n{loss_table('markdown')}{README_END}"


def update_readme(path="README.md"):
    """Rewrite the loss table between the markers of the README at ``path``.

    Returns True when the file changed.
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"{path} has no loss-table markers ({README_START!r} ... {README_END!r}).")
    new = text[:start] + readme_table_block() + text[end + len(README_END):]
    if new != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
    return new != text


if __name__ == "__main__":
    if sys.argv[1:2] == ["--readme"]:
        changed = update_readme(sys.argv[2] if len(sys.argv) > 2 else "README.md")
        print("README loss table " + ("updated" if changed else "already up to date"))
    else:
        sys.exit(main(sys.argv[1:] or None))
