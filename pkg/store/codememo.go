package store

import (
	"context"
	"fmt"
	"reflect"

	"github.com/ory/fosite"
)

// The code exchange reads its code's row four times: fosite's code handler
// when it validates the request and again when it issues the tokens, then
// the PKCE and OpenID Connect requests, which are the same row
// (pkg/provider/code_row.go). Within one token request the row does not
// change except by the redemption's own conditional update, so a request
// that carries a codeMemo (WithCodeMemo) reads it once. The conditional
// update still decides, against the database, whether the code was
// unused: the memo saves reads, never the check.

// codeMemo is one request's copy of the code row it redeems.
type codeMemo struct {
	sig string
	row *requestRow
	// session is the session the row's was last decoded into: fosite
	// hands the same one back at its later reads, and what the caller
	// changed in it since (the tokens' expiry, their DPoP binding) stays.
	session fosite.Session
}

type codeMemoKey struct{}

// WithCodeMemo returns ctx in which GetAuthorizeCodeSession reads a code's
// row from the database once and answers later reads of the same code
// from memory, until InvalidateAuthorizeCodeSession marks it used. Give it
// only to one token request's successful path: after a failure, read
// afresh (another request may have redeemed the code since).
func (s *Store) WithCodeMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, codeMemoKey{}, &codeMemo{})
}

var (
	insertCodeRow = hot(tableCodes, "INSERT INTO "+tableCodes+" ("+requestColumns+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	useCodeRow    = hot(tableCodes, "UPDATE "+tableCodes+" SET active = ? WHERE signature = ? AND active = ?")
)

// codeRow is the row of the code with signature sig, from ctx's memo when
// it holds that code.
func (s *Store) codeRow(ctx context.Context, sig string) (*requestRow, *codeMemo, error) {
	m, _ := ctx.Value(codeMemoKey{}).(*codeMemo)
	if m != nil && m.sig == sig && m.row != nil {
		return m.row, m, nil
	}
	row, err := s.getRequestRow(ctx, tableCodes, sig)
	if err != nil || m == nil {
		return row, nil, err
	}
	*m = codeMemo{sig: sig, row: row}
	return row, m, nil
}

// codeRequest is the request of row with its session decoded into
// session, unless the memo m says session holds it already.
func (s *Store) codeRequest(ctx context.Context, row *requestRow, m *codeMemo, session fosite.Session) (*fosite.Request, error) {
	if m == nil || session == nil || !samePointer(m.session, session) {
		req, err := s.toRequest(ctx, row, session)
		if m != nil && err == nil {
			m.session = req.Session
		}
		return req, err
	}
	client, err := s.GetClient(ctx, row.ClientID)
	if err != nil {
		return nil, err
	}
	return requestOf(row, client, session)
}

// samePointer reports whether a and b are the same pointer (sessions are
// pointers; anything else is never the same).
func samePointer(a, b fosite.Session) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Kind() == reflect.Pointer && vb.Kind() == reflect.Pointer && va.Pointer() == vb.Pointer() && va.Type() == vb.Type()
}

// codeUsed records in ctx's memo that the code with signature sig was
// redeemed, as the database now says.
func codeUsed(ctx context.Context, sig string) {
	if m, _ := ctx.Value(codeMemoKey{}).(*codeMemo); m != nil && m.sig == sig && m.row != nil {
		used := *m.row
		used.Active = false
		m.row = &used
	}
}

// CreateAuthorizeCodeSession stores the authorize request under the code's
// signature.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, signature string, req fosite.Requester) error {
	row, err := s.newRequestRow(signature, req, fosite.AuthorizeCode)
	if err != nil {
		return err
	}
	if _, err := s.execHot(ctx, insertCodeRow, row.fields()...); err != nil {
		return fmt.Errorf("store: create %s row: %w", tableCodes, err)
	}
	return nil
}

// GetAuthorizeCodeSession returns the request of a code. An invalidated code
// returns the request together with fosite.ErrInvalidatedAuthorizeCode, so
// fosite can revoke what the first redemption issued.
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	row, m, err := s.codeRow(ctx, signature)
	if err != nil {
		return nil, err
	}
	req, err := s.codeRequest(ctx, row, m, session)
	if err != nil {
		return nil, err
	}
	if !row.Active {
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession marks a code as used with a conditional
// update. Only the first caller changes the row; every later or concurrent
// one gets ErrCodeAlreadyRedeemed, and an unknown code fosite.ErrNotFound.
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	res, err := s.execHot(ctx, useCodeRow, false, signature, true)
	if err != nil {
		return fmt.Errorf("store: invalidate code: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: invalidate code: %w", err)
	} else if n == 1 {
		codeUsed(ctx, signature)
		return nil
	}
	if _, err := s.getRequestRow(ctx, tableCodes, signature); err != nil {
		return err
	}
	return ErrCodeAlreadyRedeemed
}
