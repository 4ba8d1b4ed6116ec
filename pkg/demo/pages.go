package demo

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
)

// Pages holds MyApp's templates, parsed once at startup from
// templates/demo/ of an fs.FS. Each page is the shared layout plus one file.
type Pages struct {
	home    *template.Template
	message *template.Template
}

// LoadPages parses templates/demo/{layout,home,message}.html and fails
// naming every file that is missing or broken.
func LoadPages(fsys fs.FS) (*Pages, error) {
	layout, err := fs.ReadFile(fsys, "templates/demo/layout.html")
	if err != nil {
		return nil, fmt.Errorf("demo: templates: %w", err)
	}
	var errs []string
	parse := func(name string) *template.Template {
		p := "templates/demo/" + name + ".html"
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, err.Error())
			return nil
		}
		t, err := template.New("layout").Parse(string(layout))
		if err == nil {
			_, err = t.New(name).Parse(string(b))
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", p, err))
			return nil
		}
		return t
	}
	p := &Pages{home: parse("home"), message: parse("message")}
	if len(errs) > 0 {
		return nil, fmt.Errorf("demo: templates: %s", strings.Join(errs, "; "))
	}
	return p, nil
}

// homeData is what "/" shows.
type homeData struct {
	Connected bool
	Flash     *flash // a one-time message from the previous action
	Problem   *flash // what went wrong while loading this page
	Pets      []petView
	PetsKnown bool // the list was loaded (it may be empty)
	MorePets  bool
	Scopes    []scopeView
	CanWrite  bool
	CSRF      string
	// SignedIn: MyApp knows who the user is (OpenID Connect); Name is
	// their name (or email) from the ID token.
	SignedIn bool
	Name     string
}

// messageData is a page with one message: errors and outcomes of the
// OAuth callback.
type messageData struct {
	Kind    string // "problem" or "notice"; picks the colour and icon
	Title   string
	Text    string
	Detail  string // small print, e.g. the protocol error code
	Connect bool   // offer "Connect with PetStore" again
}

type petView struct {
	Name, Species, Initial, Kind, Added string
	Age                                 int
}

type scopeView struct {
	Name, Label string
}

// layoutData wraps a page's data with what the layout needs.
type layoutData struct {
	Title     string
	Connected bool
	Page      any
}

func (p *Pages) renderHome(w http.ResponseWriter, log *slog.Logger, d homeData) {
	title := "Pet Journal"
	render(w, log, p.home, http.StatusOK, layoutData{Title: title, Connected: d.Connected, Page: d})
}

func (p *Pages) renderMessage(w http.ResponseWriter, log *slog.Logger, status int, d messageData) {
	render(w, log, p.message, status, layoutData{Title: d.Title, Page: d})
}

// render buffers the page so that a template error becomes a clean 500
// instead of half a page.
func render(w http.ResponseWriter, log *slog.Logger, t *template.Template, status int, data layoutData) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		log.Error("render page", "err", err)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
