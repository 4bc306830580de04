"""Wall time of the whole course check (``coursekit check``); target <= 60 s on a 2-core machine.

Runs ``coursekit check`` (strict nbval over every lesson and exercise solution)
in a subprocess, shows its table, and prints the wall time and the CPU time of
everything it started (CPU / cores is the wall time an otherwise idle machine
could reach, a figure that depends less on other load).

    .venv/bin/python benchmarks/course_check_time.py [-j JOBS]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

TARGET_S = 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=0, help="passed to coursekit check")
    args = parser.parse_args(argv)
    cmd = [sys.executable, "-m", "coursekit.cli", "check"] + (["-j", str(args.jobs)] if args.jobs else [])
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(proc.stdout.rstrip())
    if proc.returncode:
        print(proc.stderr.rstrip()[-2000:])
    cores = os.cpu_count() or 1
    print(f"\ncoursekit check: {wall:.1f} s wall (target {TARGET_S:.0f} s: "
          f"{'met' if wall <= TARGET_S else 'MISSED'}), {cpu:.1f} s CPU in its processes "
          f"= {cpu / cores:.1f} s per core on {cores} cores; load average before: {load:.2f}; "
          f"exit status {proc.returncode}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
