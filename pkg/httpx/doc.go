// Package httpx holds the HTTP plumbing shared by the authorization server's
// handlers: JSON and error writers with the one code→status map, request ids,
// access logs without secrets, panic recovery, body limits and security
// headers.
package httpx
