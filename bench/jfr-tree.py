#!/usr/bin/env python3
"""Where the samples under a frame go: reads `jfr print --json --stack-depth 200 --events jdk.ExecutionSample` on
stdin; for every sample with a frame whose `Class.method` contains ROOT, counts the DEPTH frames it called (below its
innermost occurrence), most first. Usage: jfr-tree.py ROOT [DEPTH]   e.g. jfr-tree.py Planning.plan 1"""
import collections
import json
import signal
import sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under `| head`

root = sys.argv[1]
depth = int(sys.argv[2]) if len(sys.argv) > 2 else 2
events = json.load(sys.stdin)["recording"]["events"]
below = collections.Counter()
inside = 0
for event in events:
    trace = event["values"].get("stackTrace")
    frames = [f["method"]["type"]["name"].split("/")[-1] + "." + f["method"]["name"] for f in trace["frames"]] if trace else []
    hits = [i for i, frame in enumerate(frames) if root in frame]
    if not hits:
        continue
    inside += 1
    innermost = min(hits)
    below[" > ".join(frames[max(0, innermost - depth):innermost][::-1]) or "(self)"] += 1
print(f"{inside} of {len(events)} samples under {root}")
for path, count in below.most_common(25):
    print(f"  {count:5d}  {path}")
