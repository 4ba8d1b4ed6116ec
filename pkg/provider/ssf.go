package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// The security event transmitter: revocations reach resource servers as
// Security Event Tokens (RFC 8417) on OpenID Shared Signals 1.0 streams
// with poll-based delivery (RFC 8936). Each receiver (an API replica)
// creates its own stream, so every replica gets every event; a stream's
// events wait until acknowledged or until the stream has been idle for
// store.StreamIdleLimit. Only resource-server clients (those allowed to
// introspect) may create and poll streams, with the credentials they
// introspect with (HTTP Basic).

// Poll delivery constants.
const (
	// DeliveryPoll is the SSF delivery method of RFC 8936.
	DeliveryPoll = "urn:ietf:rfc:8936"
	// setType is the SET's JOSE typ (RFC 8417 §2.3).
	setType = "secevent+jwt"
	// longPollWait is how long a poll with returnImmediately false is
	// held when no event is waiting (bounded by the request deadline).
	longPollWait = 25 * time.Second
	// crossReplicaPoll is how often a held poll looks for events committed
	// by another replica; this replica's wake it at once.
	crossReplicaPoll = 250 * time.Millisecond
	// maxPollEvents bounds maxEvents; maxPollAcks bounds ack + setErrs.
	maxPollEvents = 100
	maxPollAcks   = 1000
	// maxStreamsPerClient bounds the streams one resource server may hold.
	maxStreamsPerClient = 64
	// maxSSFBody bounds the JSON bodies of the stream endpoints.
	maxSSFBody = 256 << 10
)

// SSF paths.
const (
	ssfConfigurationPath = "/ssf/streams"
	ssfPollPath          = "/ssf/poll/"
)

// pollRequest is the RFC 8936 §2.4 request body.
type pollRequest struct {
	MaxEvents         *int                       `json:"maxEvents"`
	ReturnImmediately bool                       `json:"returnImmediately"`
	Ack               []string                   `json:"ack"`
	SetErrs           map[string]json.RawMessage `json:"setErrs"`
}

// pollResponse is the RFC 8936 §2.5 answer: SETs by jti.
type pollResponse struct {
	Sets          map[string]string `json:"sets"`
	MoreAvailable bool              `json:"moreAvailable"`
}

// streamConfig is the SSF 1.0 §8.1.1 stream configuration.
type streamConfig struct {
	StreamID        string         `json:"stream_id"`
	Issuer          string         `json:"iss"`
	Audience        string         `json:"aud"`
	Delivery        streamDelivery `json:"delivery"`
	EventsSupported []string       `json:"events_supported"`
	EventsRequested []string       `json:"events_requested"`
	EventsDelivered []string       `json:"events_delivered"`
}

type streamDelivery struct {
	Method      string `json:"method"`
	EndpointURL string `json:"endpoint_url,omitempty"`
}

// eventsSupported are the event types this transmitter sends.
var eventsSupported = []string{identity.EventCredentialChange}

func (p *Provider) mountSSF(r *mux.Router) {
	r.HandleFunc("/.well-known/ssf-configuration", p.handleSSFConfiguration).Methods(http.MethodGet)
	r.HandleFunc(ssfConfigurationPath, p.handleCreateStream).Methods(http.MethodPost)
	r.HandleFunc(ssfConfigurationPath, p.handleDeleteStream).Methods(http.MethodDelete)
	r.HandleFunc(ssfPollPath+"{stream_id}", p.handlePoll).Methods(http.MethodPost)
}

// handleSSFConfiguration is the transmitter configuration metadata (SSF
// 1.0 §7.1).
func (p *Provider) handleSSFConfiguration(w http.ResponseWriter, _ *http.Request) {
	httpx.JSON(w, http.StatusOK, map[string]any{
		"spec_version":               "1_0",
		"issuer":                     p.Issuer,
		"jwks_uri":                   p.Issuer + "/.well-known/jwks.json",
		"delivery_methods_supported": []string{DeliveryPoll},
		"configuration_endpoint":     p.Issuer + ssfConfigurationPath,
		"authorization_schemes":      []map[string]string{{"spec_urn": "urn:ietf:rfc:6749"}},
	})
}

// ssfClient authenticates a resource server and returns its client id.
func (p *Provider) ssfClient(r *http.Request) (string, error) {
	if err := p.authenticateResourceServer(r, "ssf.denied", "This client may not receive security events."); err != nil {
		return "", err
	}
	return clientIDOf(r), nil
}

