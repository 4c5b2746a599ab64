"""``envstamp bench``'s client overhead per streamed token (issue 14 target: < 20 us).

    python benchmarks/bench_bench_client.py [--tokens N] [--gap-ms G] [--repeat R]

A local server (a child process, so its CPU is not counted) streams N llama-server-shaped
events (``data: {...}`` server-sent events, chunked) at a fixed rate, one every G ms.  The
client side is measured in this process's own thread CPU time (``time.thread_time``), steadier
than wall time on a shared machine, interleaved run by run:

* baseline - a minimal hand-written client: one socket, send the request, ``recv`` until the
  server closes, one ``perf_counter`` per read.  The least any client can do to see tokens
  arrive and when;
* streaming - ``envstamp.runner.streaming.stream_request``: http.client, chunked decoding,
  every line timed and kept (what ``envstamp bench`` does while the stream runs);
* reading - ``benchclient.apis.read_stream`` over the answer: the JSON of every event and the
  figures, done after the stream ended (outside every measured interval).

The overhead per token is (streaming - baseline) / N; reading's cost per token is shown
beside it.  Nothing is asserted: the numbers are printed, with the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _harness import interleaved

HERE = Path(__file__).parent

EVENT = (
    'data: {"index":0,"content":" tok","tokens":[449],"stop":false,"id_slot":-1,'
    '"tokens_predicted":%d,"tokens_evaluated":32}\n\n'
)


def serve(port_file: str, tokens: int, gap_ms: float) -> None:
    """The child: answer every connection with ``tokens`` events, one every ``gap_ms``."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    Path(port_file).write_text(str(listener.getsockname()[1]))
    final = json.dumps({"content": "", "stop": True, "timings": {
        "prompt_n": 32, "prompt_ms": 1.0, "predicted_n": tokens, "predicted_ms": tokens * gap_ms}})
    while True:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            # Read the body too: closing a socket with unread bytes resets the connection.
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            due = time.perf_counter()
            for index in range(tokens):
                body = (EVENT % (index + 1)).encode()
                conn.sendall(b"%x\r\n%s\r\n" % (len(body), body))
                due += gap_ms / 1000.0
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            body = f"data: {final}\n\n".encode()
            conn.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))


def baseline_client(port: int) -> int:
    """Send the request; read until the server closes, one clock read per read."""
    clock = time.perf_counter
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /completion HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    stamps = []
    while True:
        data = sock.recv(65536)
        stamps.append(clock())
        if not data:
            break
    sock.close()
    return len(stamps)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--gap-ms", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.tokens, args.gap_ms)
        return

    import tempfile

    from envstamp.benchclient.apis import read_stream
    from envstamp.runner.streaming import StreamLimits, stream_request

    with tempfile.TemporaryDirectory() as folder:
        port_file = Path(folder) / "port"
        child = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file),
                                  "--tokens", str(args.tokens), "--gap-ms", str(args.gap_ms)])
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.01)
            port = int(port_file.read_text())
            url = f"http://127.0.0.1:{port}/completion"
            limits = StreamLimits()
            answers = []
            read_cpu: list[float] = []

            def baseline() -> float:
                start = time.thread_time()
                baseline_client(port)
                return time.thread_time() - start

            def streaming() -> float:
                start = time.thread_time()
                answer = stream_request(url, body=b"{}", limits=limits)
                used = time.thread_time() - start
                answers.append(answer)
                begin = time.thread_time()
                reading = read_stream("llama-completion", answer["lines"])
                read_cpu.append(time.thread_time() - begin)
                if reading.error is not None or len(reading.token_times) != args.tokens:
                    raise SystemExit(f"bad stream: {answer.get('detail')} {reading.error} "
                                     f"{len(reading.token_times)} tokens")
                return used

            samples = interleaved({"baseline": baseline, "streaming": streaming},
                                  repeat=args.repeat, warmup=1)
        finally:
            child.kill()
            child.wait()

    n = args.tokens
    base = statistics.median(samples["baseline"])
    ours = statistics.median(samples["streaming"])
    reading = statistics.median(read_cpu)
    print(f"\n## bench client overhead: {n} tokens, one every {args.gap_ms:g} ms, "
          f"{args.repeat} runs (thread CPU time, medians)")
    print(f"{'':34} {'per run':>10} {'per token':>10} {'ratio':>7}")
    for name, value in (("baseline (raw socket)", base), ("streaming (runner)", ours)):
        print(f"{name:34} {value * 1e3:>8.2f}ms {value / n * 1e6:>8.2f}us {value / base:>6.2f}x")
    print(f"{'reading (after the stream)':34} {reading * 1e3:>8.2f}ms {reading / n * 1e6:>8.2f}us")
    print(f"overhead per streamed token: {(ours - base) / n * 1e6:.2f} us (target < 20 us)")


if __name__ == "__main__":
    main()
