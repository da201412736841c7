// Package testenv holds what the project's tests share that is not a fake
// of Microsoft's cloud: a fresh PostgreSQL schema per test (with the
// skip-or-require rule of MFABOT_TEST_POSTGRES_URL / MFABOT_TEST_REQUIRE)
// and a log sink safe for concurrent writers.
package testenv

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresBase returns MFABOT_TEST_POSTGRES_URL. Without it the test
// fails when MFABOT_TEST_REQUIRE=1 (CI) and otherwise ok is false, so the
// caller can skip PostgreSQL, saying so.
func PostgresBase(t testing.TB) (base string, ok bool) {
	t.Helper()
	base = os.Getenv("MFABOT_TEST_POSTGRES_URL")
	if base == "" && os.Getenv("MFABOT_TEST_REQUIRE") == "1" {
		t.Fatal("MFABOT_TEST_POSTGRES_URL is not set and MFABOT_TEST_REQUIRE=1")
	}
	return base, base != ""
}

// PostgresURL returns the URL of a fresh schema of the test database, or
// skips the test when none is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base, ok := PostgresBase(t)
	if !ok {
		t.Skip("MFABOT_TEST_POSTGRES_URL not set: PostgreSQL test skipped")
	}
	return FreshSchema(t, base)
}

// FreshSchema creates a schema of its own for one test (dropped when the
// test ends) and returns a URL whose connections use it, so parallel runs
// never see each other's rows.
func FreshSchema(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "mfabot_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// LogBuffer collects log output from concurrent goroutines.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
