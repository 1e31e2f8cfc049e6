"""Latency of a running Rasa server: N sequential requests on one keep-alive connection (stdlib only).

    python3 bot/rasa_project/latency.py PORT [N]

Measures POST /model/parse with the held-out texts (cycled) and POST /webhooks/rest/webhook with
10 senders, and prints p50/p95/max in milliseconds. Sends only to 127.0.0.1.
"""
from __future__ import annotations

import csv
import http.client
import json
import sys
import time
from pathlib import Path


def measure(port: int, path: str, bodies: list[dict]) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for body in bodies:
        data = json.dumps(body).encode()
        t = time.perf_counter()
        conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        times.append(1000 * (time.perf_counter() - t))
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}")
    conn.close()
    return times


def summary(times: list[float]) -> str:
    s = sorted(times)
    return (f"n={len(s)} p50={s[len(s) // 2]:.1f} ms p95={s[int(len(s) * 0.95) - 1]:.1f} ms "
            f"max={s[-1]:.1f} ms")


def main() -> None:
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    with open(Path(__file__).resolve().parent / "data" / "heldout.csv", newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    texts = [texts[i % len(texts)] for i in range(n)]
    measure(port, "/model/parse", [{"text": "warm up"}])
    print("/model/parse          ", summary(measure(port, "/model/parse", [{"text": t} for t in texts])))
    bodies = [{"sender": f"latency-{i % 10}", "message": t} for i, t in enumerate(texts)]
    print("/webhooks/rest/webhook", summary(measure(port, "/webhooks/rest/webhook", bodies)))


if __name__ == "__main__":
    main()
