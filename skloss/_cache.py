"""The disk cache of skloss's numba kernels: one that always works.

numba's own ``cache=True`` picks the first *writable* place among
``NUMBA_CACHE_DIR``, the ``__pycache__`` next to the source and a user-wide
directory, and raises ``RuntimeError: cannot cache function ...: no locator
available`` at import when there is none (a read-only install run by a user
without a home directory).  It never loads from a read-only directory, and a
truncated index or data file makes the call raise ``UnpicklingError``.

:func:`install` (run by :mod:`skloss._kernels` before any kernel module is
imported, so before any kernel is decorated; it compiles nothing) gives every
``cache=True`` function defined in ``skloss/_kernels`` a cache that

* **reads** from every candidate directory that exists, in this order:
  ``NUMBA_CACHE_DIR`` (when set), the package's ``__pycache__``, then the
  platform's user cache directory (``$XDG_CACHE_HOME/skloss``, by default
  ``~/.cache/skloss``); a read-only directory holding a warmed cache is used
  as it is (loading needs no write access);
* **writes** to the first of them that is writable; when none is, kernels
  compile in memory and one warning says so (never an error);
* discards a **damaged** entry (an index or data file that does not unpickle)
  with a warning, and compiles again;
* keys every entry on the sources of its module *and of the sibling kernel
  modules it imports from*, not only the decorated function's own file: a kernel
  that inlines helpers from :mod:`skloss._kernels._math` is recompiled when that
  module changes (numba itself only compares the function's own file);
* takes a **file lock** per function around a first compile, so that parallel
  workers starting on an empty cache (``GridSearchCV(n_jobs=2)``) compile a
  kernel once: the second worker waits and loads what the first one wrote.

Functions defined anywhere else keep numba's own cache.

It also installs the **compile notice**: when a first use compiles for more
than :data:`NOTICE_AFTER` seconds, the ``skloss`` logger says so once per
process, naming :func:`skloss.warmup`.
"""

import contextlib
import hashlib
import inspect
import logging
import os
import re
import sys
import tempfile
import threading
import time
import warnings

__all__ = ["install", "cache_locations", "NOTICE_AFTER"]

logger = logging.getLogger("skloss")

NOTICE_AFTER = 1.0  # seconds of compiling before the one-time notice
LOCK_TIMEOUT = 600.0  # seconds a worker waits for another one's compile

_KERNEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_kernels")
_INSTALLED = False
_WARNED = set()
_STATE_LOCK = threading.Lock()


def _warn_once(key, message):
    with _STATE_LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def _is_kernel_file(path):
    try:
        return os.path.dirname(os.path.abspath(path)) == _KERNEL_DIR
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------ directories
def _user_cache_dir():
    from numba.misc.appdirs import AppDirs

    return AppDirs("skloss", appauthor=False).user_cache_dir


_WRITABLE = {}


def _writable(path):
    """Whether ``path`` exists or can be created, and a file can be written in it
    (tested by writing one: ``os.access`` says yes to root on a read-only tree)."""
    with _STATE_LOCK:
        if path in _WRITABLE:
            return _WRITABLE[path]
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        ok = True
    except OSError:
        ok = False
    with _STATE_LOCK:
        _WRITABLE[path] = ok
    return ok


def cache_locations(py_file=None):
    """Where the kernels of ``py_file`` (default: the kernel package) are cached.

    Returns
    -------
    read : list of str
        Directories searched for a cached entry, in order (those that exist).
    write : str or None
        Where new entries are written; None when no candidate is writable
        (kernels then compile in memory in every process).
    """
    from numba.core import config
    from numba.core.caching import _CacheLocator

    if py_file is None:
        py_file = os.path.join(_KERNEL_DIR, "__init__.py")
    subpath = _CacheLocator.get_suitable_cache_subpath(py_file)
    candidates = []
    if config.CACHE_DIR:
        candidates.append(os.path.join(config.CACHE_DIR, subpath))
    candidates.append(os.path.join(os.path.dirname(os.path.abspath(py_file)), "__pycache__"))
    try:
        candidates.append(os.path.join(_user_cache_dir(), subpath))
    except Exception:  # noqa: BLE001 (no home directory at all)
        pass
    read, write = [], None
    for path in candidates:
        if _writable(path):
            write = path
            read.append(path)
            break
        if os.path.isdir(path) and os.access(path, os.R_OK | os.X_OK):
            read.append(path)
    return read, write


