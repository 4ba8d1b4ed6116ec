package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeGroupDB records the groups a groupInsert writes. A group holding a
// row "bad" fails as a whole, as a failed statement does; hold, when set,
// keeps the first len(hold) statements in flight until it is closed.
type fakeGroupDB struct {
	mu       sync.Mutex
	groups   [][]string
	written  []string
	inFlight chan struct{}
	hold     chan struct{}
}

func (f *fakeGroupDB) exec(_ context.Context, rows [][]any) error {
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r[0].(string)
	}
	f.mu.Lock()
	f.groups = append(f.groups, names)
	first := len(f.groups) <= groupWriters
	f.mu.Unlock()
	if f.hold != nil && first {
		f.inFlight <- struct{}{}
		<-f.hold
	}
	if slices.Contains(names, "bad") {
		return errors.New("duplicate key")
	}
	f.mu.Lock()
	f.written = append(f.written, names...)
	f.mu.Unlock()
	time.Sleep(time.Duration(rand.IntN(50)) * time.Microsecond)
	return nil
}

// queued waits until n rows wait in g's queue.
func queued(t *testing.T, g *groupInsert, n int) {
	t.Helper()
	for range 2000 {
		g.mu.Lock()
		l := len(g.queue)
		g.mu.Unlock()
		if l >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("rows never queued up (want %d)", n)
}

// TestGroupInsertCombinesWaitingRows: rows that arrive while every writer
// has a statement in flight go out together in the next statements, each
// once, and every caller learns its own row's outcome — the bad row alone
// fails, and a caller whose context ended while queued gets its error
// and nothing of it is written.
func TestGroupInsertCombinesWaitingRows(t *testing.T) {
	f := &fakeGroupDB{inFlight: make(chan struct{}, groupWriters), hold: make(chan struct{})}
	g := &groupInsert{exec: f.exec}
	var wg sync.WaitGroup
	results := sync.Map{}
	send := func(ctx context.Context, name string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results.Store(name, g.insert(ctx, []any{name}))
		}()
	}
	for i := range groupWriters {
		send(context.Background(), fmt.Sprintf("first-%d", i))
		<-f.inFlight
	}
	const waiting = 10
	for i := range waiting {
		send(context.Background(), fmt.Sprintf("row-%d", i))
	}
	send(context.Background(), "bad")
	gone, cancel := context.WithCancel(context.Background())
	send(gone, "gone")
	queued(t, g, waiting+2)
	cancel()
	close(f.hold)
	wg.Wait()

	if len(f.groups) > groupWriters+1+waiting+1 {
		t.Errorf("statements: %v", f.groups)
	}
	if grouped := len(f.groups[groupWriters]); grouped < waiting {
		t.Errorf("the first statement after the held ones wrote %d rows, want the %d+ that waited (groups %v)", grouped, waiting, f.groups)
	}
	results.Range(func(k, v any) bool {
		name := k.(string)
		err, _ := v.(error)
		switch name {
		case "bad":
			if err == nil {
				t.Error("bad row: no error")
			}
		case "gone":
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled row: err %v, want context.Canceled", err)
			}
		default:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		return true
	})
	slices.Sort(f.written)
	var want []string
	for i := range groupWriters {
		want = append(want, fmt.Sprintf("first-%d", i))
	}
	for i := range waiting {
		want = append(want, fmt.Sprintf("row-%d", i))
	}
	slices.Sort(want)
	if !slices.Equal(f.written, want) {
		t.Errorf("written %v, want each good row once: %v", f.written, want)
	}
	if g.writers != 0 || len(g.queue) != 0 {
		t.Errorf("after the burst: %d writers, %d queued; want 0, 0", g.writers, len(g.queue))
	}
}

// TestGroupInsertManyCallers: under a crowd of callers every row is
// written exactly once and every caller returns its own result — no
// caller is left waiting, none receives another's outcome.
func TestGroupInsertManyCallers(t *testing.T) {
	f := &fakeGroupDB{}
	g := &groupInsert{exec: f.exec}
	const callers = 400
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("row-%03d", i)
			if i%97 == 0 {
				name = "bad"
			}
			errs[i] = g.insert(context.Background(), []any{name})
		}()
	}
	wg.Wait()
	want := []string{}
	for i, err := range errs {
		if i%97 == 0 {
			if err == nil {
				t.Errorf("caller %d (bad row): no error", i)
			}
			continue
		}
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
		want = append(want, fmt.Sprintf("row-%03d", i))
	}
	slices.Sort(f.written)
	if !slices.Equal(f.written, want) {
		t.Errorf("written %d rows, want %d, each once", len(f.written), len(want))
	}
	if g.writers != 0 || len(g.queue) != 0 {
		t.Errorf("after the crowd: %d writers, %d queued; want 0, 0", g.writers, len(g.queue))
	}
}
