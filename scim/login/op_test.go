package login

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testOP is a small OpenID provider in Okta's shape for these tests: it
// approves every authorization request for the current user at once,
// checks PKCE S256 and client_secret_basic at the token endpoint, and signs
// RS256 ID tokens with go-jose.
type testOP struct {
	t            *testing.T
	srv          *httptest.Server
	key          *rsa.PrivateKey
	otherKey     *rsa.PrivateKey // signs instead of key when badSignature
	clientID     string
	clientSecret string
	redirectURI  string
	now          func() time.Time

	mu           sync.Mutex
	codes        map[string]opCode
	user         opUser
	tweak        func(claims map[string]any) // edits ID token claims
	badSignature bool
	encode       func(claims map[string]any) string // replaces signing when set
}

type opUser struct {
	sub, login, email string
}

type opCode struct {
	challenge, nonce, redirectURI string
	user                          opUser
}

// testKeys generates the provider's signing key and a second, unpublished
// key once per test binary (RSA key generation is slow).
var testKeys = sync.OnceValues(func() (keys [2]*rsa.PrivateKey, err error) {
	for i := range keys {
		if keys[i], err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return keys, err
		}
	}
	return keys, nil
})

func newTestOP(t *testing.T, now func() time.Time) *testOP {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := keys[0], keys[1]
	op := &testOP{t: t, key: k1, otherKey: k2, clientID: "0oaclient", clientSecret: "client-secret", now: now, codes: map[string]opCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /oauth2/v1/authorize", op.authorize)
	mux.HandleFunc("POST /oauth2/v1/token", op.token)
	mux.HandleFunc("GET /oauth2/v1/keys", op.keys)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *testOP) setUser(u opUser) { op.mu.Lock(); op.user = u; op.mu.Unlock() }
func (op *testOP) setTweak(f func(map[string]any)) {
	op.mu.Lock()
	op.tweak = f
	op.mu.Unlock()
}

func (op *testOP) discovery(w http.ResponseWriter, r *http.Request) {
	u := op.srv.URL
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                u,
		"authorization_endpoint":                u + "/oauth2/v1/authorize",
		"token_endpoint":                        u + "/oauth2/v1/token",
		"jwks_uri":                              u + "/oauth2/v1/keys",
		"userinfo_endpoint":                     u + "/oauth2/v1/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

func (op *testOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != op.clientID || q.Get("redirect_uri") != op.redirectURI {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("state") == "" || q.Get("nonce") == "" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := base64.RawURLEncoding.EncodeToString(randBytes(op.t))
	op.mu.Lock()
	op.codes[code] = opCode{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirectURI: q.Get("redirect_uri"), user: op.user}
	op.mu.Unlock()
	http.Redirect(w, r, op.redirectURI+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

func randBytes(t *testing.T) []byte {
	b := make([]byte, 16)
	rand.Read(b)
	return b
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	id, sec, ok := r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		tokenError(w, 400, "invalid_request", "bad form")
		return
	}
	if !ok || r.PostForm.Has("client_secret") {
		tokenError(w, 401, "invalid_client", "client_secret_basic expected")
		return
	}
	if id != op.clientID || sec != op.clientSecret {
		tokenError(w, 401, "invalid_client", "wrong client credentials")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, 400, "unsupported_grant_type", "")
		return
	}
	op.mu.Lock()
	c, ok := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code"))
	tweak, bad, encode := op.tweak, op.badSignature, op.encode
	op.mu.Unlock()
	if !ok {
		tokenError(w, 400, "invalid_grant", "the authorization code is invalid or has expired")
		return
	}
	if r.PostForm.Get("redirect_uri") != c.redirectURI {
		tokenError(w, 400, "invalid_grant", "redirect_uri mismatch")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
		tokenError(w, 400, "invalid_grant", "PKCE verification failed")
		return
	}
	now := op.now()
	claims := map[string]any{
		"ver": 1, "jti": "ID.x", "iss": op.srv.URL, "aud": op.clientID, "sub": c.user.sub,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(),
		"amr": []string{"pwd"}, "idp": "00oorg", "nonce": c.nonce,
		"preferred_username": c.user.login, "email": c.user.email, "name": "Test User",
	}
	if tweak != nil {
		tweak(claims)
	}
	key := op.key
	if bad {
		key = op.otherKey
	}
	idt := op.sign(key, claims)
	if encode != nil {
		idt = encode(claims)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "scope": "openid profile email", "id_token": idt})
}

func (op *testOP) sign(key *rsa.PrivateKey, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		op.t.Error(err)
		return ""
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		op.t.Error(err)
		return ""
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		op.t.Error(err)
	}
	return s
}

func (op *testOP) keys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}
