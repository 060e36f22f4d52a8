"""The kernel cache always works (skloss._cache).

* a damaged cache (truncated index and data files) is discarded with a warning
  and recompiled, and the next process loads the fresh entries;
* two processes starting together on an empty cache compile a kernel once;
* a first use that compiles long says so once, naming ``skloss.warmup()``;
* a non-editable install made read-only, run with a read-only home directory
  and no ``NUMBA_CACHE_DIR``, fits (compiling in memory, with one warning);
* a read-only ``NUMBA_CACHE_DIR`` holding a warmed cache is loaded from
  (nothing compiles).

The read-only cases run the fit in a subprocess inside a private mount
namespace (``unshare -m``) where the installed package, the home directory and
the cache are read-only *bind mounts*: the tests run as root, for whom
``chmod a-w`` is not a barrier, while a read-only mount is.  Each subprocess
first checks that it really cannot write there.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

# a few kernels: one loss kernel, and a tiny network fit (its epoch driver and
# the squared-error kernel through the driver's function pointer)
_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, warnings
    import numpy as np
    probe = os.environ.get("SKLOSS_PROBE_READONLY")
    if probe:
        for path in probe.split(os.pathsep):
            try:
                open(os.path.join(path, ".skloss-write-probe"), "w").close()
            except OSError:
                continue
            raise SystemExit(f"test set-up: {path} is writable")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import skloss
        from skloss._warmup import cache_stats
        from skloss.losses import get_loss
        from skloss.neural_network import SGDNetRegressor, _base
        y = np.array([0.5, 1.0, 2.0, 4.0])
        raw = np.array([0.0, 1.5, 1.0, 3.0])
        huber = get_loss("huber", delta=1.0).loss(y, raw).tolist()
        X = np.linspace(-1, 1, 40).reshape(20, 2)
        with _base._forced_route(numpy=False):  # (the compiled epoch: this fit is small)
            reg = SGDNetRegressor(hidden_layer_sizes=(3,), max_iter=2, batch_size=8,
                                  random_state=0).fit(X, X[:, 0])
    stats = cache_stats()
    print(json.dumps({
        "file": skloss.__file__,
        "huber": huber,
        "coef": reg.coefs_[0].tolist(),
        # compiled / loaded specialisations of the cache=True kernels
        "misses": sum(v["cache_misses"] for v in stats["per_kernel"].values() if v["cached"]),
        "hits": stats["cache_hits"],
        "per_kernel": stats["per_kernel"],
        "warnings": [str(w.message) for w in caught if "skloss" in str(w.message)],
    }))
    """
)


def _env(cache_dir=None, home=None):
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("XDG_CACHE_HOME", None)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    if home is not None:
        env["HOME"] = str(home)
    return env


def _parse(proc):
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["stderr"] = proc.stderr
    return out


def _run(env, python=sys.executable):
    proc = subprocess.run([python, "-c", _SCRIPT], env=env, capture_output=True, text=True,
                          timeout=900)
    return _parse(proc)


def _expected_huber():
    r = np.array([0.0, 1.5, 1.0, 3.0]) - np.array([0.5, 1.0, 2.0, 4.0])
    a = np.abs(r)
    return np.where(a <= 1.0, 0.5 * r**2, a - 0.5)


# ------------------------------------------------------------------ damaged cache
def test_damaged_cache_is_discarded_and_rebuilt(tmp_path):
    first = _run(_env(tmp_path))
    assert first["misses"] > 0 and first["hits"] == 0
    np.testing.assert_allclose(first["huber"], _expected_huber(), rtol=1e-15)
    # a first use that compiles long says so once and names the way out
    assert first["stderr"].count("skloss.warmup()") == 1, first["stderr"]
    damaged = [p for p in tmp_path.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert any(p.suffix == ".nbi" for p in damaged) and any(p.suffix == ".nbc" for p in damaged)
    for p in damaged:
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])
    second = _run(_env(tmp_path))
    assert second["coef"] == first["coef"] and second["huber"] == first["huber"]
    assert second["misses"] == first["misses"], second["per_kernel"]
    assert any("damaged" in w for w in second["warnings"]), second["warnings"]
    third = _run(_env(tmp_path))  # the entries were written afresh
    assert third["misses"] == 0 and third["hits"] == first["misses"], third["per_kernel"]
    assert third["coef"] == first["coef"]
    assert not third["warnings"]


_ONE_KERNEL_WARNINGS = textwrap.dedent(
    """
    import json, warnings
    import numpy as np
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from skloss._warmup import cache_stats
        from skloss.losses import get_loss
        values = get_loss("log_cosh").loss(np.array([0.5, 1.0]), np.array([0.0, 2.0])).tolist()
    print(json.dumps({"values": values,
                      "misses": cache_stats()["per_kernel"]["_regression.log_cosh"]["cache_misses"],
                      "warnings": [str(w.message) for w in caught if "skloss" in str(w.message)]}))
    """
)


