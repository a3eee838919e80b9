"""Parses a Prometheus text exposition from stdin with PyPI prometheus-client's own parser (the
reference, not Drydock's code) and prints JSON: {"families": {name: type},
"samples": [[name, labels, value], ...]}. A malformed exposition fails here."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families, samples = {}, []
for family in text_string_to_metric_families(sys.stdin.read()):
    families[family.name] = family.type
    for s in family.samples:
        samples.append([s.name, s.labels, s.value])
print(json.dumps({"families": families, "samples": samples}))
