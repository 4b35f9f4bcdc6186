"""Fixtures for the encrypted table format tests."""

from __future__ import annotations

import pytest

from format_helpers import KEY, KEY_ID


@pytest.fixture
def key() -> bytes:
    return KEY


@pytest.fixture
def key_id() -> bytes:
    return KEY_ID
