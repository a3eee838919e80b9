"""What the rendered manifests and the Dockerfile must hold beyond their schemas (issue 22):
argv: the rendered base, the rendered collector RBAC, the Dockerfile. Fails naming each miss."""
import sys
import yaml

base, collector, dockerfile = sys.argv[1:4]
misses = []


def need(cond, what):
    if not cond:
        misses.append(what)


docs = [d for d in yaml.safe_load_all(open(base)) if d]
kinds = {d["kind"]: d for d in docs}
for kind in ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"]:
    need(kind in kinds, f"the base has a {kind}")
dep = kinds.get("Deployment", {})
spec = dep.get("spec", {})
need(spec.get("replicas") == 2, "the Deployment runs two replicas")
pod = spec.get("template", {}).get("spec", {})
need(pod.get("securityContext", {}).get("runAsNonRoot") is True, "the pod runs as non-root")
for c in pod.get("containers", []):
    sc = c.get("securityContext", {})
    need(sc.get("readOnlyRootFilesystem") is True, f"{c['name']}: read-only root filesystem")
    need(sc.get("allowPrivilegeEscalation") is False, f"{c['name']}: no privilege escalation")
    need("ALL" in sc.get("capabilities", {}).get("drop", []), f"{c['name']}: every capability dropped")
    need(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz", f"{c['name']}: liveness on /healthz")
    need(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", f"{c['name']}: readiness on /readyz")
    need(bool(c.get("resources", {}).get("requests")), f"{c['name']}: resource requests")
    need(any(e.get("configMapRef") for e in c.get("envFrom", [])), f"{c['name']}: configuration from a ConfigMap")
    secret_env = {e["name"] for e in c.get("env", []) if e.get("valueFrom", {}).get("secretKeyRef")}
    for var in ["DRYDOCK_DATABASE_URL", "DRYDOCK_OIDC_CLIENT_SECRET", "DRYDOCK_SMTP_PASSWORD"]:
        need(var in secret_env, f"{c['name']}: {var} from the Secret")
need(any(v.get("secret") for v in pod.get("volumes", [])), "the ledger key mounted from the Secret")
grace = pod.get("terminationGracePeriodSeconds", 30)
cfg = kinds.get("ConfigMap", {}).get("data", {})
need(int(cfg.get("DRYDOCK_SHUTDOWN_GRACE_SECONDS", "30")) < grace, "Kubernetes waits longer than Drydock's own shutdown deadline")

rbac = [d for d in yaml.safe_load_all(open(collector)) if d]
roles = [d for d in rbac if d["kind"] == "ClusterRole"]
need(len(roles) == 1, "the collector has one ClusterRole")
for r in roles:
    granted = {(res, verb) for rule in r["rules"] for res in rule["resources"] for verb in rule["verbs"]}
    need(granted == {("pods", "list"), ("nodes", "list")}, f"the ClusterRole lists pods and nodes and nothing else (has {sorted(granted)})")

lines = [l.strip() for l in open(dockerfile) if l.strip() and not l.strip().startswith("#")]
stages = [l for l in lines if l.upper().startswith("FROM ")]
need(len(stages) >= 2, "the Dockerfile is multi-stage")
final = lines[lines.index(stages[-1]):] if stages else []
users = [l.split()[1] for l in final if l.upper().startswith("USER ")]
need(bool(users) and users[-1].split(":")[0] not in ("root", "0"), "the final stage names a non-root USER")
need(any("ca-certificates" in l for l in final), "the final stage has CA certificates")
need(not any(t in " ".join(final) for t in ["cargo ", "rustup", "gcc", "build-essential", "npm "]), "no build tools in the final stage")
entry = [l for l in final if l.upper().startswith("ENTRYPOINT")]
need(bool(entry) and "serve" in entry[-1], "`drydock serve` is the entrypoint")

if misses:
    print("deployment checklist failed:\n  " + "\n  ".join(misses), file=sys.stderr)
    sys.exit(1)
print(f"deployment checklist: {len(docs)} base resources, the collector's RBAC and the Dockerfile hold", file=sys.stderr)
