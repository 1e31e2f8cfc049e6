"""hostile_text.py's verdict (pure, over the phase results) and what it prints."""

from __future__ import annotations

from typing import Any

QUANTILES = ("p50", "p90", "p99", "max")


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else round(a / b, 2)


def _fmt(value: float | None) -> str:
    return "-" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def _latency(phase: dict[str, Any], q: str) -> float | None:
    value: float | None = phase["customers"]["ack_latency_ms"][q]
    return value


def latency_checks(phases: list[dict[str, Any]], tolerance: float) -> list[dict[str, Any]]:
    """B's p50 and p99 against the higher of the baselines (A, and A2 when run) plus ``tolerance``."""
    baselines = [p for p in phases if p["attack"] is None]
    attacked = phases[1]
    checks = []
    for q in ("p50", "p99"):
        values = [v for v in (_latency(p, q) for p in baselines) if v is not None]
        allowed = max(values) * (1 + tolerance) if values else None
        got = _latency(attacked, q)
        checks.append({"check": f"ack {q} under attack within the baselines' noise", "value_ms": got,
                       "allowed_ms": None if allowed is None else round(allowed, 2),
                       "ok": got is not None and allowed is not None and got <= allowed})
    return checks


def attack_checks(scenario: str, attack: dict[str, Any] | None, limits: dict[str, float] | None
                  ) -> list[dict[str, Any]]:
    if attack is None:
        return [{"check": "the attacker ran", "ok": False}]
    if scenario == "surrogate" or limits is None:
        # Refused as invalid text, or for the connection's frame budget once it is spent (the
        # socket is closed); never acknowledged, and the attacker opened no conversation.
        answers = attack["answers"]
        acked = answers.get("ack", 0)
        refused = answers.get("invalid_text", 0) + answers.get("too_many_frames", 0)
        return [{"check": "no lone-surrogate frame acknowledged", "value": acked, "expected": 0,
                 "refused": refused, "ok": acked == 0 and attack["conversations"] == 0}]
    # A token bucket: the burst at once, then per_minute; +1 for a token that refills as the phase ends.
    allowed = int(limits["address_burst"] + limits["address_per_minute"] * attack["seconds"] / 60) + 1
    return [{"check": f"attacker {kind} within the address limit", "value": attack[kind], "allowed": allowed,
             "ok": attack[kind] <= allowed} for kind in ("identities", "conversations")]


def verdict(scenario: str, phases: list[dict[str, Any]], tolerance: float, limits: dict[str, float] | None
            ) -> dict[str, Any]:
    """PASS when the customers under attack got no error, every ack, no more latency than the baselines
    show as noise (+ ``tolerance``), and nothing empty or invalid was stored."""
    base, attacked = phases[0], phases[1]
    customers, stored = attacked["customers"], attacked["stored"]
    invalid = sum(v for k, v in stored.items() if k.endswith("_with_invalid_text"))
    checks = [
        {"check": "customer errors under attack", "value": customers["error_count"],
         "ok": customers["error_count"] == 0},
        {"check": "every customer message acked", "value": customers["acks"], "expected": customers["sent"],
         "ok": customers["acks"] == customers["sent"]},
        {"check": "conversations without a customer message", "value": stored["conversations_without_customer_message"],
         "ok": stored["conversations_without_customer_message"] == 0},
        {"check": "stored documents with invalid text", "value": invalid, "ok": invalid == 0},
        *attack_checks(scenario, attacked["attack"], limits),
        *latency_checks(phases, tolerance),
    ]
    ratios = {f"B/A {q}": _ratio(_latency(attacked, q), _latency(base, q)) for q in QUANTILES}
    if len(phases) > 2:
        ratios |= {f"A2/A {q}": _ratio(_latency(phases[2], q), _latency(base, q)) for q in QUANTILES}
    ok = all(c["ok"] for c in checks)
    failed = [c["check"] for c in checks if not c["ok"]]
    line = (f"VERDICT {scenario}: {'PASS' if ok else 'FAIL'}: B/A ack p50 {ratios['B/A p50']}, p99 {ratios['B/A p99']}"
            + (f" (A2/A: {ratios['A2/A p50']}, {ratios['A2/A p99']})" if len(phases) > 2 else "")
            + f"; customer errors {customers['error_count']}; empty conversations "
            f"{stored['conversations_without_customer_message']}; invalid text stored {invalid}"
            + (f"; failed: {', '.join(failed)}" if failed else ""))
    return {"pass": ok, "checks": checks, "ratios": ratios, "line": line}


