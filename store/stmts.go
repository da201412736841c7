package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var metricCommits = promauto.NewCounter(prometheus.CounterOpts{
	Name: "mfabot_store_commits_total",
	Help: "Write transactions committed to the store (a statement on its own counts as one).",
})

// Statements. modernc's SQLite driver parses and plans a statement for
// every call unless it is kept prepared (a profile of a turn showed 14 %
// of its CPU in the parser), so the SQLite store keeps its fixed
// statements prepared per pool. PostgreSQL's driver (pgx) keeps a
// statement cache of its own per connection.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache: the store's fixed statements are far
// fewer; queries built from a filter beyond it are prepared per call.
const maxCachedStmts = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// lookup returns the prepared statement of q, or nil.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// get returns q prepared, preparing it on first use (nil: use the pool
// directly). Never call it inside a transaction of the writer pool: with
// its single connection held by the transaction, preparing on the pool
// would wait for that connection forever; transactions use lookup.
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	if st := c.lookup(q); st != nil {
		return st
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil // the caller runs q directly and reports its error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[q]; old != nil {
		st.Close()
		return old
	}
	if len(c.m) >= maxCachedStmts {
		st.Close()
		return nil
	}
	c.m[q] = st
	return st
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// commits counts this store's write transactions (tests assert how many
// a turn costs).
type commits struct{ n atomic.Int64 }

func (c *commits) add() {
	c.n.Add(1)
	metricCommits.Inc()
}

// CommitCounter is implemented by the stores of Open: the number of write
// transactions committed since the store was opened (a statement on its
// own counts as one).
type CommitCounter interface {
	Commits() int64
}

func (s *sqlStore) Commits() int64 { return s.commits.n.Load() }

// txWriter runs statements in one transaction of the writer pool, with
// the writer's prepared statements where it has them.
type txWriter struct {
	s  *sqlStore
	tx *sql.Tx
}

func (w txWriter) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = w.s.rebind(q)
	if st := w.s.wstmts.lookup(q); st != nil {
		return w.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return w.tx.ExecContext(ctx, q, args...)
}

func (w txWriter) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = w.s.rebind(q)
	if st := w.s.wstmts.lookup(q); st != nil {
		return w.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return w.tx.QueryRowContext(ctx, q, args...)
}

func (w txWriter) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = w.s.rebind(q)
	if st := w.s.wstmts.lookup(q); st != nil {
		return w.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return w.tx.QueryContext(ctx, q, args...)
}

// direct runs each statement on its own: its own commit.
type direct struct{ s *sqlStore }

func (d direct) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.s.exec(ctx, q, args...)
}

// queryRow runs a writing query (INSERT ... RETURNING).
func (d direct) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	d.s.commits.add()
	q = d.s.rebind(q)
	if st := d.s.wstmts.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.s.w.QueryRowContext(ctx, q, args...)
}

// writer is where a write runs: on its own (direct) or in a
// transaction (txWriter).
type writer interface {
	exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	// queryRow runs a statement that writes and returns a row.
	queryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// prepare keeps qs prepared on the writer (they are looked up, not
// prepared, inside transactions).
func (s *sqlStore) prepare(ctx context.Context, qs ...string) {
	for _, q := range qs {
		s.wstmts.get(ctx, s.rebind(q))
	}
}
