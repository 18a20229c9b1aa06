"""pytest configuration of the grader's tests (see grader_test_util.py)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long grader tests (CTest label slow; MLSYS_GRADER_SLOW_TESTS=ON)")
