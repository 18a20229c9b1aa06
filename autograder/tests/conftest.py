"""pytest configuration of the grader's tests (see grader_test_util.py)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long grader tests (CTest label slow; registered unless MLSYS_GRADER_SLOW_TESTS=OFF)")
