// Package petstoreauth holds the files the programs serve — templates/ and
// static/ — embedded, so each binary runs from any directory. A web_dir
// setting (or --web-dir) reads them from disk instead, for editing
// templates without rebuilding.
package petstoreauth

import "embed"

// Web is the repository's templates/ and static/ directories.
//
//go:embed templates static
var Web embed.FS
