"""pytest setup for the mlsys Python tests: fail early, with the fix, when mlsys is not built."""

import pytest

try:
    import mlsys  # noqa: F401
except ImportError as e:  # pragma: no cover - only when the build or PYTHONPATH is missing
    raise pytest.UsageError(
        f"cannot import mlsys ({e}). Build the module and point PYTHONPATH at the build tree:\n"
        "    cmake --build build --target mlsys_python\n"
        "    PYTHONPATH=build/python python3 -m pytest common/tests/python\n"
        "(ctest -R common_python sets PYTHONPATH for you.)"
    ) from e
