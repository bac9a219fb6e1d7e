#!/usr/bin/env bash
# Checks the deployment files under deploy/ without a Docker engine or a cluster.
#
#   tests/deploy/check_deploy.sh SOURCE_DIR LEADROUTER_BINARY
#   (ctest -L deploy runs it with the build's leadrouter)
#
# Runs every check, prints "FAIL: ..." for each problem and exits 1 if there was any:
#   - every YAML file under deploy/ parses, every JSON file is valid JSON
#   - the Grafana dashboard: uid, title, unique panel ids, grid positions inside 24 columns and
#     not overlapping, a PromQL expr in every target, the provisioned datasource uid; every expr
#     parses (promtool)
#   - promtool check rules / check config, and the rule unit tests (prometheus_rules_test.yml)
#   - files referenced exist: compose build context, Dockerfile and bind mounts; Dockerfile COPY
#     sources; kustomization resources; what Grafana provisioning and Prometheus load inside
#     their containers (resolved through the compose mounts); README sections of runbook links
#   - every metric in the rules and the dashboard is exported or planned (lists below), and every
#     recording rule used is defined
#   - `leadrouter check-config` accepts deploy/compose/leadrouter.yaml and the config embedded
#     in the k8s ConfigMap, with the variables named by *_env set to test values and *_file
#     pointed at temporary files (only those the config references)
#   - compose / k8s wiring matches the configs (ports, topics, secret variables and files,
#     probes, scrape port, image user) and the Deployment's own invariants
#   - each shared library the binary loads comes from a Debian package pulled in by the
#     Dockerfile's runtime apt-get list (ldd + dpkg -S + apt-cache depends --recurse)
#   - if installed: `docker-compose config` / `docker compose config`, `kubectl kustomize`
#
# Needs /usr/bin/python3 with PyYAML (Debian python3-yaml: the python3 on PATH may be another
# interpreter without it) and promtool (Debian prometheus); scripts/bootstrap.sh installs both.
set -uo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 SOURCE_DIR LEADROUTER_BINARY" >&2
  exit 2
fi
SRC=$(cd "$1" 2>/dev/null && pwd) || { echo "FAIL: source directory $1 not found" >&2; exit 2; }
BIN=$2

# Metrics leadrouter exports today (libs/metrics/src/metrics.cc).
EXISTING_METRICS="
leadrouter_events_consumed_total
leadrouter_events_outcome_total
leadrouter_unassigned_queue_depth
leadrouter_consumer_paused
leadrouter_unassigned_routed_total
leadrouter_leads_qualification_total
leadrouter_leads_failed_requirement_total
leadrouter_config_reloads_total
leadrouter_leads_assigned_total
leadrouter_events_deadlettered_total
leadrouter_batch_failures_total
leadrouter_undeliverable_messages_total
leadrouter_ready
leadrouter_outbox_forwarded_total
leadrouter_outbox_holder
leadrouter_outbox_backlog_messages
leadrouter_outbox_lag_seconds
leadrouter_outbox_failures_total
leadrouter_config_info
leadrouter_event_processing_seconds
leadrouter_lead_to_assignment_seconds
leadrouter_lead_to_kafka_seconds
leadrouter_stream_subscribers
leadrouter_dedupe_matches_total
leadrouter_stage_seconds
leadrouter_lead_events_total
leadrouter_lead_returns_total
leadrouter_rep_lead_events_total
leadrouter_sla_pending_leads
leadrouter_time_to_accept_seconds
leadrouter_consumer_lag_messages
leadrouter_redis_command_seconds
leadrouter_redis_errors_total
leadrouter_grpc_requests_total
leadrouter_grpc_request_seconds
leadrouter_pool_fairness_deviation
leadrouter_pool_open_leads
leadrouter_rep_open_leads
leadrouter_ingest_requests_total
leadrouter_ingest_records_total
leadrouter_ingest_bytes_total
leadrouter_ingest_auth_failures_total
leadrouter_ingest_request_seconds
leadrouter_ingest_requests_in_flight
"
# Metrics being added (the rules and the dashboard already use them; empty until exported).
PLANNED_METRICS="
leadrouter_kafka_produce_errors_total
"
# Histograms: their _bucket, _sum and _count series are theirs.
HISTOGRAMS="
leadrouter_event_processing_seconds
leadrouter_lead_to_assignment_seconds
leadrouter_lead_to_kafka_seconds
leadrouter_time_to_accept_seconds
leadrouter_redis_command_seconds
leadrouter_grpc_request_seconds
leadrouter_stage_seconds
leadrouter_ingest_request_seconds
"

PY=/usr/bin/python3
missing=0
if ! "$PY" -c 'import yaml' 2>/dev/null; then
  echo "FAIL: $PY cannot import yaml: install Debian's python3-yaml (scripts/bootstrap.sh)" >&2
  missing=1
fi
if ! command -v promtool >/dev/null; then
  echo "FAIL: promtool not found: install Debian's prometheus package (scripts/bootstrap.sh)" >&2
  missing=1
fi
if [ ! -x "$BIN" ]; then
  echo "FAIL: leadrouter binary $BIN is not an executable file" >&2
  missing=1
fi
[ "$missing" -eq 0 ] || exit 1

export EXISTING_METRICS PLANNED_METRICS HISTOGRAMS
exec "$PY" - "$SRC" "$BIN" <<'PYEOF'
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

SRC, BIN = sys.argv[1], os.path.abspath(sys.argv[2])
DEPLOY = os.path.join(SRC, "deploy")
TMP = tempfile.mkdtemp(prefix="check_deploy.")
failures = []


def crashed(kind, value, tb):
    import traceback
    traceback.print_exception(kind, value, tb)
    print(f"FAIL: check_deploy stopped on {kind.__name__}: {value} (a deploy file probably has an "
          "unexpected structure; see the traceback above)", file=sys.stderr)
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1)


sys.excepthook = crashed


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def ok(msg):
    print("ok:   " + msg, flush=True)


def ok_since(mark, msg):
    """ok(msg) when no check failed since len(failures) was mark."""
    if len(failures) == mark:
        ok(msg)


def rel(path):
    return os.path.relpath(path, SRC)


