package main

import (
	"mfabot/config"
	"mfabot/graph"
	"mfabot/staff"
)

// staffAccount is the directory as the dashboard's account actions
// (staff.actions), or nil when they are off or the directory cannot
// write (both the demo directory and graph/msgraph can).
func staffAccount(cfg *config.Config, dir graph.Directory) staff.AccountActions {
	if !cfg.Staff.Actions {
		return nil
	}
	a, _ := dir.(staff.AccountActions)
	return a
}
