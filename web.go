// Package petstoreauth holds the files the programs serve — templates/ and
// static/ — embedded, so each binary runs from any directory. A web_dir
// setting (or --web-dir) reads them from disk instead, for editing
// templates without rebuilding.
package petstoreauth

import "embed"

// Web is the repository's templates/ and static/ directories, every file:
// "all:" keeps the partials whose names start with "_" (_shell.html …),
// which a plain pattern silently leaves out.
//
//go:embed all:templates all:static
var Web embed.FS
