package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cabincare/cabincare/server/store"
)

// Ensure `ground import` loads files into the data folder, prints a
// summary with the rejected lines, and exits with an error when lines were
// rejected.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	testdata := filepath.Join("..", "..", "server", "importer", "testdata")
	err := runImport(context.Background(), []string{"--data", dir, filepath.Join(testdata, "flights.csv"), filepath.Join(testdata, "manifests.csv")}, &out, &errb, false)
	if !errors.Is(err, errRejected) {
		t.Fatalf("err = %v, want errRejected", err)
	}
	for _, want := range []string{
		"flights.csv (flights): 7 lines: 2 created, 1 skipped (already there), 4 rejected",
		"  line 4: number \"K9\" is not a flight number",
		"manifests.csv (manifests): 8 lines: 3 created, 0 skipped (already there), 5 rejected",
		"  line 7: flight KL0999-2026-11-23 does not exist (import flights first)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary does not contain %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "flights.csv (flights): 100% (7 lines)") {
		t.Errorf("progress = %q", errb.String())
	}

	// Again, the sample flights in NDJSON: all new, no error.
	out.Reset()
	err = runImport(context.Background(), []string{"--data", dir, "--kind", "flights", filepath.Join("..", "..", "testdata", "flights.ndjson")}, &out, &errb, true)
	if err != nil {
		t.Fatalf("err = %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "156 lines: 154 created, 2 skipped") {
		t.Errorf("summary = %s", out.String())
	}
	if !strings.Contains(errb.String(), "\rflights.ndjson (flights) [==============================] 100% 156 lines") {
		t.Errorf("terminal progress = %q", errb.String())
	}
}

func TestImport_Errors(t *testing.T) {
	var out, errb bytes.Buffer
	for name, args := range map[string][]string{
		"NoFile":     {"--data", t.TempDir()},
		"BadKind":    {"--data", t.TempDir(), "--kind", "bookings", "x.csv"},
		"BadFormat":  {"--data", t.TempDir(), "--format", "xml", "flights.x"},
		"UnknownExt": {"--data", t.TempDir(), "flights.xlsx"},
		"NoSuchFile": {"--data", t.TempDir(), "flights.csv"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := runImport(context.Background(), args, &out, &errb, false); err == nil {
				t.Error("err = nil")
			}
		})
	}
}

// Ensure import refuses a data folder a server holds, saying so.
func TestImport_Locked(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "ground.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out, errb bytes.Buffer
	err = runImport(context.Background(), []string{"--data", dir, filepath.Join("..", "..", "testdata", "flights.ndjson")}, &out, &errb, false)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "is a ground server running on this data folder") {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
}
