"""Suite files (``--suite-file``): Python files that define ``SUITE``, loaded as real modules.

A suite file is imported under a stable module name derived from its path, so that the classes it
defines (e.g. its own estimator) pickle by reference. A job carries the suite file of its suite
(:class:`SuiteModules`); unpickling the job in a worker imports that file first.
"""

import hashlib
import importlib.util
import sys
from pathlib import Path

#: module name -> path of each suite file loaded in this process
LOADED = {}


def module_name(path):
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return f"qclmix_suite_{digest}"


def load_suite_module(path, name=None):
    """Import the Python file ``path`` (once per process) as module ``name``; return it."""
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"suite file {path} does not exist")
    name = name or module_name(path)
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None:
            raise ValueError(f"suite file {path} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    LOADED[name] = str(path)
    return module


def _import_all(modules):
    for name, path in modules.items():
        if name not in sys.modules:
            load_suite_module(path, name)
    return SuiteModules(modules)


def modules_of(*functions):
    """``{module name: path}`` of the suite files that define ``functions``."""
    names = {getattr(function, "__module__", None) for function in functions}
    return {name: LOADED[name] for name in sorted(names - {None}) if name in LOADED}


class SuiteModules:
    """The suite files of a job: unpickled (and so imported) before the objects that need them."""

    def __init__(self, modules):
        self.modules = dict(modules)

    def __reduce__(self):
        return _import_all, (self.modules,)