def test_only_data_file_damaged(tmp_path):
    # (one small kernel: the damaged data file, not the network, is under test)
    def run():
        proc = subprocess.run([sys.executable, "-c", _ONE_KERNEL_WARNINGS], env=_env(tmp_path),
                              capture_output=True, text=True, timeout=900)
        return _parse(proc)

    first = run()
    for p in tmp_path.rglob("*.nbc"):
        p.write_bytes(b"\x80\x04garbage")
    again = run()
    assert again["misses"] > 0
    assert any("damaged" in w for w in again["warnings"])
    np.testing.assert_array_equal(again["values"], first["values"])
    np.testing.assert_allclose(first["values"], np.log(np.cosh([0.5, -1.0])), rtol=1e-14)


# ------------------------------------------------------------------ parallel workers
_ONE_KERNEL = textwrap.dedent(
    """
    import json, time
    import numpy as np
    from skloss._warmup import cache_stats
    from skloss.losses import get_loss
    get_loss("log_cosh").loss_gradient(np.array([0.5, 1.0]), np.array([0.0, 2.0]))
    print(json.dumps(cache_stats()["per_kernel"]["_regression.log_cosh"]))
    """
)


def test_parallel_first_use_compiles_once(tmp_path):
    env = _env(tmp_path)
    procs = [subprocess.Popen([sys.executable, "-c", _ONE_KERNEL], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["cache_misses"] for r in results) == 1, results
    assert sum(r["cache_hits"] for r in results) == 1, results


# ------------------------------------------------------------------ read-only install
def _can_unshare():
    if sys.platform != "linux" or shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = tempfile.mkdtemp()
    try:
        proc = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             f"mount --bind {probe} {probe} && mount -o remount,bind,ro {probe} {probe} "
             f"&& ! touch {probe}/x 2>/dev/null"],
            capture_output=True, timeout=60)
        return proc.returncode == 0
    finally:
        shutil.rmtree(probe, ignore_errors=True)


needs_readonly_mounts = pytest.mark.skipif(
    not _can_unshare(), reason="needs root and `unshare -m` for read-only bind mounts")


def _run_readonly(python, readonly, env):
    """Run the script with ``readonly`` directories bind-mounted read-only."""
    binds = " && ".join(f"mount --bind {d} {d} && mount -o remount,bind,ro {d} {d}"
                        for d in readonly)
    env = dict(env)
    env["SKLOSS_PROBE_READONLY"] = os.pathsep.join(str(d) for d in readonly)
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f'{binds} && exec "$0" -c "$1"', str(python), _SCRIPT],
        env=env, capture_output=True, text=True, timeout=900)
    return _parse(proc)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """skloss installed non-editably (``pip install .``, offline) in a venv."""
    root = tmp_path_factory.mktemp("ro_install")
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "skloss", src / "skloss",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", "*.lock"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=300)
    python = venv / "bin" / "python"
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", str(src)],
        capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.skip(f"could not build a non-editable install offline: {proc.stderr[-500:]}")
    home = root / "home"
    home.mkdir()
    return python, venv, home


@needs_readonly_mounts
def test_read_only_install_without_writable_home(installed):
    python, venv, home = installed
    out = _run_readonly(python, [venv, home], _env(home=home))
    assert out["file"].startswith(str(venv)), out["file"]  # the installed copy, not the repo
    np.testing.assert_allclose(out["huber"], _expected_huber(), rtol=1e-15)
    assert out["misses"] > 0
    assert any("no writable directory" in w for w in out["warnings"]), out["warnings"]
    assert sum("no writable directory" in w for w in out["warnings"]) == 1


@needs_readonly_mounts
def test_read_only_warmed_cache_is_used(installed, tmp_path):
    python, venv, home = installed
    cache = tmp_path / "cache"
    warm = _run(_env(cache, home), python=python)
    assert warm["misses"] > 0
    out = _run_readonly(python, [venv, home, cache], _env(cache, home))
    assert out["misses"] == 0, out["per_kernel"]
    assert out["hits"] == warm["misses"]
    assert out["coef"] == warm["coef"] and out["huber"] == warm["huber"]


# ------------------------------------------------------------------ the warm-up's own compiles
def test_warmup_switches_off_the_first_use_notice(monkeypatch, caplog):
    # skloss.warmup compiles on purpose: the notice that points at skloss.warmup() is
    # for a first fit, not for the warm-up itself (its processes call this first)
    from skloss import _cache

    monkeypatch.setattr(_cache, "_NOTICE_OFF", False)
    with caplog.at_level("WARNING", logger="skloss"):
        _cache._CompileListener()._notice()
    assert sum("skloss.warmup()" in r.getMessage() for r in caplog.records) == 1
    caplog.clear()
    _cache.quiet_first_use_notice()
    with caplog.at_level("WARNING", logger="skloss"):
        _cache._CompileListener()._notice()
    assert not caplog.records
