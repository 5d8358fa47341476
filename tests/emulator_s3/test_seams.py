"""The moto 5.2.5 seams the S3 plug-in patches: this fails loudly if one moves."""

from __future__ import annotations

import pytest

from scones.emulator.s3 import SeamMoved, check_seams, seams


def test_seams_are_where_the_plug_in_expects_them():
    check_seams()


def test_a_moved_seam_is_named(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(seams, "MOTO_VERSION", "0.0.0")
    with pytest.raises(SeamMoved, match="these seams were read from 0.0.0"):
        check_seams()


def test_the_emulator_installs_the_s3_plug_in():
    from scones.emulator.server import PLUGINS

    assert "scones.emulator.s3" in PLUGINS
