"""Writes the check-in sounds, one for each family of answers (run by hand; the WAV files
are committed).

good.wav: two rising notes (hold shelf, reshelve, a checkout); move.wav: one long middle
note (send to another campus); office.wav: two falling notes, a door chime (back to the ILL
office); not_found.wav: a low note and a lower buzz (try barcode recovery); problem.wav: three
low buzzes (scan not accepted); not_sure.wav: a quick warble (keep aside until confirmed).
Distinct in pitch and rhythm, so a desk worker tells them apart without looking. Standard
library only.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22_050
HERE = Path(__file__).resolve().parent


def tone(freq: float, seconds: float, *, square: bool = False, volume: float = 0.6) -> list[float]:
    count = int(RATE * seconds)
    fade = max(1, int(RATE * 0.008))  # short fades: no clicks
    samples = []
    for n in range(count):
        phase = math.sin(2 * math.pi * freq * n / RATE)
        value = (1.0 if phase >= 0 else -1.0) * 0.5 if square else phase
        envelope = min(1.0, n / fade, (count - n) / fade)
        samples.append(value * volume * envelope)
    return samples


def silence(seconds: float) -> list[float]:
    return [0.0] * int(RATE * seconds)


def write(name: str, samples: list[float]) -> None:
    with wave.open(str(HERE / name), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", int(s * 32767)) for s in samples))


def main() -> None:
    write("good.wav", tone(1047, 0.09) + silence(0.02) + tone(1319, 0.14))
    write("move.wav", tone(660, 0.28))
    buzz = tone(196, 0.11, square=True, volume=0.5)
    write("problem.wav", buzz + silence(0.05) + buzz + silence(0.05) + buzz)
    write("office.wav", tone(784, 0.16) + silence(0.03) + tone(523, 0.24))
    write("not_found.wav", tone(392, 0.14) + silence(0.04) + tone(262, 0.22, square=True))
    warble = []
    for _ in range(4):
        warble += tone(587, 0.06) + tone(494, 0.06)
    write("not_sure.wav", warble)


if __name__ == "__main__":
    main()
