package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// BenchmarkAccessTokenInsert stores access tokens from 8 goroutines per
// CPU outside a transaction, grouped (as served) and one statement each,
// on PostgreSQL (PETSTORE_TEST_POSTGRES_DSN) — what client_credentials
// costs the database. Reports the database's CPU per token (pg-cpu-ns/op)
// beside ns/op when the PostgreSQL processes are on this machine.
func BenchmarkAccessTokenInsert(b *testing.B) {
	dsn := os.Getenv("PETSTORE_TEST_POSTGRES_DSN")
	if dsn == "" {
		b.Skip("PETSTORE_TEST_POSTGRES_DSN not set")
	}
	ctx := context.Background()
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.MigrateUp(ctx); err != nil {
		b.Fatal(err)
	}
	client := &identity.Client{ID: "bench-insert", Name: "bench", GrantTypes: []string{identity.GrantClientCredentials}}
	if _, err := s.GetClient(ctx, client.ID); err != nil {
		if err := s.CreateClient(ctx, client); err != nil {
			b.Fatal(err)
		}
	}
	fc, err := s.GetClient(ctx, client.ID)
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	for _, grouped := range []bool{true, false} {
		b.Run(fmt.Sprintf("grouped=%v", grouped), func(b *testing.B) {
			b.SetParallelism(8)
			t0 := postgresTicks()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					sig := fmt.Sprintf("bench-%s-%d", run, n.Add(1))
					req := fosite.NewRequest()
					req.ID, req.Client, req.RequestedAt = sig, fc, time.Now()
					req.Session = &fosite.DefaultSession{Subject: "bench"}
					row, err := s.newRequestRow(sig, req, fosite.AccessToken)
					if err != nil {
						b.Error(err)
						return
					}
					args := append(row.fields(), nil)
					if grouped {
						err = s.accessInserts.insert(ctx, args)
					} else {
						_, err = s.execHot(ctx, insertAccessRow, args...)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(postgresTicks()-t0)*1e7/float64(b.N), "pg-cpu-ns/op")
		})
	}
}

// postgresTicks is the CPU time, in clock ticks (10 ms), of every process
// named postgres on this machine.
func postgresTicks() int64 {
	var t int64
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		comm, err := os.ReadFile("/proc/" + d.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		var u, s int64
		fmt.Sscan(f[11], &u)
		fmt.Sscan(f[12], &s)
		t += u + s
	}
	return t
}
