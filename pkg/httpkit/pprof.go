package httpkit

import (
	"net/http"
	"net/http/pprof"
	"time"
)

// MetricsServer serves h at /metrics and nothing else, for a listener of
// its own (metrics_listen): scrapers reach it, the public does not. With
// pprof it also serves Go's runtime profiles under /debug/pprof/
// (HandlePprof); a CPU profile must ask for fewer seconds than the 30 s
// write timeout. Used by petstore-auth and petstore-api alike.
func MetricsServer(h http.Handler, pprof bool) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	if pprof {
		HandlePprof(mux)
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10}
}

// HandlePprof registers Go's runtime profiles (net/http/pprof) under
// /debug/pprof/ on mux: the index, cmdline, profile (CPU, ?seconds=N),
// symbol, trace and every named profile (heap, goroutine, allocs, …). Call
// it only for a listener the public cannot reach (the metrics listener),
// and only when the operator switched profiling on.
func HandlePprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
