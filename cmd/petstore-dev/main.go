// Command petstore-dev runs the whole PetStore stack on this machine with
// nothing installed: the authorization server, the PetStore API and the
// "MyApp" demo, on loopback ports, with SQLite files in ./data, migrations
// applied and demo data seeded (idempotently: running it again reuses the
// data). It prints the URLs to open and the demo credentials. Ctrl-C stops
// everything cleanly.
//
// It is for trying PetStore Auth out; production runs the three programs
// (petstore-auth serve, petstore-api, petstore-demo) separately.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.AuthAddr, "auth-addr", "127.0.0.1:8080", "authorization server address")
	flag.StringVar(&o.APIAddr, "api-addr", "127.0.0.1:8081", "PetStore API address")
	flag.StringVar(&o.DemoAddr, "demo-addr", "127.0.0.1:8082", "MyApp demo address")
	flag.StringVar(&o.DataDir, "data", "data", "folder for the SQLite databases and generated secrets")
	flag.DurationVar(&o.AccessTokenLifespan, "access-token-lifespan", 15*time.Minute, "access token lifetime (shorten it to watch MyApp refresh)")
	verbose := flag.Bool("v", false, "log every request")
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	s, err := start(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "petstore-dev:", err)
		os.Exit(1)
	}
	s.printWelcome(os.Stdout)
	<-ctx.Done()
	fmt.Println("\nStopping…")
	if err := s.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "petstore-dev:", err)
		os.Exit(1)
	}
	fmt.Println("Stopped. Your data is kept in", o.DataDir)
}
