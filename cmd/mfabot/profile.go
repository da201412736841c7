//go:build profile

package main

// A build for measuring only (go build -tags profile ./cmd/mfabot): the
// process writes a CPU profile of its whole life to
// $TMPDIR/mfabot-cpu-PID.pprof, written when main returns (after SIGTERM or SIGINT). Normal
// builds do not contain this file.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

func init() {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("mfabot-cpu-%d.pprof", os.Getpid()))
	f, err := os.Create(path)
	if err != nil {
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return
	}
	beforeExit = func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
