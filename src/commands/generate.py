#!/usr/bin/env python3
"""Regenerate src/commands/table.tsv, the built-in command table, from published command data.

Usage:
  python3 src/commands/generate.py \\
      --docs   REDIS_DOCS/data/commands_core.json \\
      --redis  REDIS_SOURCE/src/commands \\
      --valkey VALKEY_SOURCE/src/commands [--valkey MORE_VALKEY_FILES ...] \\
      --hand   src/commands/hand.tsv > src/commands/table.tsv

Sources, in the order a command name is taken from (the first that has it wins):

  --docs    The Redis documentation repository's command data (redis/docs, data/commands_core.json):
            every command of Redis 8.x with its key specs, the commands of the modules Redis 8 ships
            built in (JSON, TS, BF/CF/CMS/TOPK/TDIGEST, FT, vector sets) included. Key specs come in
            the documentation's shape: begin_search {type, spec}, find_keys {type, spec}, flags as
            booleans ("RW": true).
  --redis   The Redis source's src/commands/*.json (the data behind COMMAND; the table is made from
            Redis 8.6.3's release tarball, which .ci/servers.sh downloads). Key specs in the
            source's shape: begin_search {index: {pos}}, find_keys {range: {lastkey, step, limit}},
            flags as a list. It also names each command's key function (get_keys_function), which
            the documentation data leaves out; the table takes it from here for every server.
  --valkey  Valkey's src/commands/*.json (same shape as Redis's): the commands Redis lacks (from
            Valkey 9.1.2's release tarball, likewise).
  --hand    Rows kept by hand (see hand.tsv): commands no current data has (Redis 6's STRALGO), and
            module commands whose registration under-reports their keys. A hand row replaces the
            data's row; the script fails when a hand row corrects a command the data no longer gets
            wrong, and when the data under-reports a command no hand row corrects.

Output: one tab-separated line per command, the format src/commands/mod.rs reads:

  name  arity  command-flags  getkeys  spec;spec;...  origin

  name      lower case; a subcommand is container|sub (object|encoding)
  flags     lower-case command flags joined by ',' ('-' for none)
  getkeys   the server's key function without "GetKeys" (sort, migrate...), or '-'
  spec      FLAGS/BEGIN/FIND with
              FLAGS  key-spec flags joined by ',' (RO,ACCESS)
              BEGIN  index:POS | keyword:WORD:STARTFROM | unknown
              FIND   range:LASTKEY:STEP:LIMIT | keynum:IDX:FIRST:STEP | unknown
  origin    where the row comes from: "redis 8.2.0" (the version that added it), "redis/bf 2.4.0"
            (a module Redis ships, and the module's version), "valkey 9.0.0", or "hand: why"

Commands flagged ONLY_SENTINEL are left out: a data node never runs them. Differences between the
sources (a command whose key specs differ between Redis and Valkey) are written to stderr.
"""
import argparse
import json
import os
import sys

SPEC_FLAGS = ["RO", "RW", "OW", "RM", "NOT_KEY", "INCOMPLETE", "VARIABLE_FLAGS",
              "ACCESS", "UPDATE", "INSERT", "DELETE"]


def source_spec(spec):
    """A key spec in the server source's shape, as FLAGS/BEGIN/FIND."""
    named = {f.upper() for f in spec.get("flags", [])}
    flags = ",".join(f for f in SPEC_FLAGS if f in named) or "-"
    bs = spec["begin_search"]
    if "index" in bs:
        begin = "index:%d" % bs["index"]["pos"]
    elif "keyword" in bs:
        kw = bs["keyword"]
        begin = "keyword:%s:%d" % (kw["keyword"], kw["startfrom"])
    else:
        begin = "unknown"
    fk = spec["find_keys"]
    if "range" in fk:
        r = fk["range"]
        find = "range:%d:%d:%d" % (r["lastkey"], r["step"], r["limit"])
    elif "keynum" in fk:
        k = fk["keynum"]
        find = "keynum:%d:%d:%d" % (k["keynumidx"], k["firstkey"], k["step"])
    else:
        find = "unknown"
    return "%s/%s/%s" % (flags, begin, find)


def docs_spec(spec):
    """A key spec in the documentation data's shape, as FLAGS/BEGIN/FIND."""
    flags = ",".join(f for f in SPEC_FLAGS if spec.get(f) is True or spec.get(f.lower()) is True) or "-"
    bs, fk = spec["begin_search"], spec["find_keys"]
    b, f = bs.get("spec", {}), fk.get("spec", {})
    if bs["type"] == "index":
        begin = "index:%d" % b["index"]
    elif bs["type"] == "keyword":
        begin = "keyword:%s:%d" % (b["keyword"], b["startfrom"])
    else:
        begin = "unknown"
    if fk["type"] == "range":
        find = "range:%d:%d:%d" % (f["lastkey"], f["keystep"], f["limit"])
    elif fk["type"] == "keynum":
        find = "keynum:%d:%d:%d" % (f["keynumidx"], f["firstkey"], f["keystep"])
    else:
        find = "unknown"
    return "%s/%s/%s" % (flags, begin, find)