// decodeSSFBody reads a JSON object into out; an empty body leaves out
// as it is.
func decodeSSFBody(r *http.Request, out any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxSSFBody))
	if err != nil {
		return oauthError(http.StatusBadRequest, "invalid_request", "The request body could not be read or is too large.")
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return oauthError(http.StatusBadRequest, "invalid_request", "The request body is not a valid JSON object of this endpoint.")
	}
	return nil
}

// handleCreateStream creates a stream for the calling resource server
// (SSF 1.0 §8.1.1.1). Only poll delivery is offered.
func (p *Provider) handleCreateStream(w http.ResponseWriter, r *http.Request) {
	cfg, err := p.createStream(r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusCreated, cfg)
}

func (p *Provider) createStream(r *http.Request) (*streamConfig, error) {
	clientID, err := p.ssfClient(r)
	if err != nil {
		return nil, err
	}
	var in struct {
		Delivery        streamDelivery `json:"delivery"`
		EventsRequested []string       `json:"events_requested"`
	}
	if err := decodeSSFBody(r, &in); err != nil {
		return nil, err
	}
	if in.Delivery.Method != "" && in.Delivery.Method != DeliveryPoll {
		return nil, oauthError(http.StatusBadRequest, "invalid_request", "Only poll delivery ("+DeliveryPoll+") is supported.")
	}
	delivered := deliveredEvents(in.EventsRequested)
	if len(delivered) == 0 {
		return nil, oauthError(http.StatusBadRequest, "invalid_request", "None of events_requested is supported; see events_supported.")
	}
	id, err := p.store.CreateStream(r.Context(), clientID, maxStreamsPerClient)
	if identity.ErrorCode(err) == identity.EINVALID {
		return nil, oauthError(http.StatusConflict, "invalid_request", identity.ErrorMessage(err))
	}
	if err != nil {
		return nil, unavailable("The stream could not be created; retry.", err)
	}
	return &streamConfig{StreamID: id, Issuer: p.Issuer, Audience: clientID,
		Delivery:        streamDelivery{Method: DeliveryPoll, EndpointURL: p.Issuer + ssfPollPath + id},
		EventsSupported: eventsSupported, EventsRequested: in.EventsRequested, EventsDelivered: delivered}, nil
}

// deliveredEvents is SSF 1.0 §8.1.1's events_delivered: the supported
// events among those requested; all of them when the receiver names none.
func deliveredEvents(requested []string) []string {
	if len(requested) == 0 {
		return eventsSupported
	}
	var out []string
	for _, e := range eventsSupported {
		if slices.Contains(requested, e) {
			out = append(out, e)
		}
	}
	return out
}

