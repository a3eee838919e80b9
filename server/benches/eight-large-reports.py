#!/usr/bin/env python3
"""Eight ~60 MB Trivy reports (Juice Shop's Node.js entries repeated at distinct paths up to
22,400 findings), eight distinct images, posted at once with an ingest token; prints the answers'
statuses, the seconds they took, and the server's peak RSS (VmHWM) before and after.

    drydock serve --database-url sqlite:///var/tmp/eight.db --addr 127.0.0.1:3901 &
    python3 server/benches/eight-large-reports.py http://127.0.0.1:3901 "$(drydock token create --name e --role ingest)" PID
"""
import json, os, sys, time, threading, urllib.error, urllib.request, hashlib, copy
base, token, pid = sys.argv[1], sys.argv[2], sys.argv[3]
src = json.load(open(os.path.join(os.path.dirname(__file__), "../fixtures/trivy/juice-shop-v10.2.0.json")))
node = [r for r in src["Results"] if r.get("Target") == "Node.js"][0]
def report(k):
    d = copy.deepcopy(src)
    d["Metadata"]["ImageID"] = "sha256:" + hashlib.sha256(f"eight-{k}".encode()).hexdigest()
    d["Metadata"]["RepoDigests"] = [f"example.com/eight/app{k}@sha256:" + hashlib.sha256(f"eight-rd-{k}".encode()).hexdigest()]
    d["Metadata"]["RepoTags"] = [f"example.com/eight/app{k}:v1"]
    vulns, i = [], 0
    while len(vulns) < 22400:
        for v in node["Vulnerabilities"]:
            v = dict(v); v["PkgPath"] = f"juice-shop/node_modules/copy{i}/{v.get('PkgName')}/package.json"; vulns.append(v)
        i += 1
    node2 = dict(node); node2["Vulnerabilities"] = vulns[:22400]
    d["Results"] = [r if r.get("Target") != "Node.js" else node2 for r in d["Results"]]
    return json.dumps(d).encode()
def hwm():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmHWM"): return int(l.split()[1]) // 1024
bodies = [report(k) for k in range(8)]
print("sizes MB", [round(len(b) / 1e6, 1) for b in bodies], "hwm before", hwm())
res = [None] * 8
def post(k):
    req = urllib.request.Request(base + "/api/v1/scans", data=bodies[k], method="POST", headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=600) as r: res[k] = r.status
    except urllib.error.HTTPError as e: res[k] = (e.code, e.read()[:200])
    except urllib.error.URLError as e: res[k] = ("no answer", str(e.reason))
t = time.monotonic()
ts = [threading.Thread(target=post, args=(k,)) for k in range(8)]
[x.start() for x in ts]; [x.join() for x in ts]
print("statuses", res, "in %.1f s" % (time.monotonic() - t), "hwm after", hwm())
sys.exit(0 if res == [201] * 8 else 1)
