package packages_test

import (
	"testing"
	"time"

	"configmarket/internal/packages"
)

// Issue 20's numbers: packages up to 100 MiB, backup links for 15 minutes.
func TestDefaultRules(t *testing.T) {
	if got := packages.DefaultRules.MaxSize; got != 100*1024*1024 {
		t.Errorf("default package limit %d bytes, want 100 MiB", got)
	}
	if got := packages.DefaultRules.BackupLinkTTL; got != 15*time.Minute {
		t.Errorf("backup links last %s, want 15 minutes", got)
	}
}
