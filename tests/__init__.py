import pytest

# Test modules import helpers from this plugin module before pytest loads it as a plugin.
pytest.register_assert_rewrite("tests.server_fixtures")
