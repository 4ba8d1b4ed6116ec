# syntax=docker/dockerfile:1
# Multi-stage build of the three programs as static binaries on a distroless,
# non-root base. Build: docker build -t petstore-auth .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go (SQLite through glebarez/sqlite): no cgo, fully static.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/petstore-auth ./cmd/petstore-api ./cmd/petstore-demo

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
COPY config/ /etc/petstore/
USER nonroot:nonroot
WORKDIR /home/nonroot
EXPOSE 8080 8081 8082
ENTRYPOINT ["/usr/local/bin/petstore-auth"]
CMD ["serve", "--config", "/etc/petstore/petstore-auth.yaml"]