# ------------------------------------------------------------------ source stamp
def _file_digest(path):
    st = os.stat(path)
    return _file_digest_cached(path, st.st_mtime_ns, st.st_size)


_DIGESTS = {}


def _file_digest_cached(path, mtime, size):
    key = (path, mtime, size)
    if key not in _DIGESTS:
        with open(path, "rb") as f:
            _DIGESTS[key] = hashlib.sha256(f.read()).digest()
    return _DIGESTS[key]


_IMPORT = re.compile(r"^\s*from\s+(?:skloss\._kernels)?\.(\w*)\s+import\s+([\w, ]+)", re.M)


def _kernel_dependencies(py_file):
    """The kernel modules whose code ``py_file`` can compile into its kernels:
    itself and, transitively, the sibling modules it imports from
    (``from ._math import ...``, ``from . import _binary``)."""
    seen = []
    todo = [os.path.abspath(py_file)]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.append(path)
        try:
            with open(path, encoding="utf-8") as f:
                source = f.read()
        except OSError:
            continue
        for module, names in _IMPORT.findall(source):
            targets = [module] if module else [n.strip() for n in names.split(",")]
            for target in targets:
                candidate = os.path.join(_KERNEL_DIR, f"{target}.py")
                if target and os.path.exists(candidate):
                    todo.append(candidate)
    return sorted(seen)


def kernel_sources_stamp(py_file):
    """One digest of the sources a kernel module's compiled code depends on.

    numba compares only the decorated function's own file.  The index of every
    cached kernel stores this digest instead: the module and every sibling kernel
    module it imports from (:mod:`skloss._kernels._math` ...), so editing a shared
    inline helper recompiles every kernel that inlines it, while editing an
    unrelated kernel module invalidates nothing else.
    """
    digest = hashlib.sha256()
    for path in _kernel_dependencies(py_file):
        digest.update(os.path.basename(path).encode())
        digest.update(_file_digest(path))
    return digest.hexdigest()


