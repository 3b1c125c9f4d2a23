"""Generate the counter's feedback sounds (small 16-bit mono WAVs) with the standard library.

Run `python resources/sounds/make_sounds.py` to rebuild them; the generated files are committed.
- scanned.wav: one short high tick (a scan was taken)
- success.wav: two rising tones (done and saved)
- refused.wav: a low double buzz (refused: nothing was saved)
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22_050
HERE = Path(__file__).resolve().parent


def tone(freq: float, seconds: float, volume: float = 0.5, square: bool = False) -> list[float]:
    count = int(RATE * seconds)
    fade = max(1, int(RATE * 0.008))
    samples = []
    for n in range(count):
        wave_value = math.sin(2 * math.pi * freq * n / RATE)
        if square:
            wave_value = 0.6 if wave_value >= 0 else -0.6
        envelope = min(1.0, n / fade, (count - n) / fade)
        samples.append(volume * envelope * wave_value)
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
    write("scanned.wav", tone(1760, 0.05, 0.4))
    write("success.wav", tone(880, 0.09) + silence(0.02) + tone(1320, 0.14))
    write("refused.wav", tone(220, 0.14, 0.5, square=True) + silence(0.05)
          + tone(196, 0.2, 0.5, square=True))


if __name__ == "__main__":
    main()
