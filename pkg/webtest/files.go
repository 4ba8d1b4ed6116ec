package webtest

import (
	"io/fs"

	petstoreauth "github.com/petstore-auth/petstore-auth"
)

// Files returns the templates and static files embedded in the binaries:
// tests render pages from exactly what users run, never from the working
// tree (a file the embed pattern leaves out must fail a test).
func Files() fs.FS { return petstoreauth.Web }
