package petstoreauth

import (
	"io/fs"
	"os"
	"testing"
)

// TestWebEmbedsEveryFile: every file under templates/ and static/ on disk
// is in the embedded FS the binaries serve, byte for byte. A plain
// //go:embed pattern silently drops names starting with "_" or "." (the
// admin partials were missing from the shipped binaries that way).
func TestWebEmbedsEveryFile(t *testing.T) {
	disk := os.DirFS(".")
	n := 0
	for _, root := range []string{"templates", "static"} {
		err := fs.WalkDir(disk, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			n++
			want, err := fs.ReadFile(disk, p)
			if err != nil {
				return err
			}
			got, err := fs.ReadFile(Web, p)
			if err != nil {
				t.Errorf("%s is on disk but not embedded in the binaries: %v", p, err)
			} else if string(got) != string(want) {
				t.Errorf("%s differs between disk and the embedded copy", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("no files found under templates/ and static/")
	}
}
