"""The demo (``python -m skloss``) and the generated loss table of the README."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from skloss import _demo
from skloss.losses import available_losses, get_loss, loss_aliases

ROOT = Path(__file__).resolve().parents[1]
P = np.array([0.10, 0.40, 0.50])
Q = np.array([0.80, 0.15, 0.05])


@pytest.fixture(scope="module")
def demo_output():
    # the real entry point, in a fresh process, as a user runs it
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "skloss"], capture_output=True, text=True, env=env, timeout=900,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _number(output, pattern):
    match = re.search(pattern + r"\s*=?[^=\n]*=\s*([0-9.]+) bits", output)
    assert match, f"{pattern!r} not found in the demo output"
    return float(match.group(1))


def test_demo_worked_example_numbers(demo_output):
    # independent reference: scipy.stats.entropy (nats -> bits by base=2)
    h_p = stats.entropy(P, base=2)
    kl = stats.entropy(P, Q, base=2)
    h_pq = -np.sum(P * np.log2(Q))
    assert h_p == pytest.approx(1.360964, abs=1e-6)  # hand computation
    assert _number(demo_output, r"H\(P\)") == pytest.approx(h_p, abs=5e-5)
    assert _number(demo_output, r"H\(P, Q\)") == pytest.approx(h_pq, abs=5e-5)
    assert _number(demo_output, r"KL\(P\|\|Q\)") == pytest.approx(kl, abs=5e-5)
    assert h_pq == pytest.approx(h_p + kl, abs=1e-12)
    match = re.search(r"KL\(Q\|\|P\) = ([0-9.]+) bits", demo_output)
    assert match and float(match.group(1)) == pytest.approx(stats.entropy(Q, P, base=2), abs=5e-5)
    m = (P + Q) / 2
    js = (stats.entropy(P, m, base=2) + stats.entropy(Q, m, base=2)) / 2
    match = re.search(r"JS\(P, Q\) = ([0-9.]+) bits", demo_output)
    assert match and float(match.group(1)) == pytest.approx(js, abs=5e-5)


def test_demo_prints_every_loss(demo_output):
    for name in available_losses():
        assert re.search(rf"^{re.escape(name)}\s", demo_output, flags=re.M), name


def test_sections_are_functions():
    assert _demo.SECTIONS[:2] == [_demo.section_losses, _demo.section_cross_entropy]
    assert all(callable(s) for s in _demo.SECTIONS)
    assert len({s.__name__ for s in _demo.SECTIONS}) == len(_demo.SECTIONS)


def test_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _demo.readme_table_block() in readme, (
        "The README's loss table is out of date: run `python -m skloss._demo --readme`."
    )


def test_loss_rows_match_the_registry():
    rows = _demo.loss_rows()
    assert sorted(r["name"] for r in rows) == available_losses()
    aliases = loss_aliases()
    for row in rows:
        loss = get_loss(row["name"])
        assert row["task"] == loss.task
        # every alias listed resolves to this loss, and none is missing
        listed = [a for a in row["aliases"].split(", ") if a]
        assert sorted(listed) == sorted(a for a, n in aliases.items() if n == row["name"])
        for alias in listed:
            assert type(get_loss(alias)) is type(loss)
        assert str(loss.link) in row["link"]
        expected = "-" if loss.likelihood is None else loss.likelihood.name
        assert row["likelihood"] == expected
        assert row["formula"], f"{row['name']}: the docstring gives no `.. math::` formula"


def test_formula_from_attribute_or_docstring():
    class WithAttribute:
        formula = r"\ell(y, r) =  |y - r|"

    class WithPlainAttribute:
        formula = "max(0, -z r)"
        formula_is_tex = False

    class WithDirective:
        r"""Doc.

        .. math::

            \ell(y, r) = (y - r)^2 / 2

        more text

        .. math:: \ell = \begin{cases} a & r > 0 \\
                  b & r \le 0 \end{cases}

        .. math:: second directive
        """

    class WithInlineContinued:
        r"""Doc.

        .. math:: \ell(y, r) = \operatorname{lse}(r) - r_y,
                  \quad y \in \{0, 1\}

        Text.
        """

    class WithoutFormula:
        """No maths here."""

    assert _demo._formula(WithAttribute) == (r"\ell(y, r) = |y - r|", True)
    assert _demo._formula(WithPlainAttribute) == ("max(0, -z r)", False)
    assert _demo._formula(WithDirective) == (r"\ell(y, r) = (y - r)^2 / 2", True)
    assert _demo._formula(WithInlineContinued) == (
        r"\ell(y, r) = \operatorname{lse}(r) - r_y, \quad y \in \{0, 1\}", True
    )
    assert _demo._formula(WithoutFormula) == ("", False)
    cases = r"\ell = \begin{cases} a & r > 0 \\ b & r \le 0 \end{cases}"
    assert _demo._tex_to_text(cases) == "l = a if r > 0 ; b if r <= 0"


def test_table_formats():
    names = available_losses()
    text = _demo.loss_table("text")
    md = _demo.loss_table("markdown")
    rst = _demo.loss_table("rst")
    for name in names:
        assert re.search(rf"^{name}\s", text, flags=re.M)
        assert f"| `{name}` |" in md
        assert f"* - ``{name}``" in rst
    # one markdown row per loss, each with the six columns (pipes in formulas
    # escaped), formulas as code spans without LaTeX commands
    body = md.strip().splitlines()[2:]
    assert len(body) == len(names)
    assert all(len(re.split(r"(?<!\\)\|", line)) == 8 for line in body)
    formulas = [re.split(r"(?<!\\)\|", line)[6].strip() for line in body]
    assert all(f.startswith("`") and f.endswith("`") and "\\" not in f.replace("\\|", "") for f in formulas)
    assert _demo._tex_to_text(r"\frac{1}{2}\,(y - r)^{2}") == "1/2 (y - r)^2"
    assert _demo._tex_to_text(r"\log \frac{\mu}{y} + \frac{a + b}{\sqrt{c}} e^{-r}") == (
        "log(mu/y) + (a + b)/(sqrt(c)) e^(-r)"
    )
    with pytest.raises(ValueError, match="fmt"):
        _demo.loss_table("html")
    with pytest.raises(ValueError, match="columns"):
        _demo.loss_table("text", columns=("name", "colour"))


def test_demo_one_hot_gradients(demo_output):
    if "kl_divergence" not in available_losses():
        pytest.skip("kl_divergence is not registered")
    expected = Q - np.eye(3)[2]  # softmax(log Q) - onehot(2), by hand
    for name in ("log_loss", "kl_divergence"):
        match = re.search(rf"^  {name}\s+\[([^\]]+)\]", demo_output, flags=re.M)
        assert match, name
        printed = np.array([float(v) for v in match.group(1).split(",")])
        np.testing.assert_allclose(printed, expected, atol=5e-5)


def test_readme_example_runs_cleanly(capsys):
    """The README's first example runs, warns nothing, and its grid search finds
    a model as accurate as scikit-learn's LogisticRegression on the same folds."""
    import warnings

    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.findall(r"```python\n(.*?)```", readme, flags=re.S)[0]
    namespace = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, "README.md", "exec"), namespace)
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    search = namespace["search"]
    printed = capsys.readouterr().out
    assert str(search.best_params_) in printed
    X, y = load_breast_cancer(return_X_y=True)
    reference = cross_val_score(
        make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)), X, y,
        scoring="accuracy",
    ).mean()
    assert search.best_score_ >= reference - 0.01, (search.best_score_, reference)
