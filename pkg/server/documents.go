package server

import (
	"context"

	"github.com/petstore-auth/petstore-auth/pkg/clientmeta"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
)

// documentClients resolves a client id that is a URL (client ID metadata
// documents): the fetcher's transport rules (pkg/clientmeta), then
// manage's document rules, then the client is stored so that grants and
// tokens can refer to it. Every refusal is EINVALID: the store answers it
// as an unknown client.
func documentClients(dev bool, f *clientmeta.Fetcher, svc *manage.Service) func(ctx context.Context, id string) (*identity.Client, error) {
	return func(ctx context.Context, id string) (*identity.Client, error) {
		if err := identity.ValidateMetadataDocumentURL(id, dev); err != nil {
			return nil, err
		}
		raw, err := f.Fetch(ctx, id)
		if err != nil {
			return nil, identity.Errorf(identity.EINVALID, "%v", err)
		}
		c, err := manage.ClientFromDocument(id, raw)
		if err != nil {
			return nil, err
		}
		return svc.SyncDocumentClient(ctx, c)
	}
}
