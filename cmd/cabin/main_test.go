package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Ensure --log-level is honoured: a bad level is refused with the levels
// it takes, and CABINCARE_LOG_LEVEL's flag shows in --help.
func TestLogLevelFlag(t *testing.T) {
	var errb bytes.Buffer
	err := run(context.Background(), []string{"--log-level", "loud", "--device-id", "d", "--device-token", "t", "--data", t.TempDir()}, &errb)
	if err == nil || !strings.Contains(err.Error(), `log level "loud": use debug, info, warn or error`) {
		t.Fatalf("bad level: got %v", err)
	}
	errb.Reset()
	_ = run(context.Background(), []string{"--help"}, &errb)
	if !strings.Contains(errb.String(), "-log-level") || !strings.Contains(errb.String(), "CABINCARE_LOG_LEVEL") {
		t.Fatalf("--help does not list --log-level:\n%s", errb.String())
	}
}
