//go:build tools

// This file pins the modules the project uses before code imports them.
package petstoreauth

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/glebarez/sqlite"
	_ "github.com/go-jose/go-jose/v3"
	_ "github.com/gorilla/mux"
	_ "github.com/gorilla/sessions"
	_ "github.com/ory/fosite"
	_ "github.com/ory/fosite/compose"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/oauth2"
	_ "golang.org/x/time/rate"
	_ "gopkg.in/yaml.v3"
	_ "gorm.io/driver/postgres"
	_ "gorm.io/gorm"
)
