"""`scale-agent decode` on a capture, beside the naive script a user could write instead.

The capture is MT-SICS as a scale streams it while parcels come and go: the platter empty, a
parcel landing (moving readings), settled for a while, lifted off; weights vary from parcel to
parcel. Each command runs as its own process over the same file, output to /dev/null; time is
the best of three wall-clock runs, memory the peak resident size (ru_maxrss of the child).
Targets: decode <= 0.7x the naive script's time; peak memory the same for 200k and 2M frames.
A last check: through a pipe, the first line comes out before the input has ended.

Run: .venv/bin/python -m bench.decode_cli [--frames 200000] [--large 2000000]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAIVE = """
import json, re, sys
weight = re.compile(rb"^(S|SI|SIR) ([SD]) +(-?[0-9.]+) ([a-z]+)")
for line in sys.stdin.buffer:
    match = weight.match(line)
    if match:
        print(json.dumps({"protocol": "mt-sics", "kind": "weight", "value": float(match[3]),
                          "unit": match[4].decode(), "stable": match[2] == b"S",
                          "raw": line.rstrip(b"\\r\\n").hex()}))
    else:
        print(json.dumps({"protocol": "mt-sics", "kind": "error", "raw": line.hex()}))
"""


def write_distinct(path: Path, frames: int, seed: int = 7) -> None:
    """The worst case for decode's repeated-frame short cut: no frame like the one before."""
    rng = random.Random(seed)
    with path.open("wb") as file:
        for _ in range(frames // 1000):
            grams = [rng.randint(0, 6_000_000) / 1000 for _ in range(1000)]
            file.write(b"".join(f"S D {g / 1000:10.3f} kg\r\n".encode() for g in grams))


def write_capture(path: Path, frames: int, seed: int = 7) -> None:
    """MT-SICS lines: empty platter, landing, settled, lifted off, parcel after parcel.

    Written parcel by parcel, so that this process stays small: a child's peak resident size
    counts what it shared with this process before it started its own program.
    """
    rng = random.Random(seed)
    written = 0
    with path.open("wb") as file:
        while written < frames:
            grams = rng.randint(150, 4800)
            lines = [b"S S      0.000 kg\r\n"] * rng.randint(20, 60)
            for step in range(rng.randint(4, 10)):  # landing: moving readings near the weight
                moving = grams * (0.7 + 0.06 * step) + rng.randint(-40, 40)
                lines.append(f"S D {moving / 1000:10.3f} kg\r\n".encode())
            lines += [f"S S {grams / 1000:10.3f} kg\r\n".encode()] * rng.randint(30, 120)
            lines = lines[: frames - written]
            file.write(b"".join(lines))
            written += len(lines)


def run(command: list[str], stdin: Path) -> tuple[float, float]:
    """(best wall seconds of 3, peak RSS MB) of a command reading `stdin`, output discarded."""
    best = float("inf")
    peak = 0.0
    for _ in range(3):
        with stdin.open("rb") as source:
            started = time.perf_counter()
            pid = subprocess.Popen(command, stdin=source, stdout=subprocess.DEVNULL).pid
            _, status, usage = os.wait4(pid, 0)
            elapsed = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"{command} exited with {status}")
        best = min(best, elapsed)
        peak = max(peak, usage.ru_maxrss / 1024)
    return best, peak


def first_line_before_the_end(decode: list[str]) -> bool:
    """Through a pipe: a line comes out while the writer still holds the input open."""
    process = subprocess.Popen(decode, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(b"S S      1.250 kg\r\n")
    process.stdin.flush()
    line = process.stdout.readline()  # blocks until decode writes; the pipe stays open
    process.stdin.close()
    process.wait(10)
    return b'"value":1.25' in line


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--frames", type=int, default=200_000)
    options.add_argument("--large", type=int, default=2_000_000)
    args = options.parse_args()
    folder = Path(tempfile.mkdtemp())
    small, large = folder / "small.txt", folder / "large.txt"
    write_capture(small, args.frames)
    write_capture(large, args.large)
    naive_script = folder / "naive_decode.py"
    naive_script.write_text(NAIVE)
    exe = str(Path(sys.executable).with_name("scale-agent"))
    decode = [exe, "decode", "--protocol", "mt-sics", "-"]
    naive = [sys.executable, str(naive_script)]
    ours_s, ours_mb = run(decode, small)
    naive_s, naive_mb = run(naive, small)
    print(
        f"{args.frames:,} MT-SICS frames: decode {ours_s:.2f} s, {ours_mb:.0f} MB peak; naive "
        f"regex + json.dumps script {naive_s:.2f} s, {naive_mb:.0f} MB "
        f"(ratio {ours_s / naive_s:.2f}x; target <= 0.7x)"
    )
    large_s, large_mb = run(decode, large)
    naive_large_s, _ = run(naive, large)
    print(
        f"{args.large:,} frames: decode {large_s:.2f} s, {large_mb:.0f} MB peak "
        f"(naive {naive_large_s:.2f} s, ratio {large_s / naive_large_s:.2f}x); "
        f"peak memory {large_mb / ours_mb:.2f}x that of {args.frames:,} frames (target: flat)"
    )
    distinct = folder / "distinct.txt"
    write_distinct(distinct, args.frames)
    distinct_s, _ = run(decode, distinct)
    naive_distinct_s, _ = run(naive, distinct)
    print(
        f"{args.frames:,} frames, each unlike the one before (worst case): decode "
        f"{distinct_s:.2f} s, naive {naive_distinct_s:.2f} s "
        f"(ratio {distinct_s / naive_distinct_s:.2f}x)"
    )
    print(f"through a pipe, output before the input ends: {first_line_before_the_end(decode)}")


if __name__ == "__main__":
    main()
