"""Typo correction's vocabulary lookup on PostgreSQL, measured: a misspelt word's
candidates one edit away as one placeholder each (`term IN ($2, $3, …)`, what Kith did
before 2026-12-07) against one array (`term = ANY($2)`, what `Sql::bind_in` writes).

Builds a throwaway table shaped like `search_vocabulary` with 200k random words, then
looks up the candidates of 2,000 random misspellings each way with server-side prepared
statements (as sqlx does), three alternating rounds, and drops the table.

Usage: python3 scripts/vocabulary_lookup_pg.py postgresql://postgres@127.0.0.1:55432/postgres
(needs psycopg 3: python3 -m venv /tmp/pgvenv && /tmp/pgvenv/bin/pip install "psycopg[binary]")"""
import random, string, sys, time, uuid

import psycopg

random.seed(3)

conn = psycopg.connect(sys.argv[1], autocommit=True)
c = conn.cursor()
c.execute("DROP TABLE IF EXISTS vocab_bench")
c.execute('CREATE TABLE vocab_bench (workspace_id UUID NOT NULL, term TEXT COLLATE "C" NOT NULL, PRIMARY KEY (workspace_id, term))')
ws = uuid.uuid4()
words = set()
while len(words) < 200000:
    words.add(''.join(random.choice(string.ascii_lowercase) for _ in range(random.randint(4, 10))))
with c.copy("COPY vocab_bench (workspace_id, term) FROM STDIN") as cp:
    for w in words:
        cp.write_row((ws, w))
c.execute("ANALYZE vocab_bench")
def edits(word):
    out = set()
    n = len(word)
    for i in range(n): out.add(word[:i] + word[i+1:])
    for i in range(n-1): out.add(word[:i] + word[i+1] + word[i] + word[i+2:])
    for i in range(n):
        for ch in string.ascii_lowercase: out.add(word[:i] + ch + word[i+1:])
    for i in range(n+1):
        for ch in string.ascii_lowercase: out.add(word[:i] + ch + word[i:])
    out.discard(word)
    return sorted(w for w in out if len(w) >= 4)
queries = [edits(''.join(random.choice(string.ascii_lowercase) for _ in range(random.randint(5, 10)))) for _ in range(2000)]
def run(kind):
    t = time.perf_counter(); found = 0
    for cands in queries:
        if kind == "in":
            sql = "SELECT term FROM vocab_bench WHERE workspace_id = %s AND term IN (" + ",".join(["%s"] * len(cands)) + ") ORDER BY term"
            c.execute(sql, [ws] + cands, prepare=True)
        else:
            c.execute("SELECT term FROM vocab_bench WHERE workspace_id = %s AND term = ANY(%s) ORDER BY term", [ws, cands], prepare=True)
        found += len(c.fetchall())
    return (time.perf_counter() - t) / len(queries) * 1000, found
for r in range(3):
    for k in ("in", "any"):
        ms, f = run(k)
        print(f"{k}: {ms:.3f} ms per lookup, found {f}")
c.execute("DROP TABLE vocab_bench")
