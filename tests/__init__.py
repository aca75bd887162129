"""The test suite: mirrors the packages; shared fakes and builders in tests/fixtures.py, fixtures in conftest.py."""
