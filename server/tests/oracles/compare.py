"""Reference orderings for the version comparison tests (server/tests/api/versions.rs).

Reads JSON lines {"scheme": ..., "a": ..., "b": ...} on stdin and answers one line per pair:
-1, 0 or 1 from the ecosystem's reference implementation, or "error: ..." when the reference
refuses a version.

- rpm: rpm.labelCompare from Debian's python3-rpm (the rpm library itself);
- pypi: packaging.version (PyPA's PEP 440 implementation);
- apk, semver, maven: univers (AboutCode's purl `vers` library).
dpkg is asked directly by the test (`dpkg --compare-versions`).
"""
import json
import sys


def rpm_cmp(a, b):
    import rpm

    def evr(v):
        epoch, _, rest = v.rpartition(":") if ":" in v else ("0", "", v)
        version, sep, release = rest.rpartition("-")
        if not sep:
            version, release = rest, None
        return (epoch or "0", version, release)

    return rpm.labelCompare(evr(a), evr(b))


def pypi_cmp(a, b):
    from packaging.version import Version

    x, y = Version(a), Version(b)
    return (x > y) - (x < y)


def univers_cmp(cls_name, a, b):
    from univers import versions

    cls = getattr(versions, cls_name)
    x, y = cls(a), cls(b)
    return (x > y) - (x < y)


def main():
    for line in sys.stdin:
        q = json.loads(line)
        try:
            s, a, b = q["scheme"], q["a"], q["b"]
            if s == "rpm":
                r = rpm_cmp(a, b)
            elif s == "pypi":
                r = pypi_cmp(a, b)
            elif s == "apk":
                r = univers_cmp("AlpineLinuxVersion", a, b)
            elif s == "semver":
                r = univers_cmp("SemverVersion", a.lstrip("vV"), b.lstrip("vV"))
            elif s == "maven":
                r = univers_cmp("MavenVersion", a, b)
            else:
                raise ValueError("unknown scheme " + s)
            print(max(-1, min(1, r)), flush=False)
        except Exception as e:  # the reference refused it: say so, the test decides
            print("error: %s" % str(e).replace("\n", " "))
    sys.stdout.flush()


main()
