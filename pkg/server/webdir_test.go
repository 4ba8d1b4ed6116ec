package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// TestWebDirTemplatesParsedAtStart: pages are parsed when first rendered,
// but templates edited on disk (web_dir) are all parsed at start, so that a
// broken edit stops the server instead of failing one page later.
func TestWebDirTemplatesParsedAtStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, webtest.Files()); err != nil {
		t.Fatal(err)
	}
	cfg := productionConfig(t)
	cfg.Dev, cfg.Issuer, cfg.WebDir = true, "http://127.0.0.1:8080", dir
	s, err := Open(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("intact web_dir refused: %v", err)
	}
	s.Close()

	if err := os.WriteFile(filepath.Join(dir, "templates", "admin", "audit.html"), []byte(`{{define "content"}}{{if}}{{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		s.Close()
		t.Fatal("a web_dir with a broken template was accepted")
	}
	if !strings.Contains(err.Error(), "templates/admin/audit.html") {
		t.Fatalf("error %q does not name the broken file", err)
	}
}
