"""Real-server tier (test/conformance/client.test.ts): reads while the active node is killed.

Run by the conformance test, never by pytest (not a test_*.py file). The environment is the
backend's (``backendEnv``: VAULT_ADDR, VAULT_ROLE_ID, VAULT_WRAPPED_SECRET_ID or VAULT_SECRET_ID,
VAULT_CACERT, VAULT_MOUNT). The client writes one secret, then reads it in a loop (cache cleared
before each read, so every read reaches Vault; ``get_secrets(path, retries=LIVE_READ_RETRIES)``)
until the file LIVE_STOP_FILE exists. It prints ``ready`` once the first read succeeded and
``progress <n>`` every 10 reads, so the test knows when to kill, then one JSON line: reads,
failures (time, error type and message: never a secret), the longest time between two
successful reads, the slowest read, and the client's login/renewal counters. Exit 0 either way:
the test decides what is acceptable.
"""

import asyncio
import json
import logging
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bonito_vault_client import VaultClient  # noqa: E402


async def main() -> int:
    stop_file = os.environ["LIVE_STOP_FILE"]
    retries = int(os.environ.get("LIVE_READ_RETRIES", "0"))
    max_seconds = float(os.environ.get("LIVE_MAX_SECONDS", "300"))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    c = VaultClient()
    path = f"live-failover/{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    await c.put_secrets(path, {"value": value})
    reads = 0
    failures = []
    t0 = time.monotonic()
    last_ok = None
    max_gap = 0.0
    slowest = 0.0
    ready = False
    while not os.path.exists(stop_file) and time.monotonic() - t0 < max_seconds:
        c.clear_cache()
        started = time.monotonic()
        reads += 1
        try:
            got = await c.get_secrets(path, retries=retries)
            if got.get("value") != value:
                raise AssertionError("read back a different value")
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failures.append(
                {"t": round(started - t0, 3), "took": round(time.monotonic() - started, 3),
                 "error": f"{type(e).__name__}: {e}"[:300]}
            )
            await asyncio.sleep(0.05)
            continue
        now = time.monotonic()
        slowest = max(slowest, now - started)
        if last_ok is not None:
            max_gap = max(max_gap, now - last_ok)
        last_ok = now
        if not ready:
            print("ready", flush=True)
            ready = True
        if reads % 10 == 0:
            print(f"progress {reads}", flush=True)
        await asyncio.sleep(0.05)
    try:
        await c.delete_secret(path)
        deleted = True
    except Exception:  # noqa: BLE001
        deleted = False
    print(
        json.dumps(
            {
                "reads": reads,
                "failures": failures,
                "max_gap_s": round(max_gap, 3),
                "slowest_read_s": round(slowest, 3),
                "seconds": round(time.monotonic() - t0, 3),
                "logins": c.login_count,
                "renewals": c.renew_count,
                "deleted": deleted,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
