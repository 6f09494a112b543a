// Package importer bulk-loads flights, passenger manifests and enquiries
// from NDJSON or CSV files through the care workflow, so imported records
// are validated, triaged and indexed exactly as if they came through the
// REST API. Parsers stream a file line by line and report each line's
// result with its number; Importer writes in batches and sums up what was
// created, skipped (already there) and rejected (with line and reason).
package importer
