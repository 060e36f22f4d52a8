"""Issue 10 item 11: the test suite runs with ``-W error::UserWarning`` (every
warning is asserted with ``pytest.warns`` where a test is about it, or removed at
its cause), and nothing silences warnings wholesale.

The reference is the configuration pytest reads (``pyproject.toml``) and every
``conftest.py`` of the test tree.
"""

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _filters():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["pytest"]["ini_options"].get("filterwarnings", [])


def test_user_warnings_are_errors_in_the_test_suite():
    assert "error::UserWarning" in _filters()


def test_no_warning_is_silenced_wholesale():
    assert not [f for f in _filters() if f.split(":", 1)[0] in ("ignore", "default", "once", "module")]
    for conftest in (ROOT / "tests").rglob("conftest.py"):
        text = conftest.read_text()
        for needle in ("filterwarnings(\"ignore\"", "filterwarnings('ignore'", "simplefilter(\"ignore\"",
                       "simplefilter('ignore'", "addinivalue_line(\"filterwarnings\""):
            assert needle not in text, f"{conftest}: {needle}"