def print_phase(scenario: str, r: dict[str, Any]) -> None:
    c, cpu, s = r["customers"], r["cpu_s"], r["stored"]
    lat = c["ack_latency_ms"]
    attack = r["attack"]
    procs = ", ".join(f"{k} {v:.1f}" for k, v in cpu.items() if k not in ("machine", "wall"))
    print(f"  [{scenario} {r['phase']}] load {' '.join(r['load_before'])}; calibration {r['calibration_loop_s']} s; "
          f"acks {c['acks']}/{c['sent']}, errors {c['errors'] or 'none'}; ack ms p50/p90/p99/max "
          + "/".join(_fmt(lat[q]) for q in QUANTILES) + f"; send lag p99 {_fmt(c['send_lag_ms']['p99'])} ms",
          flush=True)
    if attack:
        print(f"  [{scenario} {r['phase']}]   attack: {attack['frames_sent']} frames in {attack['seconds']} s over "
              f"{attack['connections']} connections, answers {attack['answers']}, closes {attack['closes']}, "
              f"identities {attack['identities']}, conversations {attack['conversations']}", flush=True)
    print(f"  [{scenario} {r['phase']}]   CPU s over {cpu['wall']:.1f} s: {procs} (machine {cpu['machine']:.1f}); "
          f"stored {s}; hub log {r['hub_log']}", flush=True)


def _attack_cells(r: dict[str, Any]) -> tuple[str, str]:
    attack = r["attack"]
    if not attack:
        return "-", "-"
    refused = sum(v for k, v in attack["answers"].items() if k not in ("welcome", "ack"))
    return str(attack["frames_sent"]), str(refused)


def print_scenario(result: dict[str, Any]) -> None:
    print(f"\n{result['scenario']}: customers' acks (ms from the scheduled send), attack, CPU seconds")
    header = (f"{'phase':<6}{'acks':>6}{'errors':>7}{'p50':>7}{'p90':>7}{'p99':>7}{'max':>7}{'attack':>8}"
              f"{'refused':>8}{'hub':>7}{'secant':>7}{'redis':>7}{'gen':>7}{'attackr':>8}{'other':>7}{'empty':>6}"
              f"{'invalid':>8}")
    print(header)
    print("-" * len(header))
    for r in result["phases"]:
        c, cpu, s = r["customers"], r["cpu_s"], r["stored"]
        sent, refused = _attack_cells(r)
        invalid = sum(v for k, v in s.items() if k.endswith("_with_invalid_text"))
        print(f"{r['phase']:<6}{c['acks']:>6}{c['error_count']:>7}"
              + "".join(f"{_fmt(c['ack_latency_ms'][q]):>7}" for q in QUANTILES)
              + f"{sent:>8}{refused:>8}" + "".join(f"{cpu.get(k, 0.0):>7.1f}" for k in ("hub", "secantus", "redis",
                                                                                       "generator"))
              + f"{cpu.get('attacker', 0.0):>8.1f}{cpu['other']:>7.1f}"
              + f"{s['conversations_without_customer_message']:>6}{invalid:>8}")
    print("  empty = conversations without a customer message; invalid = stored documents with text that is\n"
          "  not valid Unicode; other = CPU of unrelated processes on the machine meanwhile (noise).")
    print("  " + ", ".join(f"{k} {v}" for k, v in result["verdict"]["ratios"].items()))
    print(result["verdict"]["line"], flush=True)
