package httpkit

import (
	"net/http"
	"net/http/pprof"
)

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
