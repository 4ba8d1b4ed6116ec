package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

func (a *app) clientCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "Manage OAuth clients"}
	cmd.AddCommand(a.clientCreateCmd(), a.clientUpdateCmd(), a.clientListCmd(), a.clientShowCmd(), a.clientDeleteCmd(),
		a.clientRotateSecretCmd(), a.clientSetDisabledCmd(true), a.clientSetDisabledCmd(false))
	return cmd
}

func (a *app) clientCreateCmd() *cobra.Command {
	var (
		id, name, scope, format string
		profile                 string
		jwksURI, jwksFile       string
		idTokenAlg              string
		redirects, grants       []string
		origins                 []string
		public, introspect      bool
		logout                  logoutFlags
		dpopBound, requirePAR   bool
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register a client; prints its id and generated secret once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			scopes, err := identity.ParseScopes(scope)
			if err != nil {
				return err
			}
			var jwks []byte
			if jwksFile != "" {
				if jwks, err = os.ReadFile(jwksFile); err != nil {
					return fmt.Errorf("--jwks: %w", err)
				}
			}
			var c *identity.Client
			var secret string
			err = a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) (err error) {
				c, secret, err = svc.CreateClient(cmd.Context(), manage.CLI, manage.ClientInput{ID: id, Name: name,
					RedirectURIs: redirects, GrantTypes: grants, Scopes: scopes, Public: public, AllowedOrigins: origins,
					CanIntrospect: introspect, TokenFormat: format, IDTokenSignedResponseAlg: idTokenAlg, PostLogoutRedirectURIs: logout.postLogout,
					BackchannelLogoutURI: logout.backchannel, BackchannelLogoutSessionRequired: logout.sessionRequired,
					DPoPBound: dpopBound, RequirePAR: requirePAR, Profile: profile,
					JWKSURI: jwksURI, JWKS: jwks})
				return err
			})
			if err != nil {
				return err
			}
			return a.print(viewClient(manage.ViewClient(c), secret), func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "client_id:\t%s\n", c.ID)
				if secret != "" {
					fmt.Fprintf(w, "client_secret:\t%s\n", secret)
				}
				fmt.Fprintf(w, "grant_types:\t%s\nscopes:\t%s\nredirect_uris:\t%s\n", joinOrDash(c.GrantTypes), joinOrDash(c.Scopes), joinOrDash(c.RedirectURIs))
				if c.Public {
					fmt.Fprintf(w, "cors_origins:\t%s\n", joinOrDash(c.CORSOrigins()))
				}
				if c.UsesPrivateKeyJWT() {
					fmt.Fprintln(w, "token_endpoint_auth_method:\tprivate_key_jwt")
					if c.JWKSURI != "" {
						fmt.Fprintf(w, "jwks_uri:\t%s\n", c.JWKSURI)
					}
				}
				if secret != "" {
					fmt.Fprintln(w, "\nStore the secret now: it is shown only once and cannot be recovered.")
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "display name shown on the consent screen (required)")
	f.StringVar(&id, "id", "", "client id (default: derived from the name)")
	f.StringArrayVar(&redirects, "redirect-uri", nil, "allowed redirect URI (repeatable): https, or http on a loopback address; matched byte for byte, "+
		"except that a --public client's URI on a loopback IP (http://127.0.0.1, http://[::1]) matches any port (RFC 8252 §7.3); "+
		"a confidential client's matches exactly, port included")
	f.StringVar(&scope, "scope", "", `space-separated scopes the client may request, e.g. "read:pets write:pets offline_access"`)
	f.StringArrayVar(&grants, "grant-type", nil, "authorization_code, refresh_token, client_credentials or device_code (RFC 8628; stored as urn:ietf:params:oauth:grant-type:device_code) (repeatable; default: "+
		"authorization_code, plus refresh_token if --scope has offline_access, for a client with redirect URIs or --public; else client_credentials)")
	f.BoolVar(&public, "public", false, "public client (no secret; PKCE only), e.g. a native or single-page app")
	f.StringArrayVar(&origins, "allowed-origin", nil, "public client: extra browser origin (https://host[:port]) that may call the token and revocation endpoints; the redirect URIs' origins are allowed already (repeatable)")
	f.StringVar(&jwksURI, "jwks-uri", "", "private_key_jwt client (RFC 7523): https URL of its public JWK Set; the client gets no secret and signs client assertions (RS256, ES256, PS256, EdDSA)")
	f.StringVar(&jwksFile, "jwks", "", "private_key_jwt client: file holding its public JWK Set (instead of --jwks-uri)")
	f.BoolVar(&introspect, "introspect", false, "resource server: may call /oauth2/introspect")
	f.StringVar(&format, "token-format", identity.TokenFormatOpaque, "access token format: opaque or jwt")
	f.StringVar(&profile, "profile", "", "security profile: fapi2 (FAPI 2.0 Security Profile: PAR, PKCE S256, DPoP-bound tokens, codes of at most 60 s, "+
		"no refresh-token reuse grace; public clients only until private_key_jwt is available)")
	f.BoolVar(&requirePAR, "require-par", false, "require pushed authorization requests (RFC 9126): /oauth2/auth then accepts only client_id and a request_uri from /oauth2/par")
	f.BoolVar(&dpopBound, "dpop-bound", false, "require DPoP proofs (RFC 9449) at the token endpoint: every access token is bound to the client's key")
	f.StringVar(&idTokenAlg, "id-token-alg", "", "OpenID Connect ID token signature: RS256 (default) or ES256")
	logout.register(cmd)
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// logoutFlags are the OpenID Connect logout settings of a client.
type logoutFlags struct {
	postLogout      []string
	backchannel     string
	sessionRequired bool
}

