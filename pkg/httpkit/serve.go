package httpkit

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// TLSFiles names a certificate and key to serve HTTPS with; empty serves
// plain HTTP.
type TLSFiles struct{ CertFile, KeyFile string }

// Serve runs srv on ln until ctx is done, then stops accepting and drains
// in-flight requests for up to drain. It returns nil after a clean
// shutdown, the serve error otherwise.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, tls TLSFiles, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		if tls.CertFile != "" {
			errc <- srv.ServeTLS(ln, tls.CertFile, tls.KeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
