#!/usr/bin/env python3
"""Write resources/sounds/message.wav: a short, soft two-note chime synthesised here (no samples).

Two sine notes (E5 then A5) with a gentle attack, an exponential decay and a short fade-out, 22.05 kHz mono 16-bit,
peak at a quarter of full scale so it never startles.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "resources" / "sounds" / "message.wav"
RATE = 22050
PEAK = 0.25


def note(freq: float, seconds: float) -> list[float]:
    n = int(RATE * seconds)
    attack = int(RATE * 0.012)
    release = int(RATE * 0.03)  # a short fade to silence: no click between the notes or at the end
    out = []
    for i in range(n):
        t = i / RATE
        env = min(1.0, i / attack, (n - 1 - i) / release) * math.exp(-t * 9.0)
        # A little of the octave makes it rounder than a bare sine.
        out.append(env * (math.sin(2 * math.pi * freq * t) + 0.18 * math.sin(4 * math.pi * freq * t)) / 1.18)
    return out


def main() -> None:
    samples = note(659.25, 0.16) + note(880.0, 0.34)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(TARGET), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", round(s * PEAK * 32767)) for s in samples))


if __name__ == "__main__":
    main()
