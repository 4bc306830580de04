"""A move that arrives while the explorer computes ahead: how long until its frame is sent, in a real kernel.

After a weight-scale step the histogram explorer computes the next step before it is asked for (the
browser draws it at once when that key is pressed). This measures what that costs a move in another
direction: a real ipykernel (jupyter_client) holds chapter 05's explorer at 10 layers x 400 units x 1000
samples; the benchmark sends the front end's two messages (``values`` as explorer.js sends them): a scale
step, then, a few ms later, a switch to another activation, and reads from the kernel's own clock when
each frame was sent. Two ways in the same run, alternating:

- chunked (this tree): the look-ahead runs one layer per turn of the kernel's event loop; the switch is
  answered after the layer under way;
- blocking (the previous behaviour, restored in the kernel for the comparison): the look-ahead runs to
  its end first, so the switch waits for it.

Prints the medians of "step's frame -> switch's frame" (about one frame's compute when nothing blocks,
about two when the look-ahead does) and the frame's compute time. The machine may be busy: read the
two columns of one run side by side.

    .venv/bin/python benchmarks/explorer_lookahead.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

SETUP = """
import time
from coursekit.widgets import HistogramExplorer
from coursekit.widgets._common import values_key
explorer = HistogramExplorer(depth=10, width=400, n_samples=1000)
sent = []
explorer.widget.observe(lambda ch: sent.append((ch['name'], time.time(), ch['new'].get('key', ''))), names=['frame', 'ahead'])
explorer.compute(dict(explorer.widget.values))  # warm: the network and its buffers
if {blocking}:  # the previous behaviour: the whole look-ahead at once, before any other message
    explorer._look_ahead = lambda values: setattr(explorer.widget, 'ahead',
                                                   {{**explorer.compute(values), 'key': values_key(values)}})
"""


def _run(kc, code: str, timeout: float = 120.0) -> str:
    msg_id = kc.execute(code)
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = kc.get_iopub_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "stream":
            out.append(m["content"]["text"])
        elif m["msg_type"] == "error":
            raise RuntimeError("\n".join(m["content"]["traceback"]))
        elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            return "".join(out)
    raise TimeoutError(code)


def trial(blocking: bool) -> tuple[float, float]:
    """(ms from the step's frame to the switch's frame, ms of the step's frame after its message)."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        _run(kc, SETUP.format(blocking=blocking))
        comm_id = _run(kc, "print(explorer.widget.model_id)").strip()
        values = json.loads(_run(kc, "import json; print(json.dumps(explorer.widget.values))"))

        def send(v: dict) -> None:
            kc.shell_channel.send(kc.session.msg("comm_msg", {
                "comm_id": comm_id, "data": {"method": "update", "state": {"values": v}, "buffer_paths": []}}))

        step = {**values, "scale": values["scale"] + 1}
        t0 = time.time()
        send(step)  # the kernel sends its frame, then computes the next step ahead
        time.sleep(0.01)
        send({**step, "activation": "tanh"})  # arrives while the look-ahead is under way
        sent = []
        for _ in range(100):  # bounded: until the switch's frame is out (a few seconds at most)
            sent = json.loads(_run(kc, "import json; print(json.dumps(sent))"))
            if any(name == "frame" and "tanh" in key for name, _, key in sent):
                break
            time.sleep(0.1)
        frames = [t for name, t, _ in sent if name == "frame"]
        return 1000 * (frames[1] - frames[0]), 1000 * (frames[0] - t0)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(args.repeats):
        for blocking in (False, True):
            results[blocking].append(trial(blocking))
    print("chapter 05 explorer, 10 layers x 400 units x 1000 samples, a real ipykernel; "
          f"medians of {args.repeats} trials each")
    for blocking, label in ((False, "chunked look-ahead (this tree)"), (True, "blocking look-ahead (before)")):
        wait = statistics.median(r[0] for r in results[blocking])
        first = statistics.median(r[1] for r in results[blocking])
        print(f"{label:<32} switch answered {wait:6.1f} ms after the step's frame "
              f"(the step's own frame: {first:6.1f} ms after its message)")


if __name__ == "__main__":
    main()
