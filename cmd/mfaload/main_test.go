package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestLoadToolSmoke: two students walk the whole journey against the
// built binary with no think time; every journey ends verified through
// Graph, with no error. It checks the tool, not the bot's speed.
func TestLoadToolSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the mfabot binary")
	}
	var out bytes.Buffer
	res, err := run(context.Background(), options{students: 2, journeys: 1, tenants: 2, max: 2 * time.Minute, logLevel: "warn"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if res.Errors != 0 || res.Verified != 2 || res.Turns != 2*journeyTurns {
		t.Fatalf("errors %d, verified %d, turns %d (want 0, 2, %d)\n%s", res.Errors, res.Verified, res.Turns, 2*journeyTurns, out.String())
	}
	if res.MetadataFetches != 1 || res.JWKSFetches != 1 {
		t.Errorf("OpenID metadata fetched %d times, keys %d times; want once each", res.MetadataFetches, res.JWKSFetches)
	}
	if !strings.Contains(out.String(), "reply ms") || res.P50MS <= 0 || res.CPUMSPerTurn < 0 {
		t.Errorf("summary or figures missing: %+v\n%s", res, out.String())
	}
}
