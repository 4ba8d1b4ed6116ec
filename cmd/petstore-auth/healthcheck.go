package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// healthcheckCmd lets container healthchecks probe a service without a
// shell or curl in the (distroless) image.
func (a *app) healthcheckCmd() *cobra.Command {
	var target string
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 if the URL answers 2xx within 3 s (for container healthchecks)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := &http.Client{Timeout: 3 * time.Second}
			res, err := c.Get(target)
			if err != nil {
				return err
			}
			res.Body.Close()
			if res.StatusCode/100 != 2 {
				return identity.Errorf(identity.EUNAVAILABLE, "%s answered %d", target, res.StatusCode)
			}
			fmt.Fprintln(a.out, "ok")
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "url", "http://127.0.0.1:8080/readyz", "URL to probe")
	return cmd
}
