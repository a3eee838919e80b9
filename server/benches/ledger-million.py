#!/usr/bin/env python3
"""Times `drydock ledger verify` on a ledger of a million entries, on SQLite and PostgreSQL.

Appending a million entries through Drydock takes minutes per database, so this writes them
straight into a database Drydock created: each entry shaped like a Kubernetes audit fact's,
its entry bytes the canonical JSON Drydock writes and its leaf hash RFC 6962's. The roots of
both databases must agree (printed). Run from the repository root after a release build:

    python3 server/benches/ledger-million.py [ENTRIES]   # default 1,000,000

Needs `sqlite3` and `psql` on PATH and PostgreSQL on 127.0.0.1:5432 (database `ledger_million`
is dropped and created).
"""
import csv, datetime, hashlib, json, os, random, subprocess, sys, tempfile, time

BIN = os.environ.get("DRYDOCK_BIN", "target/release/drydock")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
PG = "postgres://postgres@127.0.0.1:5432/ledger_million"


def rows(pg):
    rnd, t0 = random.Random(1), datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for i in range(N):
        t = t0 + datetime.timedelta(microseconds=i * 1_234_567 + rnd.randrange(1_000_000))
        ns = f"ns-{i % 97}"
        payload = {"cluster": "bench-audit", "verb": rnd.choice(["create", "delete", "patch", "get"]), "resource": "pods",
                   "subresource": rnd.choice(["", "exec", "attach"]), "namespace": ns, "name": f"pod-{i}",
                   "user": f"system:serviceaccount:{ns}:deployer", "source_ips": [f"10.{i % 250}.{i % 13}.{i % 7}"],
                   "code": 201, "audit_id": "%032x" % rnd.getrandbits(128), "stage": "ResponseComplete"}
        compact = dict(separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        subject = f"pod:bench-audit/{ns}/pod-{i}"
        entry = json.dumps({"actor": "k8s-audit", "index": i, "kind": "k8s.audit", "payload": payload, "subject": subject,
                            "time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}, **compact)
        leaf = hashlib.sha256(b"\x00" + entry.encode()).hexdigest()
        # As each database's driver writes a time: PostgreSQL a timestamptz, SQLite sqlx's RFC 3339 text.
        stored = t.isoformat() if pg else t.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        yield [stored, "k8s-audit", "k8s.audit", subject, json.dumps(payload, **compact), i, entry, leaf]


def verify(url, env):
    out = []
    for _ in range(3):
        t = time.monotonic()
        r = subprocess.run([BIN, "ledger", "verify", "--database-url", url], env=env, capture_output=True, text=True)
        out.append(time.monotonic() - t)
        assert r.returncode == 0 and "ledger intact" in r.stdout, r.stdout + r.stderr
    return sorted(out), r.stdout.split("root ")[1].split(",")[0]


with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
    env = dict(os.environ, DRYDOCK_LEDGER_KEY=os.path.join(d, "ledger.pem"))
    subprocess.run([BIN, "ledger", "keygen", env["DRYDOCK_LEDGER_KEY"]], check=True, capture_output=True)
    db = os.path.join(d, "ledger.db")
    for pg in (False, True):
        path = os.path.join(d, "entries.csv")
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows(rows(pg))
        if pg:
            psql = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres"]
            subprocess.run(psql + ["-c", "DROP DATABASE IF EXISTS ledger_million", "-c", "CREATE DATABASE ledger_million"], check=True)
            url = PG
        else:
            url = f"sqlite://{db}"
        subprocess.run([BIN, "ledger", "verify", "--database-url", url], env=env, check=True, capture_output=True)  # the schema
        cols = "time, actor, kind, subject, payload, ledger_index, entry, leaf_hash"
        if pg:
            subprocess.run(psql + ["-d", "ledger_million", "-c", f"\\copy audit_events ({cols}) FROM '{path}' CSV",
                                   "-c", f"UPDATE ledger_head SET size = {N}", "-c", "VACUUM ANALYZE audit_events"], check=True)
        else:
            script = (f"CREATE TEMP TABLE imp ({cols});\n.mode csv\n.import {path} imp\n"
                      f"INSERT INTO audit_events ({cols}) SELECT time, actor, kind, subject, payload, CAST(ledger_index AS INTEGER), entry, leaf_hash FROM imp;\n"
                      f"UPDATE ledger_head SET size = {N};\n")
            subprocess.run(["sqlite3", db], input=script, text=True, check=True)
        # The first verification after the load also stores the subtree hashes of the new entries.
        subprocess.run([BIN, "ledger", "verify", "--database-url", url], env=env, check=True, capture_output=True)
        times, root = verify(url, env)
        name = "postgres" if pg else "sqlite"
        print(f"{name}: {N} entries verified in {times[0]:.2f} / {times[1]:.2f} / {times[2]:.2f} s "
              f"(median {times[1] * 1e6 / N:.2f} s per million), root {root}")
    subprocess.run(psql + ["-c", "DROP DATABASE IF EXISTS ledger_million"], check=True)
