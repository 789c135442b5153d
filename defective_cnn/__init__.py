__version__ = "0.1.0"

# Written by hand, not exported: nbdev_export rewrites only the line above.
# The package offers one name at its top level, `defectify` (notebook 22_defectify). It is imported when first asked
# for (PEP 562), so that importing a module that needs no torch (`defective_cnn.paper`) does not load torch.
import sys as _sys
import types as _types

__all__ = ["defectify"]


def __getattr__(name):
    if name == "defectify":
        from .defectify import defectify

        globals()["defectify"] = defectify
        return defectify
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(_types.ModuleType):
    "The package's module: the import system binds a loaded submodule to its parent's attribute of the same name; the submodule `defectify` must not hide the function."

    def __setattr__(self, name, value):
        if not (name == "defectify" and isinstance(value, _types.ModuleType)):
            super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
