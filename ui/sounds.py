"""The desk's sounds: one for each family of check-in answers (see banner_looks), and the
good and problem sounds Check Out plays by tone.

QtMultimedia needs the system's audio libraries; where they are missing (or there is no
audio device) the desk works on silently, says so once in its log, and the status bar says
the sounds are off (`sounds_off_reason`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl

from app.desk.routing import Tone
from app.workstation.config import WorkstationSettings

log = logging.getLogger(__name__)

SOUND_DIR = Path(__file__).resolve().parent.parent / "resources" / "sounds"
SOUND_FILES = {
    "good": "good.wav",
    "move": "move.wav",
    "office": "office.wav",
    "not_found": "not_found.wav",
    "refused": "problem.wav",
    "not_sure": "not_sure.wav",
}
TONE_SOUNDS = {Tone.GOOD: "good", Tone.MOVE: "move", Tone.PROBLEM: "refused"}

_effect_class: Any = None
_unavailable_reason: str | None = None


def _sound_effect_class() -> Any:
    """QSoundEffect, or None when audio cannot work here (logged the first time only)."""
    global _effect_class, _unavailable_reason
    if _effect_class is None and _unavailable_reason is None:
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
        except ImportError as exc:  # e.g. libpulse missing: no audio stack on this machine
            _unavailable_reason = f"the audio libraries are missing ({exc or type(exc).__name__})"
        else:
            if QMediaDevices.audioOutputs():
                _effect_class = QSoundEffect
            else:
                _unavailable_reason = "no audio device is connected"
        if _unavailable_reason is not None:
            log.warning("no audio output (%s): check-in sounds are off", _unavailable_reason)
    return _effect_class


def sounds_off_reason() -> str | None:
    """Why no sound can be heard on this computer, in words; None when sounds can play."""
    _sound_effect_class()
    return _unavailable_reason


class SoundPlayer(QObject):
    """Plays a tone's sound at the workstation's volume, unless muted or without audio."""

    def __init__(self, settings: WorkstationSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("soundPlayer")
        self.settings = settings  # read at each sound: a change in Settings applies at once
        self.last_tone: Tone | None = None  # what was asked for last, heard or not
        self.last_sound: str | None = None
        self._effects: dict[str, Any] = {}
        effect_class = _sound_effect_class()
        if effect_class is None:
            return
        for sound, name in SOUND_FILES.items():
            effect = effect_class(self)
            effect.setSource(QUrl.fromLocalFile(str(SOUND_DIR / name)))
            self._effects[sound] = effect

    @property
    def volume(self) -> int:
        return max(0, min(100, int(self.settings.sound_volume)))

    @property
    def muted(self) -> bool:
        return bool(self.settings.sound_muted)

    @property
    def available(self) -> bool:
        return bool(self._effects)

    def play(self, tone: Tone) -> bool:
        """The tone's sound (Check Out: good or problem); see `play_sound`."""
        self.last_tone = tone
        return self.play_sound(TONE_SOUNDS[tone])

    def play_sound(self, sound: str) -> bool:
        """True when the sound was started; muted, silent machines and volume 0 say False."""
        self.last_sound = sound
        effect = self._effects.get(sound)
        if effect is None or self.muted or self.volume == 0:
            return False
        effect.stop()
        effect.setVolume(self.volume / 100)
        effect.play()
        return True