def run(cmd, env=None, cwd=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    return p.returncode, (p.stdout + p.stderr).strip()


def check(cond, msg_fail, msg_ok=None):
    if cond:
        if msg_ok:
            ok(msg_ok)
    else:
        fail(msg_fail)
    return cond


# ------------------------------------------------------------------ 1. every YAML / JSON parses
docs = {}  # path -> list of documents
yaml_files = sorted(glob.glob(os.path.join(DEPLOY, "**", "*.yml"), recursive=True) +
                    glob.glob(os.path.join(DEPLOY, "**", "*.yaml"), recursive=True))
for f in yaml_files:
    try:
        with open(f) as fh:
            docs[f] = [d for d in yaml.safe_load_all(fh) if d is not None]
    except yaml.YAMLError as e:
        fail(f"{rel(f)}: not valid YAML: {e}")
ok_since(0, f"{len(docs)} YAML files under deploy/ parse")
json_docs, mark = {}, len(failures)
json_files = sorted(glob.glob(os.path.join(DEPLOY, "**", "*.json"), recursive=True))
for f in json_files:
    try:
        with open(f) as fh:
            json_docs[f] = json.load(fh)
    except (ValueError, OSError) as e:
        fail(f"{rel(f)}: not valid JSON: {e}")
ok_since(mark, f"{len(json_docs)} JSON files under deploy/ parse")


def doc(path):
    d = docs.get(os.path.join(DEPLOY, path))
    if not d:
        fail(f"deploy/{path}: missing, empty or unparsable")
        return None
    return d[0]


compose_path = os.path.join(DEPLOY, "compose", "docker-compose.yml")
compose_dir = os.path.dirname(compose_path)
compose = doc("compose/docker-compose.yml") or {}
services = compose.get("services") or {}
prom_cfg = doc("prometheus/prometheus.yml") or {}
rules_doc = doc("prometheus/rules.yml") or {}
kustomization = doc("k8s/kustomization.yaml") or {}

# ------------------------------------------------------------------ compose mounts
def compose_mounts(service):
    """[(container path, host path or None for a named volume)] of a compose service."""
    out = []
    for v in (services.get(service) or {}).get("volumes") or []:
        if isinstance(v, dict):
            src, dst = v.get("source"), v.get("target")
            bind = v.get("type") == "bind"
        else:
            parts = v.split(":")
            src, dst = parts[0], parts[1] if len(parts) > 1 else parts[0]
            bind = src.startswith((".", "/", "~"))
        host = os.path.normpath(os.path.join(compose_dir, src)) if bind and src else None
        out.append((dst, host))
    return out


def resolve_in_container(service, path):
    """Host path behind a container path, through the service's bind mounts (longest match)."""
    best = None
    for dst, host in compose_mounts(service):
        d = dst.rstrip("/")
        if host and (path == d or path.startswith(d + "/")):
            if best is None or len(d) > len(best[0]):
                best = (d, host)
    if best is None:
        return None
    return best[1] + path[len(best[0]):]


# ------------------------------------------------------------------ 2. files referenced exist
def dockerfile_instructions(path):
    """(instruction, args) of a Dockerfile, continuation lines joined, comments dropped."""
    out, cur = [], ""
    with open(path) as fh:
        for line in fh:
            s = line.rstrip("\n")
            if s.lstrip().startswith("#"):
                continue   # Docker drops comment lines, also inside a continued instruction
            if s.endswith("\\"):
                cur += s[:-1] + " "
                continue
            cur += s
            if cur.strip():
                word, _, rest = cur.strip().partition(" ")
                out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def copy_sources(args):
    if args.startswith("["):
        items = json.loads(args)
    else:
        items = shlex.split(args)
    flags = [i for i in items if i.startswith("--")]
    paths = [i for i in items if not i.startswith("--")]
    return flags, paths[:-1]


dockerfile = os.path.join(DEPLOY, "docker", "Dockerfile")
docker_context = SRC
mark = len(failures)
for name, svc in services.items():
    build = svc.get("build")
    if build is None:
        continue
    if isinstance(build, str):
        build = {"context": build}
    ctx = os.path.normpath(os.path.join(compose_dir, build.get("context", ".")))
    df = os.path.normpath(os.path.join(ctx, build.get("dockerfile", "Dockerfile")))
    check(os.path.isdir(ctx), f"compose {name}: build context {rel(ctx)} is not a directory")
    check(os.path.isfile(df), f"compose {name}: dockerfile {rel(df)} does not exist")
    if df == dockerfile:
        docker_context = ctx
for name in services:
    for dst, host in compose_mounts(name):
        if host is not None:
            check(os.path.exists(host), f"compose {name}: bind mount source {rel(host)} does not exist")
    for env_file in (services[name].get("env_file") or []):
        p = os.path.join(compose_dir, env_file if isinstance(env_file, str) else env_file["path"])
        check(os.path.isfile(p), f"compose {name}: env_file {rel(p)} does not exist")
for section in ("secrets", "configs"):
    for key, spec in (compose.get(section) or {}).items():
        if isinstance(spec, dict) and "file" in spec:
            p = os.path.join(compose_dir, spec["file"])
            check(os.path.exists(p), f"compose {section}.{key}: file {rel(p)} does not exist")
ok_since(mark, "compose: build context, Dockerfile and bind mounts exist")

instructions = []
if check(os.path.isfile(dockerfile), "deploy/docker/Dockerfile does not exist"):
    instructions = dockerfile_instructions(dockerfile)
    n, mark = 0, len(failures)
    for word, args in instructions:
        if word not in ("COPY", "ADD"):
            continue
        flags, sources = copy_sources(args)
        if any(f.startswith("--from") for f in flags):
            continue
        for s in sources:
            n += 1
            matches = glob.glob(os.path.join(docker_context, s))
            check(matches, f"Dockerfile: {word} source {s} not found in the build context {rel(docker_context) or '.'}")
    ok_since(mark, f"Dockerfile: its {n} COPY sources exist in the build context")

k8s_dir = os.path.join(DEPLOY, "k8s")
k8s_docs = []  # documents of the kustomization's resources
mark = len(failures)
for r in kustomization.get("resources") or []:
    p = os.path.join(k8s_dir, r)
    if not check(os.path.exists(p), f"kustomization: resource {r} does not exist"):
        continue
    if os.path.isfile(p):
        k8s_docs += docs.get(os.path.normpath(p), [])
for gen in kustomization.get("configMapGenerator", []) + kustomization.get("secretGenerator", []):
    for f in gen.get("files", []):
        p = os.path.join(k8s_dir, f.split("=", 1)[-1])
        check(os.path.exists(p), f"kustomization: generator file {f} does not exist")
for patch in kustomization.get("patches", []):
    if isinstance(patch, dict) and "path" in patch:
        check(os.path.exists(os.path.join(k8s_dir, patch["path"])), f"kustomization: patch {patch['path']} does not exist")
check("secret.example.yaml" not in (kustomization.get("resources") or []),
      "kustomization: secret.example.yaml must not be a resource (it is an example)")
ok_since(mark, f"kustomization: {len(kustomization.get('resources') or [])} resources exist")

# Grafana: provisioning directory and dashboards, as the grafana container sees them.
graf_svc = "grafana"
mark = len(failures)
if check(graf_svc in services, "compose: no grafana service"):
    prov = resolve_in_container(graf_svc, "/etc/grafana/provisioning")
    if check(prov and os.path.isdir(prov), "compose grafana: /etc/grafana/provisioning is not mounted from a directory"):
        ds_uids = set()
        for f in glob.glob(os.path.join(prov, "datasources", "*.y*ml")):
            for d in docs.get(os.path.normpath(f), []):
                for ds in d.get("datasources") or []:
                    if check(ds.get("uid"), f"{rel(f)}: datasource {ds.get('name')} has no uid"):
                        ds_uids.add(ds["uid"])
                    url = ds.get("url", "")
                    host = re.sub(r"^\w+://", "", url).split(":")[0].split("/")[0]
                    check(host in services, f"{rel(f)}: datasource url {url}: {host} is not a compose service")
        check(ds_uids, "grafana provisioning: no datasource with a uid")
        providers = 0
        for f in glob.glob(os.path.join(prov, "dashboards", "*.y*ml")):
            for d in docs.get(os.path.normpath(f), []):
                for p in d.get("providers") or []:
                    providers += 1
                    cpath = (p.get("options") or {}).get("path", "")
                    host = resolve_in_container(graf_svc, cpath)
                    if check(host and os.path.isdir(host), f"{rel(f)}: provider {p.get('name')}: path {cpath} is not mounted from a directory in the grafana service"):
                        check(glob.glob(os.path.join(host, "*.json")), f"{rel(f)}: provider path {cpath} ({rel(host)}) holds no dashboard")
        check(providers, "grafana provisioning: no dashboard provider")
        home = (services[graf_svc].get("environment") or {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
        if home:
            h = resolve_in_container(graf_svc, home)
            check(h and os.path.isfile(h), f"compose grafana: home dashboard {home} is not a mounted file")
        ok_since(mark, "grafana: provisioning, datasource and dashboard paths resolve")
else:
    ds_uids = set()

# Prometheus: config and rule files, as the prometheus container sees them.
mark = len(failures)
if check("prometheus" in services, "compose: no prometheus service"):
    cmd = services["prometheus"].get("command") or []
    cfg = next((c.split("=", 1)[1] for c in cmd if c.startswith("--config.file=")), "/etc/prometheus/prometheus.yml")
    host_cfg = resolve_in_container("prometheus", cfg)
    if check(host_cfg and os.path.isfile(host_cfg), f"compose prometheus: {cfg} is not a mounted file"):
        check(os.path.samefile(host_cfg, os.path.join(DEPLOY, "prometheus", "prometheus.yml")),
              f"compose prometheus: {cfg} is {rel(host_cfg)}, not deploy/prometheus/prometheus.yml")
        for rf in prom_cfg.get("rule_files") or []:
            cpath = rf if rf.startswith("/") else os.path.join(os.path.dirname(cfg), rf)
            host = resolve_in_container("prometheus", cpath)
            check(host and glob.glob(host), f"prometheus.yml: rule file {rf} ({cpath}) is not mounted in the prometheus service")
    ok_since(mark, "prometheus: config and rule files resolve inside the container")

# Runbook links point at a section of deploy/README.md.
readme = os.path.join(DEPLOY, "README.md")
anchors = set()
if check(os.path.isfile(readme), "deploy/README.md does not exist"):
    for line in open(readme):
        m = re.match(r"^#+\s+(.*)$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug)

# ------------------------------------------------------------------ 3. promtool
rules_file = os.path.join(DEPLOY, "prometheus", "rules.yml")
rc, out = run(["promtool", "check", "rules", rules_file])
check(rc == 0, f"promtool check rules deploy/prometheus/rules.yml:\n{out}", "promtool check rules: " + out.splitlines()[-1].strip() if out else "")
rc, out = run(["promtool", "check", "config", os.path.join(DEPLOY, "prometheus", "prometheus.yml")])
check(rc == 0, f"promtool check config deploy/prometheus/prometheus.yml:\n{out}", "promtool check config deploy/prometheus/prometheus.yml")
for t in sorted(glob.glob(os.path.join(SRC, "tests", "deploy", "*_test.yml"))):
    rc, out = run(["promtool", "test", "rules", t])
    check(rc == 0, f"promtool test rules {rel(t)}:\n{out}", f"promtool test rules {rel(t)}")

# ------------------------------------------------------------------ 4. dashboards
dash_exprs = []  # (where, expr)
for f, d in json_docs.items():
    if "/grafana/dashboards/" not in f:
        continue
    where, mark = rel(f), len(failures)
    check(d.get("uid"), f"{where}: no uid")
    check(d.get("title"), f"{where}: no title")
    check(isinstance(d.get("schemaVersion"), int), f"{where}: no schemaVersion")
    flat = []
    for p in d.get("panels") or []:
        flat.append(p)
        flat += p.get("panels") or []
    check(flat, f"{where}: no panels")
    ids, cells = set(), {}
    for p in flat:
        title = p.get("title", "?")
        pid = p.get("id")
        check(isinstance(pid, int) and pid not in ids, f"{where}: panel {title!r}: id {pid} missing or duplicate")
        ids.add(pid)
        g = p.get("gridPos") or {}
        if not check(all(isinstance(g.get(k), int) for k in "hwxy") and g["w"] > 0 and g["h"] > 0 and g["x"] + g["w"] <= 24,
                     f"{where}: panel {title!r}: bad gridPos {g}"):
            continue
        if p.get("type") != "row" or not p.get("collapsed"):
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    if (x, y) in cells:
                        fail(f"{where}: panel {title!r} overlaps panel {cells[(x, y)]!r}")
                        break
                    cells[(x, y)] = title
                else:
                    continue
                break
        if p.get("type") == "row":
            continue
        check((p.get("datasource") or {}).get("uid") in ds_uids,
              f"{where}: panel {title!r}: datasource uid {(p.get('datasource') or {}).get('uid')} is not a provisioned one {sorted(ds_uids)}")
        targets = p.get("targets") or []
        check(targets, f"{where}: panel {title!r}: no targets")
        for t in targets:
            if check(t.get("expr"), f"{where}: panel {title!r}: target {t.get('refId')} has no expr"):
                dash_exprs.append((f"{where}: {title}", t["expr"]))
            if t.get("datasource"):
                check(t["datasource"].get("uid") in ds_uids, f"{where}: panel {title!r}: target datasource uid {t['datasource'].get('uid')} not provisioned")
    ok_since(mark, f"{where}: {len(flat)} panels, {len(dash_exprs)} queries, uid {d.get('uid')}")

# Every dashboard query parses: promtool checks them as recording rules of a scratch file.
if dash_exprs:
    grafana_vars = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1d"}
    rules = []
    for i, (where, expr) in enumerate(dash_exprs):
        for k, v in grafana_vars.items():
            expr = expr.replace(k, v)
        rules.append({"record": f"dashboard:query:{i}", "expr": expr})
    scratch = os.path.join(TMP, "dashboard_queries.yml")
    with open(scratch, "w") as fh:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, fh)
    rc, out = run(["promtool", "check", "rules", scratch])
    check(rc == 0, f"dashboard queries do not parse:\n{out}", f"promtool parses all {len(dash_exprs)} dashboard queries")

# ------------------------------------------------------------------ 5. metric names
existing = set(os.environ["EXISTING_METRICS"].split())
planned = set(os.environ["PLANNED_METRICS"].split())
histograms = set(os.environ["HISTOGRAMS"].split())
recorded, rule_exprs = set(), []
mark = len(failures)
for g in rules_doc.get("groups") or []:
    for r in g.get("rules") or []:
        if "record" in r:
            recorded.add(r["record"])
        rule_exprs.append((f"rules.yml {g.get('name')}: {r.get('record') or r.get('alert')}", str(r.get("expr", ""))))
        rb = (r.get("annotations") or {}).get("runbook")
        if rb:
            path, _, anchor = rb.partition("#")
            check(os.path.normpath(os.path.join(SRC, path)) == os.path.normpath(readme) and anchor in anchors,
                  f"rules.yml: alert {r.get('alert')}: runbook {rb} has no section in deploy/README.md")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
IDENT = re.compile(r"(?<![\w:.\[])([A-Za-z_:][A-Za-z0-9_:]*)")
unknown, undefined, used = set(), set(), set()
for where, expr in rule_exprs + dash_exprs:
    for name in IDENT.findall(STRING.sub('""', expr)):
        if ":" in name:
            used.add(name)
            if name not in recorded:
                undefined.add(f"{name} ({where})")
        elif name.startswith("leadrouter_"):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            metric = base if base in histograms and base != name else name
            used.add(metric)
            if metric not in existing and metric not in planned:
                unknown.add(f"{name} ({where})")
for u in sorted(unknown):
    fail(f"unknown metric {u}: neither exported nor planned (lists in tests/deploy/check_deploy.sh)")
for u in sorted(undefined):
    fail(f"recording rule {u} is used but not defined in deploy/prometheus/rules.yml")
ok_since(mark, f"metric names: {len(rule_exprs)} rule and {len(dash_exprs)} dashboard expressions, "
   f"{len([m for m in used if ':' not in m])} metrics and {len([m for m in used if ':' in m])} recording rules used")

# ------------------------------------------------------------------ 6. check-config
DUMMY = "check-deploy-test-value-not-a-secret-0123456789"


def secret_refs(node, out):
    """Values of *_env keys (variable names) and *_file keys (path -> key) anywhere in a config."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str) and isinstance(v, str) and k.endswith("_env"):
                out["env"].add(v)
            elif isinstance(k, str) and isinstance(v, str) and k.endswith("_file"):
                out["file"][v] = k
            else:
                secret_refs(v, out)
    elif isinstance(node, list):
        for v in node:
            secret_refs(v, out)
    return out


def router_part(cfg):
    """The config as the daemon reads its secrets: without ingest.http and sources[].auth, which
    only leadrouter-ingest reads."""
    if not isinstance(cfg, dict):
        return cfg
    out = dict(cfg)
    if isinstance(out.get("ingest"), dict):
        out["ingest"] = {k: v for k, v in out["ingest"].items() if k != "http"}
    if isinstance(out.get("sources"), list):
        out["sources"] = [{k: v for k, v in s.items() if k != "auth"} if isinstance(s, dict) else s
                          for s in out["sources"]]
    return out


def ingest_part(cfg):
    """What leadrouter-ingest reads secrets from: ingest.http (TLS files) and sources[].auth."""
    if not isinstance(cfg, dict):
        return {}
    return {"http": (cfg.get("ingest") or {}).get("http") or {},
            "auth": [s.get("auth") for s in cfg.get("sources") or [] if isinstance(s, dict) and s.get("auth")]}


def test_pem(kind):
    """A throwaway self-signed certificate or its key (openssl), for *cert_file / *key_file."""
    cert, key = os.path.join(TMP, "test-cert.pem"), os.path.join(TMP, "test-key.pem")
    if not os.path.exists(cert):
        rc, out = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                       "-subj", "/CN=leadrouter", "-keyout", key, "-out", cert])
        if rc != 0:
            fail(f"openssl cannot make a test certificate for the config's TLS files: {out}")
            return ""
    return open(key if kind == "key" else cert).read()


def stand_in_content(key):
    if key == "tokens_file":
        return (f"tokens:\n  - name: check-deploy\n    token: \"{DUMMY}\"\n"
                "    scopes: [stream, act, admin]\n")
    if key.endswith("key_file") and key != "hmac_key_file":
        return test_pem("key")
    if key.endswith("cert_file") or key.endswith("ca_file"):
        return test_pem("cert")
    return DUMMY + "\n"     # password_file, hmac_key_file: the first line is the secret


def check_config(label, text, file_contents=None):
    """Runs leadrouter check-config on a config text; returns (parsed config, refs).
    file_contents: stand-in content for some *_file paths (e.g. from secret.example.yaml)."""
    try:
        cfg = yaml.safe_load(text)
    except yaml.YAMLError as e:
        fail(f"{label}: not valid YAML: {e}")
        return None, None
    refs = secret_refs(router_part(cfg), {"env": set(), "file": {}})
    ingest_refs = secret_refs(ingest_part(cfg), {"env": set(), "file": {}})
    refs_all = {"env": refs["env"] | ingest_refs["env"], "file": {**refs["file"], **ingest_refs["file"]}}
    env = dict(os.environ)
    for var in refs_all["env"]:
        env[var] = DUMMY          # only the variables this config names
    for i, (path, key) in enumerate(sorted(refs_all["file"].items())):
        stand_in = os.path.join(TMP, f"secret-{i}")
        with open(stand_in, "w") as fh:
            fh.write((file_contents or {}).get(path) or stand_in_content(key))
        text = re.sub(r"(_file:\s*[\"']?)" + re.escape(path), lambda m: m.group(1) + stand_in, text)
    path = os.path.join(TMP, re.sub(r"\W+", "_", label) + ".yaml")
    with open(path, "w") as fh:
        fh.write(text)
    rc, out = run([BIN, "check-config", path], env=env)
    parts = []
    if refs_all["env"]:
        parts.append("env " + ", ".join(sorted(refs_all["env"])) + " set")
    if refs_all["file"]:
        parts.append("files " + ", ".join(sorted(refs_all["file"])) + " replaced by temporary ones")
    note = f" ({'; '.join(parts)})" if parts else ""
    check(rc == 0, f"{label}: leadrouter check-config exit {rc}{note}:\n{out}",
          f"{label}: leadrouter check-config accepts it{note}")
    refs["ingest"] = ingest_refs
    return cfg, refs


def port_of(listen):
    return int(str(listen).rsplit(":", 1)[1])


def published_targets(service):
    """The container ports a compose service publishes (short "host:container" or long syntax)."""
    return {int(str(p.get("target")) if isinstance(p, dict) else str(p).split(":")[-1].split("/")[0])
            for p in service.get("ports") or []}


def host_of(listen):
    return str(listen).rsplit(":", 1)[0].strip("[]")


DEFAULT_TOPICS = {"inbound": "leads.inbound", "assignments": "leads.assignments",
                  "deadletter": "leads.deadletter", "nurture": "leads.nurture"}

# The image: user and exposed ports.
image_user, exposed, entry_config = None, set(), None
final = []
for word, args in instructions:
    if word == "FROM":
        final = []
    final.append((word, args))
for word, args in final:
    if word == "USER":
        image_user = args.split(":")[0]
    elif word == "EXPOSE":
        exposed |= {int(p.split("/")[0]) for p in args.split()}
    elif word == "ENTRYPOINT":
        ep = json.loads(args) if args.startswith("[") else shlex.split(args)
        if "--config" in ep:
            entry_config = ep[ep.index("--config") + 1]
check(image_user and image_user != "0" and image_user != "root", f"Dockerfile: final stage runs as {image_user}, not a non-root uid")
check(entry_config, "Dockerfile: ENTRYPOINT has no --config FILE")

# compose: the leadrouter service's config.
lr_name = next((n for n, s in services.items() if s.get("build") and "leadrouter" in n), None)
if check(lr_name, "compose: no leadrouter service built from the Dockerfile"):
    lr = services[lr_name]
    host_cfg = resolve_in_container(lr_name, entry_config or "/etc/leadrouter/leadrouter.yaml")
    mark = len(failures)
    if check(host_cfg and os.path.isfile(host_cfg), f"compose {lr_name}: nothing mounted at {entry_config}"):
        check(os.path.samefile(host_cfg, os.path.join(compose_dir, "leadrouter.yaml")),
              f"compose {lr_name}: {entry_config} is {rel(host_cfg)}, not deploy/compose/leadrouter.yaml")
        before = len(failures)
        cfg, refs = check_config(rel(host_cfg), open(host_cfg).read())
        mark += len(failures) - before   # reported on their own line
        if cfg:
            env = lr.get("environment") or {}
            env_names = set(env) if isinstance(env, dict) else {e.split("=", 1)[0] for e in env}
            for var in sorted(refs["env"]):
                check(var in env_names, f"compose {lr_name}: the config reads ${var} but the service does not set it")
            secrets = {x if isinstance(x, str) else x.get("target") or x.get("source") for x in lr.get("secrets") or []}
            for path in sorted(refs["file"]):
                check(resolve_in_container(lr_name, path) or path in {f"/run/secrets/{x}" for x in secrets} | secrets,
                      f"compose {lr_name}: the config reads {path}, which is neither mounted nor a compose secret")
            grpc_listen = (cfg.get("grpc") or {}).get("listen", "127.0.0.1:50051")
            metrics_listen = (cfg.get("metrics") or {}).get("listen", "127.0.0.1:9464")
            targets = published_targets(lr)
            for what, listen in (("grpc", grpc_listen), ("metrics", metrics_listen)):
                check(host_of(listen) in ("0.0.0.0", "::", ""), f"{rel(host_cfg)}: {what}.listen {listen} binds loopback: unreachable from outside the container")
                check(port_of(listen) in targets, f"compose {lr_name}: {what} port {port_of(listen)} is not published")
                check(port_of(listen) in exposed, f"Dockerfile: {what} port {port_of(listen)} is not EXPOSEd ({sorted(exposed)})")
            kafka = cfg.get("kafka") or {}
            for h in str(kafka.get("bootstrap_servers", "")).split(","):
                check(h.rsplit(":", 1)[0] in services, f"{rel(host_cfg)}: kafka.bootstrap_servers {h} is not a compose service")
            check((cfg.get("redis") or {}).get("host") in services, f"{rel(host_cfg)}: redis.host is not a compose service")
            init = " ".join(map(str, (services.get("kafka-init") or {}).get("command") or []))
            for key, default in DEFAULT_TOPICS.items():
                topic = (kafka.get("topics") or {}).get(key, default)
                check(re.search(r"(?<![\w.])" + re.escape(topic) + r"(?![\w.])", init), f"compose kafka-init does not create topic {topic} (kafka.topics.{key})")
            for job in prom_cfg.get("scrape_configs") or []:
                if job.get("job_name") != "leadrouter":
                    continue
                for sc in job.get("static_configs") or []:
                    for t in sc.get("targets") or []:
                        check(t == f"{lr_name}:{port_of(metrics_listen)}", f"prometheus.yml: leadrouter target {t} is not {lr_name}:{port_of(metrics_listen)}")
            ok_since(mark, "compose: leadrouter config, secrets, ports, topics and scrape target agree")

            # The ingest service: the image's other binary on the same config file.
            ing_name = next((n for n, x in services.items()
                             if "leadrouter-ingest" in " ".join(map(str, (x.get("entrypoint") or []) + (x.get("command") or [])))), None)
            mark = len(failures)
            if check(ing_name, "compose: no service runs leadrouter-ingest"):
                ing = services[ing_name]
                check(ing.get("image") == lr.get("image") or ing.get("build"), f"compose {ing_name}: not the leadrouter image")
                ing_cfg = resolve_in_container(ing_name, "/etc/leadrouter/leadrouter.yaml")
                check(ing_cfg and os.path.samefile(ing_cfg, host_cfg), f"compose {ing_name}: /etc/leadrouter/leadrouter.yaml is not deploy/compose/leadrouter.yaml")
                env = ing.get("environment") or {}
                env_names = set(env) if isinstance(env, dict) else {e.split("=", 1)[0] for e in env}
                for var in sorted(refs["ingest"]["env"]):
                    check(var in env_names, f"compose {ing_name}: the config reads ${var} (sources[].auth) but the service does not set it")
                http = (cfg.get("ingest") or {}).get("http") or {}
                targets = published_targets(ing)
                for what, listen in (("ingest.http.listen", http.get("listen", "127.0.0.1:8088")),
                                     ("ingest.http.metrics_listen", http.get("metrics_listen", "127.0.0.1:9465"))):
                    check(host_of(listen) in ("0.0.0.0", "::", ""), f"{rel(host_cfg)}: {what} {listen} binds loopback: unreachable from outside the container")
                    check(port_of(listen) in targets, f"compose {ing_name}: {what} port {port_of(listen)} is not published")
                    check(port_of(listen) in exposed, f"Dockerfile: {what} port {port_of(listen)} is not EXPOSEd ({sorted(exposed)})")
                jobs = [j for j in prom_cfg.get("scrape_configs") or [] if j.get("job_name") == "leadrouter-ingest"]
                want = f"{ing_name}:{port_of(http.get('metrics_listen', '127.0.0.1:9465'))}"
                check(any(want in (sc.get("targets") or []) for j in jobs for sc in j.get("static_configs") or []),
                      f"prometheus.yml: no leadrouter-ingest job scraping {want}")
                ok_since(mark, "compose: the ingest service's secrets, ports and scrape target agree with the config")

# k8s: the ConfigMap's config and the Deployment.
by_kind = {}
for d in k8s_docs:
    by_kind.setdefault(d.get("kind"), []).append(d)
def component(d):
    return ((d["spec"]["template"]["metadata"].get("labels") or {}).get("app.kubernetes.io/component"))


deployments = [d for d in by_kind.get("Deployment", []) if component(d) == "router"]
ingest_deployments = [d for d in by_kind.get("Deployment", []) if component(d) == "ingest"]
check(len(deployments) + len(ingest_deployments) == len(by_kind.get("Deployment", [])),
      "k8s: a Deployment whose pods are neither app.kubernetes.io/component: router nor ingest")
k8s_cfg = None
if check(len(deployments) == 1, f"k8s: expected one router Deployment, found {len(deployments)}"):
    dep, mark = deployments[0], len(failures)
    spec = dep["spec"]
    tmpl = spec["template"]
    pod = tmpl["spec"]
    labels = tmpl["metadata"].get("labels") or {}
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    check(sel and all(labels.get(k) == v for k, v in sel.items()), "k8s Deployment: selector does not match the pod labels")
    c = next((c for c in pod["containers"] if c["name"] == "leadrouter"), pod["containers"][0])
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    check(psc.get("runAsNonRoot") or csc.get("runAsNonRoot"), "k8s Deployment: runAsNonRoot is not set")
    uid = csc.get("runAsUser", psc.get("runAsUser"))
    check(uid is None or str(uid) == str(image_user), f"k8s Deployment: runAsUser {uid} is not the image's user {image_user}")
    check(csc.get("readOnlyRootFilesystem") is True, "k8s Deployment: readOnlyRootFilesystem is not true")
    check(csc.get("allowPrivilegeEscalation") is False, "k8s Deployment: allowPrivilegeEscalation is not false")
    check(pod.get("topologySpreadConstraints"), "k8s Deployment: no topologySpreadConstraints")
    res = c.get("resources") or {}
    check(res.get("requests") and res.get("limits"), "k8s Deployment: resources need requests and limits")
    rp = c.get("readinessProbe") or {}
    check("grpc" in rp, "k8s Deployment: readinessProbe is not a grpc: probe")
    check(c.get("livenessProbe"), "k8s Deployment: no livenessProbe")
    mounts = {m["name"]: m for m in c.get("volumeMounts") or []}
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    cm_text, cm_name = None, None
    for name, m in mounts.items():
        v = vols.get(name)
        check(v is not None, f"k8s Deployment: volumeMount {name} has no volume")
        if v and "configMap" in v and entry_config and os.path.dirname(entry_config) == m["mountPath"].rstrip("/"):
            check("subPath" not in m, "k8s Deployment: the config is mounted with subPath: ConfigMap updates would never reach the pod")
            cm_name = v["configMap"]["name"]
    cms = [d for d in by_kind.get("ConfigMap", []) if d["metadata"]["name"] == cm_name]
    if check(cms, f"k8s: no ConfigMap {cm_name} mounted at {os.path.dirname(entry_config or '/etc/leadrouter')}"):
        key = os.path.basename(entry_config)
        cm_text = (cms[0].get("data") or {}).get(key)
        check(cm_text, f"k8s ConfigMap {cm_name}: no key {key}")
    # The Secret is not in the repo: secret.example.yaml documents it. Every key the Deployment
    # reads must be there, and its example values stand in for the mounted files.
    example_secrets = {}
    for d in docs.get(os.path.join(k8s_dir, "secret.example.yaml"), []):
        if d.get("kind") == "Secret":
            example_secrets[d["metadata"]["name"]] = dict(d.get("stringData") or {})
            example_secrets[d["metadata"]["name"]].update({k: None for k in d.get("data") or {}})
    file_contents = {}
    for name, m in mounts.items():
        sec = (vols.get(name) or {}).get("secret")
        if not sec:
            continue
        data = example_secrets.get(sec.get("secretName"))
        if not check(data is not None, f"k8s Deployment: Secret {sec.get('secretName')} is not documented in deploy/k8s/secret.example.yaml"):
            continue
        items = {i["path"]: i["key"] for i in sec["items"]} if sec.get("items") else {k: k for k in data}
        for relp, skey in items.items():
            if check(skey in data, f"k8s Deployment: key {skey} of Secret {sec.get('secretName')} is not in secret.example.yaml") and data[skey]:
                file_contents[m["mountPath"].rstrip("/") + "/" + relp] = data[skey]
    for e in c.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            check(ref.get("key") in example_secrets.get(ref.get("name"), {}),
                  f"k8s Deployment: env {e['name']} reads key {ref.get('key')} of Secret {ref.get('name')}, which secret.example.yaml does not document")
    if cm_text:
        before = len(failures)
        cfg, refs = check_config(f"deploy/k8s ConfigMap {cm_name} {key}", cm_text, file_contents)
        mark += len(failures) - before   # reported on their own line
        k8s_cfg = (cfg, refs, cm_name)
        if cfg:
            env_names = {e["name"] for e in c.get("env") or []}
            for var in sorted(refs["env"]):
                check(var in env_names, f"k8s Deployment: the config reads ${var} but the container does not set it")
            for path in sorted(refs["file"]):
                m = next((m for m in mounts.values() if path.startswith(m["mountPath"].rstrip("/") + "/")), None)
                if check(m, f"k8s Deployment: the config reads {path}, which is under no volumeMount"):
                    v = vols.get(m["name"]) or {}
                    relp = path[len(m["mountPath"].rstrip("/")) + 1:]
                    items = (v.get("secret") or v.get("configMap") or {}).get("items")
                    check(items is None or relp in [i["path"] for i in items], f"k8s Deployment: volume {m['name']} does not provide {relp} (its items)")
            grpc_port = port_of((cfg.get("grpc") or {}).get("listen", "127.0.0.1:50051"))
            metrics_port = port_of((cfg.get("metrics") or {}).get("listen", "127.0.0.1:9464"))
            for what, listen in (("grpc", (cfg.get("grpc") or {}).get("listen", "")), ("metrics", (cfg.get("metrics") or {}).get("listen", ""))):
                check(host_of(listen) in ("0.0.0.0", "::", ""), f"k8s config: {what}.listen {listen} binds loopback")
            check(grpc_port in ports.values(), f"k8s Deployment: no containerPort {grpc_port} (grpc.listen)")
            check(metrics_port in ports.values(), f"k8s Deployment: no containerPort {metrics_port} (metrics.listen)")
            check(rp.get("grpc", {}).get("port") == grpc_port, f"k8s Deployment: readinessProbe grpc port {rp.get('grpc', {}).get('port')} is not grpc.listen's {grpc_port}")
            ann = tmpl["metadata"].get("annotations") or {}
            check(ann.get("prometheus.io/port") == str(metrics_port), f"k8s Deployment: prometheus.io/port {ann.get('prometheus.io/port')} is not {metrics_port}")
            produce_s = int((cfg.get("kafka") or {}).get("produce_timeout_ms", 30000)) / 1000
            check(pod.get("terminationGracePeriodSeconds", 30) >= produce_s + 5,
                  f"k8s Deployment: terminationGracePeriodSeconds {pod.get('terminationGracePeriodSeconds', 30)} is shorter than a drain (produce_timeout {produce_s:.0f}s + 5s)")
    for svc in by_kind.get("Service", []):
        ssel = svc["spec"].get("selector") or {}
        if ssel.get("app.kubernetes.io/component") == "ingest":
            continue   # checked with the ingest Deployment
        check(ssel and all(labels.get(k) == v for k, v in ssel.items()), f"k8s Service {svc['metadata']['name']}: selector does not match the pods")
        for p in svc["spec"].get("ports") or []:
            tp = p.get("targetPort", p.get("port"))
            check(tp in ports or tp in ports.values(), f"k8s Service {svc['metadata']['name']}: targetPort {tp} is not a container port")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        psel = (pdb["spec"].get("selector") or {}).get("matchLabels") or {}
        check(psel and all(labels.get(k) == v for k, v in psel.items()), "k8s PodDisruptionBudget: selector does not match the pods")
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        ref = hpa["spec"]["scaleTargetRef"]
        check(ref.get("kind") == "Deployment" and ref.get("name") == dep["metadata"]["name"], "k8s HorizontalPodAutoscaler: scaleTargetRef is not the Deployment")
    for sa in [pod.get("serviceAccountName")] if pod.get("serviceAccountName") else []:
        check(any(d["metadata"]["name"] == sa for d in by_kind.get("ServiceAccount", [])), f"k8s Deployment: ServiceAccount {sa} is not a resource")
    ok_since(mark, "k8s: Deployment, Services, PDB, HPA and ConfigMap agree")

# k8s: leadrouter-ingest, its own Deployment on the same ConfigMap.
if check(len(ingest_deployments) == 1, f"k8s: expected one ingest Deployment, found {len(ingest_deployments)}") and k8s_cfg and k8s_cfg[0]:
    dep, mark = ingest_deployments[0], len(failures)
    cfg, refs, cm_name = k8s_cfg
    tmpl = dep["spec"]["template"]
    pod = tmpl["spec"]
    labels = tmpl["metadata"].get("labels") or {}
    sel = (dep["spec"].get("selector") or {}).get("matchLabels") or {}
    check(sel and all(labels.get(k) == v for k, v in sel.items()), "k8s ingest Deployment: selector does not match the pod labels")
    c = pod["containers"][0]
    check("leadrouter-ingest" in " ".join(map(str, (c.get("command") or []) + (c.get("args") or []))),
          "k8s ingest Deployment: the container does not run leadrouter-ingest")
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    check(psc.get("runAsNonRoot") or csc.get("runAsNonRoot"), "k8s ingest Deployment: runAsNonRoot is not set")
    check(csc.get("readOnlyRootFilesystem") is True, "k8s ingest Deployment: readOnlyRootFilesystem is not true")
    check(csc.get("allowPrivilegeEscalation") is False, "k8s ingest Deployment: allowPrivilegeEscalation is not false")
    res = c.get("resources") or {}
    check(res.get("requests") and res.get("limits"), "k8s ingest Deployment: resources need requests and limits")
    http = (cfg.get("ingest") or {}).get("http") or {}
    listen = http.get("listen", "127.0.0.1:8088")
    metrics_listen = http.get("metrics_listen", "127.0.0.1:9465")
    for what, l in (("ingest.http.listen", listen), ("ingest.http.metrics_listen", metrics_listen)):
        check(host_of(l) in ("0.0.0.0", "::", ""), f"k8s config: {what} {l} binds loopback")
        check(port_of(l) in ports.values(), f"k8s ingest Deployment: no containerPort {port_of(l)} ({what})")
    rp = (c.get("readinessProbe") or {}).get("httpGet") or {}
    check(rp.get("path") == "/readyz", "k8s ingest Deployment: readinessProbe is not GET /readyz")
    check(c.get("livenessProbe"), "k8s ingest Deployment: no livenessProbe")
    ann = tmpl["metadata"].get("annotations") or {}
    check(ann.get("prometheus.io/port") == str(port_of(metrics_listen)), f"k8s ingest Deployment: prometheus.io/port is not {port_of(metrics_listen)}")
    env_names = {e["name"] for e in c.get("env") or []}
    for var in sorted(refs["ingest"]["env"]):
        check(var in env_names, f"k8s ingest Deployment: the config reads ${var} (sources[].auth) but the container does not set it")
    # example_secrets: secret.example.yaml's Secrets, read with the router Deployment above.
    for e in c.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            check(ref.get("key") in example_secrets.get(ref.get("name"), {}),
                  f"k8s ingest Deployment: env {e['name']} reads key {ref.get('key')} of Secret {ref.get('name')}, which secret.example.yaml does not document")
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    check(any((v.get("configMap") or {}).get("name") == cm_name for v in vols.values()),
          f"k8s ingest Deployment: does not mount the ConfigMap {cm_name}")
    for svc in by_kind.get("Service", []):
        ssel = svc["spec"].get("selector") or {}
        if ssel.get("app.kubernetes.io/component") != "ingest":
            continue
        check(all(labels.get(k) == v for k, v in ssel.items()), f"k8s Service {svc['metadata']['name']}: selector does not match the ingest pods")
        for p in svc["spec"].get("ports") or []:
            tp = p.get("targetPort", p.get("port"))
            check(tp in ports or tp in ports.values(), f"k8s Service {svc['metadata']['name']}: targetPort {tp} is not an ingest container port")
    services_by_name = {x["metadata"]["name"]: x for x in by_kind.get("Service", [])}
    for ing in by_kind.get("Ingress", []):
        for rule in ing["spec"].get("rules") or []:
            for path in ((rule.get("http") or {}).get("paths")) or []:
                backend = (path.get("backend") or {}).get("service") or {}
                check(backend.get("name") in services_by_name, f"k8s Ingress {ing['metadata']['name']}: backend {backend.get('name')} is not a Service")
    ok_since(mark, "k8s: the ingest Deployment, its Service and Ingress agree with the ConfigMap")

# ------------------------------------------------------------------ 7. runtime libraries
apt_pkgs = []
for word, args in final:
    if word == "RUN" and "apt-get install" in args:
        tail = args.split("apt-get install", 1)[1]
        for tok in tail.split():
            if tok in ("&&", ";", "||"):
                break
            if not tok.startswith("-"):
                apt_pkgs.append(tok)
if check(apt_pkgs, "Dockerfile: no apt-get install in the final stage") and shutil.which("dpkg") and shutil.which("apt-cache"):
    rc, out = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                   "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + apt_pkgs)
    closure = {l.strip().split(":")[0] for l in out.splitlines() if l and not l.startswith(" ") and not l.startswith("<")}
    missing_pkgs = [p for p in apt_pkgs if p not in closure]
    check(rc == 0 and not missing_pkgs, f"apt-cache depends failed for the Dockerfile's packages {missing_pkgs}: run apt-get update?\n{out[-2000:] if rc else ''}")
    # The daemon, and leadctl and leadrouter-ingest when they sit next to it in the build tree (the
    # image ships all three).
    binaries = [BIN]
    leadctl = os.path.join(os.path.dirname(os.path.dirname(BIN)), "leadctl", "leadctl")
    if os.path.isfile(leadctl):
        binaries.append(leadctl)
    ingest_bin = os.path.join(os.path.dirname(os.path.dirname(BIN)), "ingest", "leadrouter-ingest")
    if os.path.isfile(ingest_bin):
        binaries.append(ingest_bin)
    libs = []
    for b in binaries:
        rc, out = run(["ldd", b])
        check(rc == 0, f"ldd {b} failed: {out}")
        libs += [lib for lib in re.findall(r"=>\s+(/\S+)", out) if lib not in libs]
    sanitizer = re.compile(r"/lib(asan|ubsan|lsan|tsan|hwasan)\.so")
    libs = [lib for lib in libs if not sanitizer.search(lib)]  # a dev build's sanitizer runtime
    def candidates(lib):  # merged /usr: dpkg may know the file under /lib or /usr/lib
        real = os.path.realpath(lib)
        return [lib, real] + [("/usr" + x if not x.startswith("/usr/") else x[4:]) for x in (lib, real)]
    owner = {}
    _, o2 = run(["dpkg", "-S"] + sorted({c for lib in libs for c in candidates(lib)}))
    for line in o2.splitlines():
        pkgs, sep, path = line.partition(": ")
        if sep and not line.startswith("dpkg-query:") and not line.startswith("diversion"):
            owner[path.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    needed = {}
    for lib in libs:
        pkg = next((owner[c] for c in candidates(lib) if c in owner), None)
        if pkg is None:
            fail(f"{os.path.basename(lib)} ({lib}), loaded by {' or '.join(os.path.basename(b) for b in binaries)}, belongs to no Debian package")
        else:
            needed.setdefault(pkg, []).append(os.path.basename(lib))
    absent = {p: l for p, l in needed.items() if p not in closure}
    for p, l in sorted(absent.items()):
        fail(f"Dockerfile runtime stage: {', '.join(l)} comes from Debian package {p}, which the apt-get list does not pull in")
    if not absent:
        ok(f"runtime libraries: the {len(libs)} libraries {' and '.join(os.path.basename(b) for b in binaries)} load come from {len(needed)} packages, all pulled in by the Dockerfile's {len(apt_pkgs)}")
elif apt_pkgs:
    fail("dpkg / apt-cache not found: cannot map the binary's libraries to Debian packages")

# ------------------------------------------------------------------ 8. optional tools
if shutil.which("docker-compose"):
    rc, out = run(["docker-compose", "-f", compose_path, "config", "-q"])
    check(rc == 0, f"docker-compose config:\n{out}", "docker-compose config accepts the compose file")
elif shutil.which("docker") and run(["docker", "compose", "version"])[0] == 0:
    rc, out = run(["docker", "compose", "-f", compose_path, "config", "-q"])
    check(rc == 0, f"docker compose config:\n{out}", "docker compose config accepts the compose file")
else:
    print("skip: neither docker-compose nor the docker compose plugin is installed")
if shutil.which("kubectl"):
    rc, out = run(["kubectl", "kustomize", k8s_dir])
    check(rc == 0, f"kubectl kustomize deploy/k8s:\n{out}", "kubectl kustomize renders deploy/k8s")
    if rc == 0:
        kinds = [d.get("kind") for d in yaml.safe_load_all(out) if d]
        check("Secret" not in kinds, "kubectl kustomize deploy/k8s renders a Secret: secret values must not be applied from the repo")
else:
    print("skip: kubectl is not installed (kustomize rendering not checked)")

shutil.rmtree(TMP, ignore_errors=True)
if failures:
    print(f"check_deploy: {len(failures)} problem(s)", file=sys.stderr)
    sys.exit(1)
print("check_deploy: all deployment checks passed")
PYEOF
