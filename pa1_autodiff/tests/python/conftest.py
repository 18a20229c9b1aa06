"""pytest setup for the PA1 Python tests: fail early, with the fix, when mlsys.pa1 is not built.

Test names carry their task (test_task2_2_...), so `pytest -k task2_2` (or
`./mlsys test pa1 --task 2.2`) runs one task; tests without a task check the staff code
(graph building, executor, bad input) and pass in the untouched student build too.

Shared helpers live in pa1_testutil.py (a unique module name: pytest may collect these tests
together with common/tests/python, which has its own conftest).
"""

import numpy as np
import pytest

try:
    import mlsys  # noqa: F401
    import mlsys.pa1  # noqa: F401
except ImportError as e:  # pragma: no cover - only when the build or PYTHONPATH is missing
    raise pytest.UsageError(
        f"cannot import mlsys.pa1 ({e}). Build the module and point PYTHONPATH at the build tree:\n"
        "    ./mlsys test pa1                       (builds, then runs these tests), or\n"
        "    cmake --build build/student --target pa1_python\n"
        "    PYTHONPATH=build/student/python python3 -m pytest pa1_autodiff/tests/python"
    ) from e


@pytest.fixture
def rng():
    return np.random.default_rng(20240901)
