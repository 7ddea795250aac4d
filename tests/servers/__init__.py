"""Real servers for tests, started by the test session itself on loopback with free ports.

``fixtures.py`` holds the pytest fixtures; register them in a directory's ``conftest.py`` with
``pytest_plugins = ["tests.servers.fixtures"]``.
"""
