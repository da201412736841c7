//go:build profile

package main

// A build for measuring only (go build -tags profile ./cmd/mfabot): the
// process writes a CPU profile of its whole life to
// $TMPDIR/mfabot-cpu-PID.pprof, stopped at SIGTERM or SIGINT. Normal
// builds do not contain this file.

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
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
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		pprof.StopCPUProfile()
		f.Close()
	}()
}