// patch puts the logout flags given on the command line into p.
func (l *logoutFlags) patch(cmd *cobra.Command, p *manage.ClientPatch) {
	f := cmd.Flags()
	if f.Changed("post-logout-redirect-uri") {
		p.PostLogoutRedirectURIs = &l.postLogout
	}
	if f.Changed("backchannel-logout-uri") {
		p.BackchannelLogoutURI = &l.backchannel
	}
	if f.Changed("backchannel-logout-session-required") {
		p.BackchannelLogoutSessionRequired = &l.sessionRequired
	}
}

func (l *logoutFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&l.postLogout, "post-logout-redirect-uri", nil, "where the end_session endpoint (/oauth2/logout) may send the browser "+
		"after sign-out (repeatable; https, or http on loopback; matched byte for byte; OpenID Connect RP-Initiated Logout 1.0)")
	f.StringVar(&l.backchannel, "backchannel-logout-uri", "", "URL that receives a logout token (POST logout_token) when a user's "+
		"session ends or their grant is revoked (https, or http on loopback; OpenID Connect Back-Channel Logout 1.0)")
	f.BoolVar(&l.sessionRequired, "backchannel-logout-session-required", false, "the client needs sid in logout tokens (sent whenever known)")
}

func (a *app) clientListCmd() *cobra.Command {
	var registered bool
	cmd := &cobra.Command{
		Use: "list", Short: "List clients", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			clients, _, err := st.ListClients(cmd.Context(), identity.ClientFilter{Registered: registered, Page: identity.Page{Limit: 500}})
			if err != nil {
				return err
			}
			views := []cliClient{}
			owners := map[string]string{}
			for _, c := range clients {
				v := viewClient(manage.ViewClient(c), "")
				if c.OwnerID != "" {
					if _, ok := owners[c.OwnerID]; !ok {
						owners[c.OwnerID] = c.OwnerID // a user gone since: show the id
						if u, err := st.UserByID(cmd.Context(), c.OwnerID); err == nil {
							owners[c.OwnerID] = u.Email
						}
					}
					v.Owner = owners[c.OwnerID]
				}
				views = append(views, v)
			}
			return a.print(views, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "CLIENT ID\tNAME\tOWNER\tGRANTS\tSCOPES\tFORMAT\tFLAGS\tALLOWED ORIGINS")
				for _, c := range views {
					var flags []string
					if c.Public {
						flags = append(flags, "public")
					}
					if c.CanIntrospect {
						flags = append(flags, "introspect")
					}
					if c.Disabled {
						flags = append(flags, "disabled")
					}
					if c.Registration != "" {
						flags = append(flags, "unverified:"+c.Registration)
					}
					owner := c.Owner
					if owner == "" {
						owner = "operator"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ClientID, c.Name, owner, joinOrDash(c.GrantTypes), joinOrDash(c.Scopes), c.TokenFormat, joinOrDash(flags), joinOrDash(c.AllowedOrigins))
				}
			})
		},
	}
	cmd.Flags().BoolVar(&registered, "registered", false, "only clients that registered themselves (RFC 7591 or a client ID metadata document)")
	return cmd
}