# ------------------------------------------------------------------ cache classes
def _make_classes():
    # numba is imported only when the kernel package is (install() is called there)
    from numba.core.caching import CompileResultCacheImpl, FunctionCache, IndexDataCacheFile

    class _Locator:
        """The directories of one kernel module (see :func:`cache_locations`)."""

        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self.read_paths, self.write_path = cache_locations(py_file)

        def get_cache_path(self):
            if self.write_path is not None:
                return self.write_path
            return self.read_paths[0] if self.read_paths else None

        def ensure_cache_path(self):
            if self.write_path is None:
                raise OSError("no writable cache directory")
            os.makedirs(self.write_path, exist_ok=True)

        def get_source_stamp(self):
            # the function's own file and every kernel module it may inline from
            return (_file_digest(self._py_file), kernel_sources_stamp(self._py_file))

        def get_disambiguator(self):
            return str(self._lineno)

    class _Impl(CompileResultCacheImpl):
        def __init__(self, py_func):  # noqa: D401 (numba's CacheImpl, without its locator search)
            self._lineno = py_func.__code__.co_firstlineno
            qualname = getattr(py_func, "__qualname__", py_func.__name__)
            filename = inspect.getfile(py_func)
            self._locator = _Locator(py_func, filename)
            modname = os.path.splitext(os.path.basename(filename))[0]
            abiflags = getattr(sys, "abiflags", "")
            self._filename_base = self.get_filename_base(f"{modname}.{qualname}", abiflags)

    class KernelCache(FunctionCache):
        """numba's per-function cache with several read directories, a missing
        or read-only write directory, damaged entries and parallel workers
        handled (see the module docstring)."""

        _impl_class = _Impl

        def __init__(self, py_func):
            self._name = repr(py_func)
            self._py_func = py_func
            self._impl = _Impl(py_func)
            locator = self._impl.locator
            stamp = locator.get_source_stamp()
            base = self._impl.filename_base
            self._files = [IndexDataCacheFile(p, base, stamp) for p in locator.read_paths]
            self._write_file = None
            if locator.write_path is not None:
                self._write_file = self._files[-1]
            else:
                _warn_once(
                    "no-writable-dir",
                    "skloss: no writable directory for the numba kernel cache (tried "
                    "NUMBA_CACHE_DIR, the package's __pycache__ and the user cache directory); "
                    "kernels compile in memory in every process. Set NUMBA_CACHE_DIR to a "
                    "writable directory, or build a warmed cache with skloss.warmup().",
                )
            # numba's own Cache API (flush on recompile, cache_path in stats)
            self._cache_file = self._write_file if self._write_file is not None else (
                self._files[0] if self._files else None)
            self._cache_path = locator.get_cache_path()
            self._lock = None
            self.enable()

        def _index_key(self, sig, codegen):
            # numba keys an overload compiled as another kernel's callee by its
            # Signature and one compiled for a call from Python by the tuple of
            # argument types: the same code under two keys, so a process looking
            # it up the other way recompiled it (warmup's loading pass compiled
            # _multiclass.log_loss again after its workers had cached it as the
            # fused softmax pass's callee).  One key: the argument types.
            return super()._index_key(tuple(getattr(sig, "args", sig)), codegen)

        def flush(self):
            if self._write_file is not None:
                with contextlib.suppress(OSError):
                    self._write_file.flush()

        # -- loading
        def _load_overload(self, sig, target_context):
            if not self._enabled:
                return None
            key = self._index_key(sig, target_context.codegen())
            for cache_file in self._files:
                data = self._load_from(cache_file, key, target_context)
                if data is not None:
                    return data
            return None

        def _load_from(self, cache_file, key, target_context):
            try:
                data = cache_file.load(key)
                if data is None:
                    return None
                return self._impl.rebuild(target_context, data)
            except Exception as exc:  # noqa: BLE001 (any damage: unpickling, truncation, rebuild)
                self._discard(cache_file, exc)
                return None

        def _discard(self, cache_file, exc):
            path = cache_file._index_path
            _warn_once(
                ("damaged", path),
                f"skloss: discarding a damaged numba cache entry {path!r} "
                f"({type(exc).__name__}: {exc}); compiling again.",
            )
            if cache_file is self._write_file:
                with contextlib.suppress(OSError):
                    os.unlink(path)

        def load_overload(self, sig, target_context):
            target_context.refresh()
            data = self._load_overload(sig, target_context)
            if data is not None or self._write_file is None or not self._enabled:
                return data
            # a miss: take this function's compile lock, then look again (another
            # process may have written the entry while we waited)
            self._lock = _acquire(self._write_file._index_path + ".lock")
            if self._lock is not None:
                data = self._load_overload(sig, target_context)
                if data is not None:
                    self._release()
            if data is None and self._lock is not None:
                _PENDING[id(self._py_func)] = self
            return data

        def _release(self):
            lock, self._lock = self._lock, None
            _PENDING.pop(id(self._py_func), None)
            if lock is not None:
                lock.release()

        # -- saving
        def save_overload(self, sig, data):
            try:
                self._save(sig, data)
            finally:
                self._release()

        def _save(self, sig, data):
            cache_file = self._write_file
            if not self._enabled or cache_file is None:
                return
            if not self._impl.check_cachable(data):
                return
            key = self._index_key(sig, data.codegen)
            reduced = self._impl.reduce(data)
            try:
                os.makedirs(cache_file._cache_path, exist_ok=True)
                try:
                    cache_file.save(key, reduced)
                except OSError:
                    raise
                except Exception as exc:  # noqa: BLE001 (a damaged index: start it afresh)
                    self._discard(cache_file, exc)
                    cache_file.save(key, reduced)
            except OSError as exc:
                _warn_once(
                    ("write", cache_file._cache_path),
                    f"skloss: cannot write the numba kernel cache in "
                    f"{cache_file._cache_path!r} ({exc}); compiled kernels stay in memory.",
                )

    return KernelCache


