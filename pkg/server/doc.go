// Package server assembles petstore-auth from its parts — store, provider,
// pages, admin — into one http.Handler with health, readiness and metrics,
// and runs it with production timeouts and graceful shutdown. The command
// and the end-to-end tests both start the server through it.
package server