def row(name, arity, flags, getkeys, specs, origin):
    return {
        "name": name,
        "arity": str(arity),
        "flags": ",".join(f.lower() for f in flags) or "-",
        "getkeys": getkeys,
        "specs": ";".join(specs) or "-",
        "origin": origin,
    }


def read_source(folder):
    """{name: command} from a server source's command files (name: container|sub for a subcommand)."""
    out = {}
    for entry in sorted(os.listdir(folder)):
        if not entry.endswith(".json"):
            continue
        with open(os.path.join(folder, entry)) as f:
            doc = json.load(f)
        for name, cmd in doc.items():
            full = name.lower()
            if "container" in cmd:
                full = cmd["container"].lower() + "|" + full
            out[full] = cmd
    return out


def getkeys_of(cmd):
    fn = cmd.get("get_keys_function", "")
    return fn[: -len("GetKeys")] if fn.endswith("GetKeys") else "-"


def source_row(full, cmd, server):
    flags = cmd.get("command_flags", [])
    specs = [source_spec(s) for s in cmd.get("key_specs", [])]
    origin = "%s %s" % (server, cmd.get("since", "?"))
    return row(full, cmd["arity"], flags, getkeys_of(cmd), specs, origin)


def key_args(args, in_multiple=False):
    """(key_spec_index, repeats) of every key argument, depth first."""
    for a in args or []:
        repeats = in_multiple or bool(a.get("multiple"))
        if a.get("type") == "key":
            yield a.get("key_spec_index"), repeats
        yield from key_args(a.get("arguments"), repeats)


def under_reports(cmd):
    """The data's key specs name fewer keys than its own argument list: a repeated key argument
    points at a spec that finds exactly one key."""
    specs = cmd.get("key_specs", [])
    for index, repeats in key_args(cmd.get("arguments")):
        if not repeats or index is None or index >= len(specs):
            continue
        fk = specs[index]["find_keys"]
        if fk["type"] == "range" and fk["spec"]["lastkey"] == 0:
            return True
    return False


def read_hand(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 6 or not cols[5].startswith("hand: "):
                sys.exit("hand row needs 6 columns and an origin 'hand: why': %r" % line)
            rows[cols[0]] = dict(zip(["name", "arity", "flags", "getkeys", "specs", "origin"], cols))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", required=True)
    p.add_argument("--redis", required=True)
    p.add_argument("--valkey", action="append", default=[])
    p.add_argument("--hand", required=True)
    opts = p.parse_args()

    with open(opts.docs) as f:
        docs = json.load(f)
    redis = read_source(opts.redis)
    valkey = {}
    for folder in opts.valkey:
        valkey.update(read_source(folder))
    hand = read_hand(opts.hand)

    rows = {}
    problems = []
    for name, cmd in docs.items():
        full = name.lower().replace(" ", "|")
        specs = [docs_spec(s) for s in cmd.get("key_specs", [])]
        module = cmd.get("module")
        server = "redis/%s" % module if module else "redis"
        getkeys = getkeys_of(redis[full]) if full in redis else "-"
        rows[full] = row(full, cmd["arity"], cmd.get("command_flags", []), getkeys, specs,
                         "%s %s" % (server, cmd.get("since", "?")))
        if under_reports(cmd) and full not in hand:
            problems.append("%s: its key specs name one key where its arguments repeat one; add a hand row" % full)
        if full in hand and not under_reports(cmd):
            problems.append("%s: the data no longer under-reports it; drop its hand row" % full)
    for full, cmd in redis.items():
        if full not in rows and "ONLY_SENTINEL" not in cmd.get("command_flags", []):
            rows[full] = source_row(full, cmd, "redis")
    for full, cmd in valkey.items():
        if "ONLY_SENTINEL" in cmd.get("command_flags", []):
            continue
        mine = source_row(full, cmd, "valkey")
        if full not in rows:
            rows[full] = mine
        elif mine["specs"] != rows[full]["specs"]:
            print("%s: Redis %s, Valkey %s (the table keeps Redis's)"
                  % (full, rows[full]["specs"], mine["specs"]), file=sys.stderr)
    for full, hrow in hand.items():
        rows[full] = hrow

    containers = {full.split("|")[0] for full in rows if "|" in full}
    missing = containers - rows.keys()
    if missing:
        problems.append("containers without a row of their own: %s" % ", ".join(sorted(missing)))
    if problems:
        sys.exit("\n".join(problems))

    print("# generated by src/commands/generate.py from the Redis documentation's command data,")
    print("# the Redis and Valkey sources' src/commands/*.json and hand.tsv; do not edit")
    cols = ["name", "arity", "flags", "getkeys", "specs", "origin"]
    for full in sorted(rows):
        print("\t".join(rows[full][c] for c in cols))


if __name__ == "__main__":
    main()
