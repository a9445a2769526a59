"""The search index's storage, measured: Kith's B-tree of terms against the same B-tree
with a compact key and an SQLite FTS5 index of the same terms, for build time, size and
the latency of quick-search queries.

Reads the contacts' terms of a Kith SQLite database (e.g. one made with
`kith --db sqlite:///tmp/fts/demo.db demo --contacts 100000`), writes them COPIES times
(10 turns 100k contacts into 1M) into each layout under /tmp/fts, in commits of 1,000
records as an import does, then times each query (median of 7) the way Kith's search
reads: the longest word drives, whole-word matches newest first, then longer words.
FTS5 gets one document per record, each term tagged with its workspace and object
(`1c_`), and prefix indexes of the lengths PREFIXES (tag included).

Usage: python3 scripts/search_index_fts5.py SRC_DB COPIES PREFIXES
       e.g. python3 scripts/search_index_fts5.py /tmp/fts/demo.db 1 "4 5 6 7 8 9"
(Python's sqlite3: FTS5 is built in; nothing to install.)"""
import sqlite3, sys, time, os, statistics
src, copies = sys.argv[1], int(sys.argv[2]); PFX = sys.argv[3]
s = sqlite3.connect(src)
docs = {}
for rid, obj, term in s.execute("select record_id, object, term from search_terms where object='contact' order by record_id"):
    docs.setdefault(rid, []).append(term)
ids = list(docs)
print(f"{len(ids)} contacts x {copies}, {sum(len(v) for v in docs.values())*copies} terms")

os.makedirs("/tmp/fts", exist_ok=True)


def fresh(path):
    for suf in ("", "-wal", "-shm"):
        try: os.remove(path + suf)
        except FileNotFoundError: pass
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("pragma journal_mode=wal"); c.execute("pragma synchronous=normal"); c.execute("pragma cache_size=-131072")
    return c

WS = b"\x01" * 16
# B-tree, as Kith: PK (workspace, object, term, record) WITHOUT ROWID + (record, term)
b = fresh("/tmp/fts/btree.db")
b.execute("create table t (workspace_id blob not null, term text not null, record_id blob not null, object text not null, primary key (workspace_id, object, term, record_id)) without rowid")
b.execute("create index t_record on t(record_id, term)")
t0 = time.perf_counter(); b.execute("begin")
n = 0
for k in range(copies):
    for i, rid in enumerate(ids):
        r = k.to_bytes(2, "big") + rid[2:]  # keeps UUIDv7 order within a copy
        b.executemany("insert into t values (?, ?, ?, 'contact')", [(WS, term, r) for term in docs[rid]])
        n += 1
        if n % 1000 == 0: b.execute("commit"); b.execute("begin")
b.execute("commit"); tb = time.perf_counter() - t0

# B-tree with a compact key: workspace and object as one small integer, the record as
# an integer document id (a table maps it to the record's UUID), so each entry is about
# half as long and the same inserts touch half the pages.
c = fresh("/tmp/fts/compact.db")
c.execute("create table t (scope integer not null, term text not null, doc integer not null, primary key (scope, term, doc)) without rowid")
c.execute("create index t_doc on t(doc, term)")
c.execute("create table docs (doc integer primary key, record_id blob not null)")
t0 = time.perf_counter(); c.execute("begin"); n = 0
for k in range(copies):
    for rid in ids:
        r = k.to_bytes(2, "big") + rid[2:]
        n += 1
        c.execute("insert into docs values (?, ?)", (n, r))
        c.executemany("insert into t values (1, ?, ?)", [(term, n) for term in docs[rid]])
        if n % 1000 == 0: c.execute("commit"); c.execute("begin")
c.execute("commit"); tc = time.perf_counter() - t0

# FTS5: one document per record, each term tagged with the workspace and object ("1c_")
f = fresh("/tmp/fts/fts.db")
f.execute(f"""create virtual table fts using fts5(terms, content='', detail=none, prefix='{PFX}',
             tokenize="unicode61 remove_diacritics 0 tokenchars '._@+-'")""")
