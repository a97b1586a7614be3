"""Shared fixtures. Tests that read CHB-MIT's real metadata skip where ../shared/chbmit is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHBMIT_META = Path(os.environ.get("PREICTAL_CHBMIT_META", REPO.parent / "shared" / "chbmit"))


@pytest.fixture(scope="session")
def chbmit_meta() -> Path:
    if not (CHBMIT_META / "chb01-summary.txt").is_file():
        pytest.skip(f"CHB-MIT metadata not found at {CHBMIT_META}")
    return CHBMIT_META
