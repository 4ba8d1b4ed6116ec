# PetStore Auth — common tasks. `make run` starts the whole stack on SQLite;
# `make test` runs every test (PostgreSQL too when PETSTORE_TEST_POSTGRES_DSN is set).
GO ?= go

.PHONY: run test vet fmt build fuzz bench

run:
	$(GO) run ./cmd/petstore-dev

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

fmt:
	gofmt -l -w cmd pkg

FUZZTIME ?= 2m
fuzz:
	@$(GO) list -f '{{.ImportPath}}' ./... | while read pkg; do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./pkg/...