f.execute("create table docs (doc integer primary key, record_id blob not null)")
t0 = time.perf_counter(); f.execute("begin"); n = 0
for k in range(copies):
    for rid in ids:
        r = k.to_bytes(2, "big") + rid[2:]
        n += 1
        f.execute("insert into docs values (?, ?)", (n, r))
        f.execute("insert into fts(rowid, terms) values (?, ?)", (n, " ".join("1c_" + t for t in docs[rid])))
        if n % 1000 == 0: f.execute("commit"); f.execute("begin")
f.execute("commit"); tf = time.perf_counter() - t0
size = lambda p: sum(os.path.getsize(p + s) for s in ("", "-wal") if os.path.exists(p + s)) / 1e6
for db in (b, c, f):
    db.execute("pragma wal_checkpoint(truncate)")
print(f"build: btree {tb:.1f}s {size('/tmp/fts/btree.db'):.0f} MB; compact btree {tc:.1f}s "
      f"{size('/tmp/fts/compact.db'):.0f} MB; fts5 {tf:.1f}s {size('/tmp/fts/fts.db'):.0f} MB")

END = "\U0010ffff"
def bt_query(words):
    # Kith's tiers: driver = longest word; Whole (term =) newest first, then Longer (prefix).
    d = max(words, key=len); others = [w for w in words if w is not d]
    out = []
    for tier in ("whole", "longer"):
        cond = "s.term = ?" if tier == "whole" else "s.term > ? and s.term < ?"
        args = [WS, d] if tier == "whole" else [WS, d, d + END]
        order = "s.record_id desc" if tier == "whole" else "s.term, s.record_id"
        lim = 20 if not others else 500
        sql = f"select rid from (select s.record_id rid from t s where s.workspace_id = ? and s.object = 'contact' and {cond} order by {order} limit {lim}) d where 1"
        for o in others:
            sql += " and exists (select 1 from t o where o.record_id = d.rid and o.term >= ? and o.term < ?)"
            args += [o, o + END]
        sql += " limit 20"
        out += b.execute(sql, args).fetchall()
        if len(out) >= 20: break
    return out[:20]

def compact_query(words):
    # The same tiers on the compact key; the hits' record ids through the docs table.
    d = max(words, key=len); others = [w for w in words if w is not d]
    out = []
    for tier in ("whole", "longer"):
        cond = "s.term = ?" if tier == "whole" else "s.term > ? and s.term < ?"
        args = [d] if tier == "whole" else [d, d + END]
        order = "s.doc desc" if tier == "whole" else "s.term, s.doc"
        lim = 20 if not others else 500
        sql = f"select m.record_id from (select s.doc from t s where s.scope = 1 and {cond} order by {order} limit {lim}) x join docs m on m.doc = x.doc where 1"
        for o in others:
            sql += " and exists (select 1 from t o where o.doc = x.doc and o.term >= ? and o.term < ?)"
            args += [o, o + END]
        sql += " limit 20"
        out += c.execute(sql, args).fetchall()
        if len(out) >= 20: break
    return out[:20]

def fts_query(words):
    d = max(words, key=len); others = [w for w in words if w is not d]
    rest = "".join(f' AND "1c_{o}"*' for o in others)
    out = f.execute(f"select rowid from fts where fts match ? order by rowid desc limit 20", (f'"1c_{d}"' + rest,)).fetchall()
    if len(out) < 20:
        out += f.execute(f"select rowid from fts where fts match ? order by rowid desc limit 20", (f'("1c_{d}"* NOT "1c_{d}")' + rest,)).fetchall()
    return out[:20]

queries = [["n"], ["no"], ["noah"], ["example"], ["white"], ["noah", "white"], ["w", "n"], ["noah.white1@example.com"], ["4479"], ["李"], ["李勇"], ["zzzz"], ["example", "com", "no"], ["noah.whi"], ["4479111"], ["indkobs"], ["white1@example"]]
print("| query | B-tree ms (hits) | compact B-tree ms (hits) | FTS5 ms (hits) |")
for q in queries:
    res = []
    for fn in (bt_query, compact_query, fts_query):
        fn(q)
        times = []
        for _ in range(7):
            t0 = time.perf_counter(); r = fn(q); times.append((time.perf_counter() - t0) * 1000)
        res.append(f"{statistics.median(times):.2f} ({len(r)})")
    print(f"| `{' '.join(q)}` | {' | '.join(res)} |")