# ------------------------------------------------------------------ compile locks
_PENDING = {}  # caches holding a compile lock, by id(py_func)
_HELD = {}  # path -> [lock object, count] within this process


class _FileLock:
    def __init__(self, path, fd, waited):
        self.path = path
        self.fd = fd
        self.waited = waited

    def release(self):
        with _STATE_LOCK:
            entry = _HELD.get(self.path)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _HELD[self.path]
        with contextlib.suppress(OSError):
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _acquire(path):
    """An exclusive ``flock`` on ``path`` (None where locking is impossible)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock, at worst two workers compile
        return None
    with _STATE_LOCK:
        entry = _HELD.get(path)
        if entry is not None:  # re-entrant within the process
            entry[1] += 1
            return _FileLock(path, entry[0].fd, False)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return None
    waited = False
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            waited = True
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.05)
    lock = _FileLock(path, fd, waited)
    with _STATE_LOCK:
        _HELD[path] = [lock, 1]
    return lock


# ------------------------------------------------------------------ compile notice
class _CompileListener:
    """numba ``numba:compile`` events: release the compile lock of a failed
    compile, and start the one-time notice when a first use compiles long."""

    def __init__(self):
        self.depth = 0
        self.timer = None
        self.noticed = False

    def notify(self, event):
        disp = event.data["dispatcher"]
        py_func = getattr(disp, "py_func", None)
        if event.is_start:
            self.depth += 1
            if self.depth == 1 and not self.noticed and self.timer is None:
                self.timer = threading.Timer(NOTICE_AFTER, self._notice)
                self.timer.daemon = True
                self.timer.start()
        else:
            self.depth = max(self.depth - 1, 0)
            if self.depth == 0 and self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if py_func is not None and getattr(event, "_exc_details", None) is not None:
                cache = _PENDING.get(id(py_func))
                if cache is not None:
                    cache._release()

    def _notice(self):
        if self.noticed or _NOTICE_OFF:
            return
        self.noticed = True
        logger.warning(
            "skloss: compiling numba kernels on first use (this happens once; the "
            "compiled code is cached on disk). To compile everything ahead of time, "
            "e.g. in a Docker image or CI, run: python -c \"import skloss; skloss.warmup()\""
        )


_LISTENER = None
_NOTICE_OFF = False  # (skloss.warmup compiles on purpose: no notice pointing at itself)


def quiet_first_use_notice():
    """Switch off the one-time first-use compile notice in this process (the
    warm-up, which compiles on purpose, says what it does itself)."""
    global _NOTICE_OFF
    _NOTICE_OFF = True


def install():
    """Give the kernels of :mod:`skloss._kernels` the cache described above and
    register the compile listener.  Idempotent; compiles nothing."""
    global _INSTALLED, _LISTENER
    if _INSTALLED:
        return
    from numba.core import dispatcher, event

    kernel_cache = _make_classes()
    numba_cache = dispatcher.FunctionCache

    def function_cache(py_func):
        try:
            ours = _is_kernel_file(inspect.getfile(py_func))
        except TypeError:
            ours = False
        return kernel_cache(py_func) if ours else numba_cache(py_func)

    function_cache.numba_cache = numba_cache
    function_cache.kernel_cache = kernel_cache
    # Dispatcher.enable_caching (cache=True) builds its cache through this name
    dispatcher.FunctionCache = function_cache
    _LISTENER = _CompileListener()

    class _Adapter(event.Listener):
        def on_start(self, ev):
            _LISTENER.notify(ev)

        def on_end(self, ev):
            _LISTENER.notify(ev)

    event.register("numba:compile", _Adapter())
    _INSTALLED = True
