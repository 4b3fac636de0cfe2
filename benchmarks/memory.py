"""Memory: peak resident memory of a process streaming a whole member walk to JSONL.

    python benchmarks/memory.py [--quick]

A fresh client process (the emulator runs in another) walks 20,000 and then 200,000 members
(4,000 and 40,000 with ``--quick``), 20 per department in both, writing each member as a
JSON line, and reports its peak RSS; a process that only imports, connects and fetches a
token is the floor. Targets: <= 150 MB at 200,000 members, and flat growth from the small
organisation to the ten times larger one, chosen as <= 15 MB more (under 85 bytes per
added member). For information: how much of that growth is the set of user ids the walk
keeps to yield each member once, sized after the walk from the file it wrote.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio
import json
import resource
import subprocess
import tempfile
from typing import Any, BinaryIO

import msgspec

from benchmarks._harness import Row, at_most, child_env, standalone, wecom_emulator
from benchmarks.overhead import NO_QUOTA
from benchmarks.walk import corp_client

CONCURRENCY = 32
PER_DEPARTMENT = 20
PEAK_LIMIT_MB, GROWTH_LIMIT_MB = 150.0, 15.0


async def stream_to(info: dict[str, Any], out: BinaryIO | None) -> int:
    """Members written as JSON lines to ``out`` (None: only fetch a token and connect)."""
    async with corp_client(info, quotas=NO_QUOTA) as client:
        await client.directory.get_department(1)
        if out is None:
            return 0
        encoder = msgspec.json.Encoder()
        count = 0
        async for member in client.walk_members(concurrency=CONCURRENCY):
            out.write(encoder.encode(member) + b"\n")
            count += 1
        return count


class Userid(msgspec.Struct):
    userid: str


class Measure(msgspec.Struct):
    """What a child process reports."""

    members: int
    peak_mb: float
    ids_mb: float  # a set of the user ids written, as the walk keeps them


def ids_size(path: str) -> int:
    """Bytes of a set of the user ids in the JSONL file at ``path``, strings included."""
    decoder = msgspec.json.Decoder(Userid)
    with open(path, "rb") as lines:
        ids = {decoder.decode(line).userid for line in lines}
    return sys.getsizeof(ids) + sum(sys.getsizeof(userid) for userid in ids)


def child(argv: list[str]) -> None:
    """In a fresh process: stream a walk to a file (or only connect), print a Measure."""
    info, path, walk = json.loads(argv[0]), argv[1], argv[2] == "1"
    with open(path, "wb") as out:
        count = asyncio.run(stream_to(info, out if walk else None))
    peak_mb = peak_bytes() / 1e6  # before sizing the ids, which takes memory too
    print(msgspec.json.encode(Measure(count, peak_mb, ids_size(path) / 1e6)).decode())


def peak_bytes() -> int:
    """This process's peak RSS. On Linux, from its memory map's high-water mark: the
    rusage figure also counts the parent's RSS at the fork that started this process."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def measure(info: dict[str, Any], walk: bool) -> Measure:
    """What a child process streaming a walk (or only connecting) reports."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(info), str(Path(tmp, "m.jsonl")),
             "1" if walk else "0"],
            check=True, capture_output=True, text=True, env=child_env(),
        ).stdout
    return msgspec.json.decode(out, type=Measure)


def run(quick: bool) -> list[Row]:
    small = 4_000 if quick else 20_000
    runs: list[tuple[Measure, Measure]] = []
    for members in (small, 10 * small):
        # The vendor's 10,000 calls a minute per API would pace the larger walk.
        with wecom_emulator(2, members, members // PER_DEPARTMENT, quota=10**9) as info:
            runs.append((measure(info, walk=False), measure(info, walk=True)))
    (_, less), (floor, more) = runs
    growth = more.peak_mb - less.peak_mb
    label = f"stream {more.members:,} members to JSONL, c={CONCURRENCY}"
    return [
        Row(f"{label}: peak RSS", f"{more.peak_mb:.0f} MB (connect only {floor.peak_mb:.0f} MB)",
            f"limit {PEAK_LIMIT_MB:g} MB", more.peak_mb / PEAK_LIMIT_MB, at_most(1.0)),
        Row(f"  growth from {less.members:,} members", f"+{growth:.1f} MB",
            f"{less.members:,} members {less.peak_mb:.0f} MB", growth,
            at_most(GROWTH_LIMIT_MB), ".1f", " MB"),
        Row("  of which the set of user ids yielded (to yield each member once)",
            f"+{more.ids_mb - less.ids_mb:.1f} MB",
            f"{more.ids_mb:.1f} MB vs {less.ids_mb:.1f} MB"),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
    else:
        standalone(run, __doc__)
