# PetStore Auth — common tasks. `make run` starts the whole stack on SQLite;
# `make test` runs the linter (`make lint`) and every test (PostgreSQL too when
# PETSTORE_TEST_POSTGRES_DSN is set).
GO ?= go
# golangci-lint, pinned; `make lint` installs it into GOBIN when missing or
# at another version.
GOLANGCI_LINT_VERSION ?= v2.7.2
GOLANGCI_LINT ?= $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)/golangci-lint

.PHONY: run test lint lint-install vet fmt build fuzz bench

run:
	$(GO) run ./cmd/petstore-dev

test: lint
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# lint enforces the import rules of DESIGN §2 (depguard), the complexity
# budget (gocyclo), staticcheck and vet; see .golangci.yml.
lint: lint-install
	$(GOLANGCI_LINT) run ./...

lint-install:
	@$(GOLANGCI_LINT) version 2>/dev/null | grep -q "version $(GOLANGCI_LINT_VERSION:v%=%) " || \
	  $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

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
