package tlstest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert writes a self-signed certificate for 127.0.0.1 into a temporary
// directory and returns its files and a pool that trusts it. The key is
// RSA so that RSA key exchange and ECDHE-RSA CBC suites are possible at
// all: their refusal in CheckPolicy is then the server's policy.
func Cert(t testing.TB) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(certFile, "CERTIFICATE", der)
	write(keyFile, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
	return certFile, keyFile, pool
}

// Client is an HTTPS client that trusts pool.
func Client(pool *x509.CertPool) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
}

// hello is what a test client offers.
type hello struct {
	min, max uint16
	suites   []uint16
}

func handshake(addr string, pool *x509.CertPool, h hello) (tls.ConnectionState, error) {
	c := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: h.min, MaxVersion: h.max, CipherSuites: h.suites}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, c)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

// CheckPolicy runs the handshake table against the server at addr, which
// serves the certificate files of Cert: TLS 1.3 and TLS 1.2 with ECDHE AEAD
// suites succeed; TLS 1.0, 1.1, CBC suites and RSA key exchange are refused.
// Each refusal is checked against a lax control server first, so that a
// client unable to offer it cannot make the test pass.
func CheckPolicy(t *testing.T, addr, certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	lax := httptest.NewUnstartedServer(http.NotFoundHandler())
	lax.TLS = &tls.Config{MinVersion: tls.VersionTLS10, Certificates: []tls.Certificate{cert}, CipherSuites: []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	}}
	lax.StartTLS()
	defer lax.Close()

	for _, tc := range []struct {
		name string
		h    hello
		ok   bool
	}{
		{"TLS 1.3", hello{min: tls.VersionTLS13}, true},
		{"TLS 1.2 ECDHE-RSA-AES128-GCM", hello{max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}, true},
		{"TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305", hello{max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305}}, true},
		{"TLS 1.1", hello{min: tls.VersionTLS11, max: tls.VersionTLS11}, false},
		{"TLS 1.0", hello{min: tls.VersionTLS10, max: tls.VersionTLS10}, false},
		{"TLS 1.2 CBC suite", hello{max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}, false},
		{"TLS 1.2 RSA key exchange", hello{max: tls.VersionTLS12, suites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := handshake(addr, pool, tc.h)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("handshake refused: %v", err)
			case tc.ok && st.Version < tls.VersionTLS12:
				t.Fatalf("negotiated %s", tls.VersionName(st.Version))
			case !tc.ok && err == nil:
				t.Fatalf("handshake succeeded with %s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
			case !tc.ok:
				if _, err := handshake(lax.Listener.Addr().String(), pool, tc.h); err != nil {
					t.Skipf("this Go TLS client cannot offer it at all (%v): nothing to refuse", err)
				}
			}
		})
	}
}