// handleDeleteStream deletes one of the caller's streams with its events
// (SSF 1.0 §8.1.1.5: DELETE on the configuration endpoint, ?stream_id=).
func (p *Provider) handleDeleteStream(w http.ResponseWriter, r *http.Request) {
	err := p.deleteStream(r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *Provider) deleteStream(r *http.Request) error {
	clientID, err := p.ssfClient(r)
	if err != nil {
		return err
	}
	id := r.URL.Query().Get("stream_id")
	if id == "" {
		return oauthError(http.StatusBadRequest, "invalid_request", "stream_id is required.")
	}
	err = p.store.DeleteStream(r.Context(), clientID, id)
	return streamError(err)
}

// streamError turns a store error about a stream into the answer.
func streamError(err error) error {
	switch {
	case err == nil:
		return nil
	case identity.ErrorCode(err) == identity.ENOTFOUND:
		return oauthError(http.StatusNotFound, "invalid_request", "No such stream for this client.")
	default:
		return unavailable("The stream is unavailable; retry.", err)
	}
}

// handlePoll is RFC 8936 §2.4: acknowledge what the receiver processed,
// then answer the waiting SETs, holding the request up to longPollWait
// when none is waiting and returnImmediately is false.
func (p *Provider) handlePoll(w http.ResponseWriter, r *http.Request) {
	out, err := p.poll(r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, out)
}

func (p *Provider) poll(r *http.Request) (*pollResponse, error) {
	ctx := r.Context()
	clientID, err := p.ssfClient(r)
	if err != nil {
		return nil, err
	}
	in, max, err := readPollRequest(r)
	if err != nil {
		return nil, err
	}
	done := in.Ack
	for jti, e := range in.SetErrs {
		// RFC 8936 §2.4.4: the receiver could not process it; it is not
		// sent again. What the receiver wrote is logged cut short.
		httpx.Logger(ctx).Warn("security event refused by its receiver", "client_id", clientID,
			"jti", truncate(jti, 64), "error", truncate(string(e), 256))
		done = append(done, jti)
	}
	streamID := mux.Vars(r)["stream_id"]
	if err := streamError(p.store.AckStream(ctx, clientID, streamID, done)); err != nil {
		return nil, err
	}
	events, more, err := p.waitEvents(ctx, streamID, max, in.ReturnImmediately || max == 0)
	if err != nil {
		return nil, err
	}
	out := &pollResponse{Sets: make(map[string]string, len(events)), MoreAvailable: more}
	for _, e := range events {
		set, err := p.signSET(ctx, clientID, e)
		if err != nil {
			return nil, unavailable("The events could not be signed; retry.", err)
		}
		out.Sets[e.JTI] = set
	}
	return out, nil
}

// readPollRequest reads and bounds the RFC 8936 §2.4 request; max is
// maxEvents, maxPollEvents when absent.
func readPollRequest(r *http.Request) (pollRequest, int, error) {
	var in pollRequest
	if err := decodeSSFBody(r, &in); err != nil {
		return in, 0, err
	}
	max := maxPollEvents
	if in.MaxEvents != nil {
		max = *in.MaxEvents
	}
	if max < 0 || max > maxPollEvents || len(in.Ack)+len(in.SetErrs) > maxPollAcks {
		return in, 0, oauthError(http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("maxEvents must be 0 to %d, and ack with setErrs at most %d entries.", maxPollEvents, maxPollAcks))
	}
	return in, max, nil
}

// waitEvents returns the events waiting on the stream, waiting for some
// unless immediately: woken at once by this process's commits, looking
// every crossReplicaPoll for other replicas', until longPollWait or just
// before the request's deadline. Waiting out is an empty answer.
func (p *Provider) waitEvents(ctx context.Context, streamID string, max int, immediately bool) ([]identity.StreamEvent, bool, error) {
	wait := longPollWait
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d)-time.Second)
	}
	timeout := time.NewTimer(max1(wait))
	defer timeout.Stop()
	tick := time.NewTicker(crossReplicaPoll)
	defer tick.Stop()
	for {
		changed := p.store.EventsChanged() // before the read, so no commit is missed
		events, more, err := p.store.StreamEvents(ctx, streamID, max)
		if err != nil {
			if ctx.Err() != nil {
				return nil, false, nil // the receiver hung up, or the deadline
			}
			return nil, false, unavailable("The stream is unavailable; retry.", err)
		}
		if len(events) > 0 || immediately {
			return events, more, nil
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-timeout.C:
			return nil, false, nil
		case <-ctx.Done():
			return nil, false, nil
		case <-p.polls:
			return nil, false, nil
		}
	}
}

// ReleasePolls answers every held event poll at once, empty, and every
// later one without waiting: for http.Server.RegisterOnShutdown, so a
// graceful stop does not wait out receivers' long polls (they poll the
// next replica, or this one again when it is back).
func (p *Provider) ReleasePolls() { p.releasePoll.Do(func() { close(p.polls) }) }

// max1 keeps a wait positive.
func max1(d time.Duration) time.Duration { return max(d, time.Millisecond) }

// signSET signs a stored event as a SET for the stream's receiver: the
// event's claims plus iss, aud and jti (RFC 8417 §2.2), with the current
// ES256 key and typ secevent+jwt.
func (p *Provider) signSET(ctx context.Context, clientID string, e identity.StreamEvent) (string, error) {
	var claims map[string]any
	if err := json.Unmarshal(e.Event, &claims); err != nil {
		return "", fmt.Errorf("decode stored event %s: %w", e.JTI, err)
	}
	claims["iss"], claims["aud"], claims["jti"] = p.Issuer, clientID, e.JTI
	if sub, ok := claims["sub_id"].(map[string]any); ok && sub["format"] == identity.SubjectJWTID {
		sub["iss"] = p.Issuer // the JWT's issuer is ours
	}
	key, err := p.strategy.jwt.signingKey(ctx, string(jose.ES256))
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType(setType).WithHeader("kid", key.KeyID))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
