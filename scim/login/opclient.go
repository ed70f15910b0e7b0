package login

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxOPBody bounds every response body read from the provider (discovery,
// token, keys, userinfo): Okta's are a few kilobytes. go-oidc reads the
// discovery document without a limit, so the bound sits in the transport.
const maxOPBody = 1 << 20

// errOPRedirect is a provider endpoint answering with a redirect, which is
// not followed: Okta's endpoints never redirect, and following one would
// send the request (with the code and verifier, for the token endpoint)
// wherever the answer points, also to plain http inside the network.
var errOPRedirect = errors.New("login: the provider answered with a redirect, which is not followed")

// errOPBodyTooLarge is a provider response body longer than maxOPBody.
var errOPBodyTooLarge = fmt.Errorf("login: the provider's response is longer than %d bytes", maxOPBody)

// providerClient returns a copy of base (same transport, timeout) that
// follows no redirects, keeps no cookies and fails reading a response
// body beyond maxOPBody.
func providerClient(base *http.Client) *http.Client {
	c := *base
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = cappedTransport{rt}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return errOPRedirect }
	c.Jar = nil
	return &c
}

// cappedTransport bounds response bodies to maxOPBody.
type cappedTransport struct{ base http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > maxOPBody {
		resp.Body.Close()
		return nil, errOPBodyTooLarge
	}
	resp.Body = &cappedBody{rc: resp.Body}
	return resp, nil
}

// cappedBody fails once more than maxOPBody bytes have been read.
type cappedBody struct {
	rc   io.ReadCloser
	read int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.read > maxOPBody {
		return 0, errOPBodyTooLarge
	}
	n, err := b.rc.Read(p)
	b.read += int64(n)
	if b.read > maxOPBody {
		return n - int(b.read-maxOPBody), errOPBodyTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// clip shortens s, for a log line or a page, to at most n bytes of valid
// UTF-8 and an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = strings.ToValidUTF8(s[:n], "")
	return s + "…"
}
