package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
)

// tlsFiles names the certificate and key the API serves HTTPS with.
type tlsFiles struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

func (t tlsFiles) enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// transportProblems: production (dev off) needs TLS, and an https issuer
// unless the authorization server is on the same machine; the API's client
// secret and users' tokens travel to it.
func (c config) transportProblems() []error {
	var errs []error
	if c.TLS.enabled() && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		errs = append(errs, fmt.Errorf("tls: both cert_file and key_file are required"))
	}
	if c.Dev {
		return errs
	}
	if !c.TLS.enabled() && len(c.TrustedProxies) == 0 {
		errs = append(errs, fmt.Errorf("tls: production needs tls.cert_file and tls.key_file, or trusted_proxies naming the proxy that terminates TLS (set dev: true only for local development)"))
	}
	if u, err := url.Parse(c.Issuer); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		errs = append(errs, fmt.Errorf("issuer: %q is plain http on a non-loopback host; production needs https", c.Issuer))
	}
	return errs
}

// tlsConfig is the same policy as petstore-auth's (pkg/server.HTTPServer,
// which the resource server must not import): TLS 1.2+, and for 1.2 only
// forward-secret AEAD suites; the 1.3 suites are fixed.
func tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,
		},
	}
}

// plainHTTPWarnings lists what development mode lets through that
// production refuses.
func (c config) plainHTTPWarnings() []string {
	var out []string
	if host, _, err := net.SplitHostPort(c.Listen); err == nil && !c.TLS.enabled() && !isLoopback(host) {
		out = append(out, "plain HTTP on a non-loopback address: bearer tokens and API keys cross the network unencrypted")
	}
	if u, err := url.Parse(c.Issuer); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		out = append(out, "the issuer is plain http on a non-loopback host: the API's client secret and users' tokens cross the network unencrypted")
	}
	return out
}
