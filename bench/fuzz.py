"""Coverage-guided fuzzing of the codec and the session state machine (atheris/libFuzzer).

    python bench/fuzz.py                      # 1,000,000 inputs; a table
    python bench/fuzz.py --runs 20000 --json  # a short run (CI), one JSON object
    python bench/fuzz.py --seed-corpus        # (re)write the shipped seeds

The target is ``bench/fuzz_target.py`` (what one input does: decode and re-encode, or feed
an Established session). libFuzzer mutates the inputs, keeping those that reach new code,
starting from the seeds in ``bench/fuzz_corpus/`` (valid messages of every type, each
behind the byte that picks codec or session and the context); the run works on a copy, so
the repository's corpus changes only when ``--seed-corpus`` rewrites it. A crash is any
exception other than the codec's own errors (``BgpError``, ``EncodeError``), a hang
(``-timeout``), or running out of memory; libFuzzer stops at the first one and writes it
to ``--artifacts`` to be replayed (``python bench/fuzz_target.py CRASH_FILE``).

Reported: inputs run, crashes, executions per second, coverage (libFuzzer's ``cov``:
edges reached) and corpus size at the end.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "fuzz_corpus"
TARGET = HERE / "fuzz_target.py"


def seed_corpus(out: Path) -> int:
    """Valid messages of every type, each behind its mode byte: 0 codec (4-octet AS, no
    Extended Message), 1 session, 4 codec with 2-octet AS."""
    sys.path.insert(0, str(HERE.parent))
    import ipaddress

    from speakers.wire import (
        AsPath,
        CodecContext,
        Keepalive,
        LinkBandwidth,
        Notification,
        Open,
        Origin,
        PathAttributes,
        Prefix,
        RouteRefresh,
        Update,
        encode_message,
        pack_announce,
    )

    attrs = PathAttributes(
        origin=Origin.IGP,
        as_path=AsPath.sequence(65001, 4200000001),
        next_hop=ipaddress.IPv4Address("192.0.2.1"),
        med=10,
        communities=(0xFDE90064,),
        ext_communities=(LinkBandwidth.from_bps(800e9, 65001),),
    )
    v4 = [Prefix.parse(f"10.{i}.0.0/16") for i in range(20)]
    v6 = [Prefix.parse(f"2001:db8:{i:x}::/48") for i in range(20)]
    two = CodecContext(four_octet_as=False)
    messages = {
        "open": encode_message(Open.build(4200000001, 9, "10.0.0.1")),
        "keepalive": encode_message(Keepalive()),
        "notification": encode_message(Notification.shutdown("maintenance", 2)),
        "route-refresh": encode_message(RouteRefresh(1, 1)),
        "update-v4": pack_announce(attrs, v4)[0],
        "update-v6": pack_announce(attrs, v6, next_hop=ipaddress.IPv6Address("2001:db8::1"))[0],
        "withdraw": encode_message(Update(withdrawn=tuple(v4[:5]))),
        "end-of-rib": encode_message(Update()),
    }
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    count = 0
    for name, wire in messages.items():
        for mode in (0, 1):
            (out / f"{name}-{'session' if mode else 'codec'}").write_bytes(bytes([mode]) + wire)
            count += 1
    as2 = pack_announce(attrs, v4, two)[0]
    (out / "update-v4-as2-codec").write_bytes(bytes([4]) + as2)
    return count + 1


def run(runs: int, seed: int, artifacts: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bagemu-fuzz-") as work:
        corpus = Path(work) / "corpus"
        shutil.copytree(CORPUS, corpus)
        argv = [
            sys.executable, str(TARGET), f"-runs={runs}", f"-seed={seed}", "-max_len=4200",
            "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
            f"-artifact_prefix={artifacts}/", str(corpus),
        ]  # fmt: skip
        artifacts.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True)
        seconds = time.monotonic() - t0
        found = sorted(str(p) for p in artifacts.glob("*-*"))
        log = proc.stderr
        done = re.search(r"Done (\d+) runs in (\d+) second", log)
        execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
        cov = re.findall(r"cov: (\d+)", log)
        corpus_size = len(list(corpus.iterdir()))
    inputs = int(execs.group(1)) if execs else int(done.group(1)) if done else 0
    crashed = proc.returncode != 0 or bool(found)
    return {
        "inputs": inputs,
        "crashes": 1 if crashed else 0,  # libFuzzer stops at the first
        "crash_files": found,
        "seconds": round(seconds, 1),
        "exec_per_s": round(inputs / seconds) if seconds else None,
        "coverage_edges": int(cov[-1]) if cov else None,
        "corpus_end": corpus_size,
        "seeds": len(list(CORPUS.iterdir())),
        "returncode": proc.returncode,
        "tail": log.strip().splitlines()[-12:] if crashed else [],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000, help="inputs to run")
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed")
    parser.add_argument("--artifacts", type=Path, default=Path("fuzz-artifacts"))
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--seed-corpus", action="store_true", help="rewrite the seeds")
    args = parser.parse_args()
    if args.seed_corpus:
        print(f"wrote {seed_corpus(CORPUS)} seeds to {CORPUS}")
        return 0
    result = run(args.runs, args.seed, args.artifacts)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"fuzzing (atheris): {result['inputs']:,} inputs, {result['crashes']} crashes, "
            f"{result['exec_per_s']:,} exec/s, {result['seconds']} s; coverage "
            f"{result['coverage_edges']} edges; corpus {result['seeds']} seeds -> "
            f"{result['corpus_end']}"
        )
        for line in result["tail"]:  # type: ignore[union-attr]
            print(f"  {line}")
    return 1 if result["crashes"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
