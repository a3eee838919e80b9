#!/usr/bin/env python3
"""An independent check of a Drydock evidence bundle's Merkle proofs, written from RFC 6962 /
RFC 9162 (section 2.1) and sharing no code with Drydock.

Usage: rfc6962_bundle.py VECTORS.json BUNDLE.tar.gz

First the hash functions and the verification algorithms are checked against the RFC 6962 test
vectors (transparency-dev/merkle's: leaf inputs, roots by size, inclusion and consistency proofs);
then every entry of the bundle's entries.json is hashed as a leaf (SHA-256(0x00 || entry)) and its
inclusion proof checked against the root and size of checkpoint.txt, and consistency.json against
checkpoint.txt and latest-checkpoint.txt. Prints one JSON object:
{"vectors": bool, "entries": n, "entries_verified": n, "first_failure": index or null,
 "consistency": bool}.
"""
import base64
import hashlib
import io
import json
import sys
import tarfile


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves):
    """RFC 6962 2.1: the Merkle Tree Hash of a list of leaf inputs."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(size1, size2, root1, root2, proof):
    """RFC 9162 2.1.4.2."""
    if size1 > size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


def check_vectors(v):
    leaves = [bytes.fromhex(x) for x in v["leaf_inputs"]]
    for size, root in v["roots_by_size"].items():
        if mth(leaves[: int(size)]).hex() != root:
            return False
    for p in v["inclusion_proofs"]:
        size, index = p["size"], p["index"]
        proof = [bytes.fromhex(h) for h in p["proof"]]
        if not verify_inclusion(index, size, leaf_hash(leaves[index]), proof, mth(leaves[:size])):
            return False
    for p in v["consistency_proofs"]:
        a, b = p["from"], p["to"]
        proof = [bytes.fromhex(h) for h in p["proof"]]
        if not verify_consistency(a, b, mth(leaves[:a]), mth(leaves[:b]), proof):
            return False
    # And a wrong proof must fail.
    bad = v["inclusion_proofs"][1]
    size = bad["size"]
    wrong = [bytes(32)] + [bytes.fromhex(h) for h in bad["proof"][1:]]
    return not verify_inclusion(bad["index"], size, leaf_hash(leaves[bad["index"]]), wrong, mth(leaves[:size]))


def checkpoint(text):
    """(size, root) of a C2SP checkpoint body: origin, size, base64 root."""
    lines = text.split("\n")
    return int(lines[1]), base64.b64decode(lines[2])


def main():
    vectors = json.load(open(sys.argv[1]))
    files = {}
    with tarfile.open(fileobj=io.BytesIO(open(sys.argv[2], "rb").read()), mode="r:gz") as tar:
        for m in tar.getmembers():
            files[m.name] = tar.extractfile(m).read()
    size, root = checkpoint(files["checkpoint.txt"].decode())
    latest, latest_root = checkpoint(files["latest-checkpoint.txt"].decode())
    entries = json.loads(files["entries.json"])
    verified, first_failure = 0, None
    for e in entries["entries"]:
        proof = [bytes.fromhex(h) for h in e["proof"]]
        ok = entries["checkpoint_size"] == size and verify_inclusion(e["index"], size, leaf_hash(e["entry"].encode()), proof, root)
        if ok:
            verified += 1
        elif first_failure is None:
            first_failure = e["index"]
    c = json.loads(files["consistency.json"])
    consistent = (c["from"], c["to"]) == (size, latest) and verify_consistency(
        size, latest, root, latest_root, [bytes.fromhex(h) for h in c["proof"]]
    )
    print(json.dumps({
        "vectors": check_vectors(vectors),
        "entries": len(entries["entries"]),
        "entries_verified": verified,
        "first_failure": first_failure,
        "consistency": consistent,
    }))


if __name__ == "__main__":
    main()
