package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
)

// Devices is the provider's side of the device authorization grant (RFC
// 8628 §3.3): the request behind a user code, and the user's decision.
// (*provider.Provider) satisfies it.
type Devices interface {
	LookupUserCode(ctx context.Context, typed string) (*provider.DeviceRequest, error)
	DecideUserCode(ctx context.Context, typed, userID, grantID string, granted []string, approve bool) error
}

// DeviceCodePerAddress bounds wrong user codes from one address (RFC 8628
// §5.1): 10 free, then a wait of 1 minute doubling up to 10 minutes;
// forgotten 10 minutes after the last wrong code. A user code has 34.5 bits
// and lives 10 minutes, so guessing one at this pace is hopeless.
var DeviceCodePerAddress = ratelimit.Backoff{Free: 10, Base: time.Minute, Max: 10 * time.Minute, Forget: 10 * time.Minute}

// devicePage is the data of templates/device.html. Mode is "enter" (type
// the code), "confirm" (allow or deny) or "done".
type devicePage struct {
	Mode       string
	UserCode   string
	Error      string
	ClientName string
	Device     string // the device, in plain words
	Email      string
	Scopes     []identity.ScopeInfo
	Approved   bool
}

// handleDevice serves GET /device (the verification_uri; with ?user_code=
// from verification_uri_complete or the entry form): no code, the entry
// form; a valid code, sign-in first and then the confirmation; a wrong
// one, the form again with an error, throttled per address.
func (h *Handler) handleDevice(w http.ResponseWriter, r *http.Request) {
	typed := r.URL.Query().Get("user_code")
	if typed == "" {
		h.UI.Render(w, r, http.StatusOK, "device", devicePage{Mode: "enter"})
		return
	}
	req, ok := h.lookupUserCode(w, r, typed)
	if !ok {
		return
	}
	u, err := h.currentUser(w, r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if u == nil {
		http.Redirect(w, r, "/login?return_to="+url.QueryEscape(devicePath(req.UserCode)), http.StatusSeeOther)
		return
	}
	p := devicePage{Mode: "confirm", UserCode: req.UserCode, ClientName: h.clientName(r, req.ClientID),
		Device: deviceWords(req), Email: u.Email}
	for _, s := range req.Scopes {
		if info, ok := identity.LookupScope(s); ok {
			p.Scopes = append(p.Scopes, info)
		}
	}
	h.UI.Render(w, r, http.StatusOK, "device", p)
}

func devicePath(userCode string) string {
	return provider.DevicePath + "?user_code=" + url.QueryEscape(userCode)
}

// deviceWords describes the device that asked: its address and the name
// its software gave.
func deviceWords(req *provider.DeviceRequest) string {
	agent := strings.TrimSpace(req.DeviceUserAgent)
	if len(agent) > 80 {
		agent = agent[:80] + "…"
	}
	switch {
	case agent != "" && req.DeviceAddress != "":
		return fmt.Sprintf("a device at network address %s that calls itself “%s”", req.DeviceAddress, agent)
	case req.DeviceAddress != "":
		return "a device at network address " + req.DeviceAddress
	}
	return "a device that did not say what it is"
}

// lookupUserCode finds the pending request of a typed code. Every lookup
// is charged to the address in advance (parallel guesses all count) and
// refunded when the code is right; over DeviceCodePerAddress the page
// says how long to wait. Wrong codes are audited, which gives their total.
func (h *Handler) lookupUserCode(w http.ResponseWriter, r *http.Request, typed string) (*provider.DeviceRequest, bool) {
	ctx := r.Context()
	key := "device:addr:" + clientaddr.Bucket(r)
	charged := true
	ok, retry, err := h.Throttle.Charge(ctx, key, DeviceCodePerAddress)
	switch {
	case err != nil:
		h.log(ctx).Error("device code throttle", "err", err)
		charged = false // fail open: the code space still protects
	case !ok:
		w.Header().Set("Retry-After", fmt.Sprint(int(max(retry, time.Second).Seconds())))
		h.UI.Render(w, r, http.StatusTooManyRequests, "device", devicePage{Mode: "enter",
			Error: "Too many wrong codes from your network. Wait " + waitText(retry) + " and try again."})
		return nil, false
	}
	req, err := h.Devices.LookupUserCode(ctx, typed)
	if identity.IsNotFound(err) {
		h.audit(r, identity.AuditEvent{Type: identity.EventDeviceCodeRejected, Outcome: "failure"})
		h.UI.Render(w, r, http.StatusBadRequest, "device", devicePage{Mode: "enter", UserCode: truncate(typed, 20), Error: identity.ErrorMessage(err)})
		return nil, false
	} else if err != nil {
		h.internalError(w, r, err)
		return nil, false
	}
	if charged {
		if err := h.Throttle.Refund(ctx, key); err != nil {
			h.log(ctx).Error("device code throttle", "err", err)
		}
	}
	return req, true
}

// handleDeviceDecision serves POST /device (CSRF-protected): the signed-in
// user allows, with the ticked scopes, or denies the device's request.
// Allowing records a grant, so the device's tokens are revocable from the
// account page like any app's.
func (h *Handler) handleDeviceDecision(w http.ResponseWriter, r *http.Request) {
	typed := r.PostForm.Get("user_code")
	u, err := h.currentUser(w, r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if u == nil {
		http.Redirect(w, r, "/login?return_to="+url.QueryEscape(devicePath(typed)), http.StatusSeeOther)
		return
	}
	req, ok := h.lookupUserCode(w, r, typed)
	if !ok {
		return
	}
	var granted []string
	for _, s := range req.Scopes {
		if slices.Contains(r.PostForm["scope"], s) {
			granted = append(granted, s)
		}
	}
	approve := r.PostForm.Get("decision") == "allow" && (len(req.Scopes) == 0 || len(granted) > 0)
	details := map[string]string{"scopes": strings.Join(granted, " "), "device": truncate(req.DeviceUserAgent, 100), "device_address": req.DeviceAddress}
	grantID := ""
	if approve {
		g, err := h.Grants.UpsertGrant(r.Context(), u.ID, req.ClientID, granted, false)
		if err != nil {
			h.internalError(w, r, err)
			return
		}
		grantID, details["grant_id"] = g.ID, g.ID
	}
	if err := h.Devices.DecideUserCode(r.Context(), typed, u.ID, grantID, granted, approve); identity.IsNotFound(err) {
		h.UI.Render(w, r, http.StatusConflict, "device", devicePage{Mode: "enter", Error: identity.ErrorMessage(err)})
		return
	} else if err != nil {
		h.internalError(w, r, err)
		return
	}
	event := identity.AuditEvent{Type: identity.EventDeviceApproved, UserID: u.ID, ClientID: req.ClientID, Details: details}
	if !approve {
		event.Type, event.Outcome = identity.EventDeviceDenied, "failure"
	}
	h.audit(r, event)
	h.UI.Render(w, r, http.StatusOK, "device", devicePage{Mode: "done", Approved: approve, ClientName: h.clientName(r, req.ClientID)})
}