func (a *app) clientShowCmd() *cobra.Command {
	return &cobra.Command{
		Use: "show CLIENT_ID", Short: "Show one client", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			c, err := st.ClientByID(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			v := viewClient(manage.ViewClient(c), "")
			return a.print(v, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "client_id:\t%s\nname:\t%s\ngrant_types:\t%s\nscopes:\t%s\nredirect_uris:\t%s\npublic:\t%v\nallowed_origins:\t%s\ncors_origins:\t%s\nintrospect:\t%v\ntoken_format:\t%s\npost_logout_redirect_uris:\t%s\nbackchannel_logout_uri:\t%s\ndisabled:\t%v\ncreated:\t%s\n",
					v.ClientID, v.Name, joinOrDash(v.GrantTypes), joinOrDash(v.Scopes), joinOrDash(v.RedirectURIs), v.Public, joinOrDash(v.AllowedOrigins), joinOrDash(c.CORSOrigins()), v.CanIntrospect, v.TokenFormat,
					joinOrDash(v.PostLogoutRedirectURIs), orDash(v.BackchannelLogoutURI), v.Disabled, v.CreatedAt.Format(time.RFC3339))
			})
		},
	}
}

func (a *app) clientDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use: "delete CLIENT_ID", Short: "Delete a client and every token issued to it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) error {
				return svc.DeleteClient(cmd.Context(), manage.CLI, args[0], "")
			})
			if err != nil {
				return err
			}
			return a.done(map[string]any{"deleted": true, "id": args[0], "client_id": args[0]}, "deleted client %s\n", args[0])
		},
	}
}

// A running server caches clients for a few seconds (provider's client
// cache): what these commands change reaches it within that time.

func (a *app) clientRotateSecretCmd() *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use: "rotate-secret CLIENT_ID", Short: "Replace a confidential client's secret; prints the new one once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c *identity.Client
			var secret string
			err := a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) (err error) {
				c, secret, err = svc.RotateClientSecret(cmd.Context(), manage.CLI, args[0], "", grace)
				return err
			})
			if err != nil {
				return err
			}
			return a.print(viewClient(manage.ViewClient(c), secret), func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "client_id:\t%s\nclient_secret:\t%s\n", c.ID, secret)
				if c.PreviousSecretExpiresAt != nil {
					fmt.Fprintf(w, "old secret works until:\t%s\n", c.PreviousSecretExpiresAt.Format(time.RFC3339))
					fmt.Fprintln(w, "\nStore the secret now: it is shown only once. Deploy it before the old one stops working.")
					return
				}
				fmt.Fprintln(w, "\nStore the secret now: it is shown only once. A running server stops accepting the old one within seconds.")
			})
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", 0, "how long the old secret keeps working, e.g. 24h (at most 168h; 0 = stops now)")
	return cmd
}

func (a *app) clientSetDisabledCmd(disabled bool) *cobra.Command {
	use, short := "enable CLIENT_ID", "Enable a disabled client again"
	if disabled {
		use, short = "disable CLIENT_ID", "Disable a client: its tokens stop working and it gets no new ones"
	}
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c *identity.Client
			err := a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) (err error) {
				c, err = svc.SetClientDisabled(cmd.Context(), manage.CLI, args[0], disabled)
				return err
			})
			if err != nil {
				return err
			}
			return a.print(viewClient(manage.ViewClient(c), ""), func(w *tabwriter.Writer) {
				state := "enabled"
				if c.Disabled {
					state = "disabled"
				}
				fmt.Fprintf(w, "%s client %s\n", state, c.ID)
			})
		},
	}
}

func (a *app) clientUpdateCmd() *cobra.Command {
	var idTokenAlg string
	var logout logoutFlags
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a client's settings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p manage.ClientPatch
			if cmd.Flags().Changed("id-token-alg") {
				p.IDTokenSignedResponseAlg = &idTokenAlg
			}
			logout.patch(cmd, &p)
			var c *identity.Client
			err := a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) (err error) {
				c, err = svc.UpdateClient(cmd.Context(), manage.CLI, args[0], p)
				return err
			})
			if err != nil {
				return err
			}
			v := manage.ViewClient(c)
			return a.print(v, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "updated client %s; ID tokens signed with %s\n", v.ID, v.IDTokenSignedResponseAlg)
			})
		},
	}
	cmd.Flags().StringVar(&idTokenAlg, "id-token-alg", "", "OpenID Connect ID token signature: RS256 or ES256")
	logout.register(cmd)
	return cmd
}
