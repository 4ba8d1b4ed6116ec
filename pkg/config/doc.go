// Package config is the configuration of petstore-auth: defaults, loading from
// one YAML file with PETSTORE_* environment overrides, and Validate, which
// reports every problem at once before anything starts.
package config
