package login

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
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
// checks PKCE S256 and client_secret_basic at the token endpoint, signs
// RS256 ID tokens with go-jose (kid "k1"), and serves UserInfo. Its
// fields under mu are knobs a test turns to make it misbehave.
type testOP struct {
	t            *testing.T
	srv          *httptest.Server
	key          *rsa.PrivateKey
	otherKey     *rsa.PrivateKey // signs instead of key when badSignature
	ecKey        *ecdsa.PrivateKey
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

	authorizations []url.Values // every authorization request's query
	hits           map[string]int

	// keys endpoint
	jwks         func() []any // the published keys; nil means k1 only
	cacheControl string       // sent on the keys response when set

	// delays and failures, per endpoint ("discovery", "token", "keys",
	// "userinfo"): a delay before answering; hang answers only when the
	// client gives up.
	delay map[string]time.Duration
	hang  map[string]bool

	tokenStatus int    // when set, the token endpoint answers this status
	tokenBody   string // with this body (JSON error unless it starts with '<')

	noUserinfo     bool                        // discovery lists no userinfo_endpoint
	discoveryEdit  func(doc map[string]any)    // edits the discovery document
	tokenEdit      func(resp map[string]any)   // edits a successful token response
	override       map[string]http.HandlerFunc // answers an endpoint instead of the provider
	userinfoSub    *string
	userinfoStatus int
	userinfoExtra  map[string]any
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

var testECKey = sync.OnceValues(func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })

func newTestOP(t *testing.T, now func() time.Time) *testOP {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	ec, err := testECKey()
	if err != nil {
		t.Fatal(err)
	}
	op := &testOP{
		t: t, key: keys[0], otherKey: keys[1], ecKey: ec, clientID: "0oaclient", clientSecret: "client-secret", now: now,
		codes: map[string]opCode{}, hits: map[string]int{}, delay: map[string]time.Duration{}, hang: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.wrap("discovery", op.discovery))
	mux.HandleFunc("GET /oauth2/v1/authorize", op.wrap("authorize", op.authorize))
	mux.HandleFunc("POST /oauth2/v1/token", op.wrap("token", op.token))
	mux.HandleFunc("GET /oauth2/v1/keys", op.wrap("keys", op.keys))
	mux.HandleFunc("GET /oauth2/v1/userinfo", op.wrap("userinfo", op.userinfo))
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

// wrap counts the endpoint's requests and applies its delay or hang.
func (op *testOP) wrap(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		op.hits[name]++
		d, hang, over := op.delay[name], op.hang[name], op.override[name]
		op.mu.Unlock()
		if over != nil {
			over(w, r)
			return
		}
		if hang {
			// Read the body, so the server notices the client giving up.
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		}
		if d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		h(w, r)
	}
}

func (op *testOP) hitCount(name string) int {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.hits[name]
}

// set runs f with the provider's lock held.
func (op *testOP) set(f func(op *testOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func (op *testOP) setUser(u opUser) { op.mu.Lock(); op.user = u; op.mu.Unlock() }
func (op *testOP) setTweak(f func(map[string]any)) {
	op.mu.Lock()
	op.tweak = f
	op.mu.Unlock()
}

func (op *testOP) discovery(w http.ResponseWriter, r *http.Request) {
	u := op.srv.URL
	doc := map[string]any{
		"issuer":                                u,
		"authorization_endpoint":                u + "/oauth2/v1/authorize",
		"token_endpoint":                        u + "/oauth2/v1/token",
		"jwks_uri":                              u + "/oauth2/v1/keys",
		"userinfo_endpoint":                     u + "/oauth2/v1/userinfo",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	}
	op.mu.Lock()
	if op.noUserinfo {
		delete(doc, "userinfo_endpoint")
	}
	if op.discoveryEdit != nil {
		op.discoveryEdit(doc)
	}
	op.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

var formPostPage = template.Must(template.New("").Parse(`<!doctype html><form method="post" action="{{.Action}}">{{range $k, $v := .Values}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">{{end}}</form>`))

func (op *testOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op.mu.Lock()
	op.authorizations = append(op.authorizations, q)
	op.mu.Unlock()
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
	resp := url.Values{"code": {code}, "state": {q.Get("state")}}
	switch q.Get("response_mode") {
	case "", "query":
		http.Redirect(w, r, op.redirectURI+"?"+resp.Encode(), http.StatusFound)
	case "form_post":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		formPostPage.Execute(w, map[string]any{"Action": op.redirectURI, "Values": resp})
	default:
		http.Error(w, "unsupported response_mode", http.StatusBadRequest)
	}
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

// accessTokenFor is the access token the provider issues for sub; its
// at_hash is atHashOf(accessTokenFor(sub)).
func accessTokenFor(sub string) string { return "at." + sub + ".secret-access-token" }

func atHashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	id, sec, ok := r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		tokenError(w, 400, "invalid_request", "bad form")
		return
	}
	op.mu.Lock()
	status, body := op.tokenStatus, op.tokenBody
	op.mu.Unlock()
	if status != 0 {
		if strings.HasPrefix(body, "<") {
			w.Header().Set("Content-Type", "text/html")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
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
	tweak, bad, encode, tokenEdit := op.tweak, op.badSignature, op.encode, op.tokenEdit
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
	at := accessTokenFor(c.user.sub)
	claims := map[string]any{
		"ver": 1, "jti": "ID.x", "iss": op.srv.URL, "aud": op.clientID, "sub": c.user.sub,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(),
		"amr": []string{"pwd"}, "idp": "00oorg", "nonce": c.nonce, "at_hash": atHashOf(at),
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
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 3600, "scope": "openid profile email", "id_token": idt}
	if tokenEdit != nil {
		tokenEdit(resp)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (op *testOP) sign(key *rsa.PrivateKey, claims map[string]any) string {
	return signJWT(op.t, jose.RS256, key, "k1", claims)
}

// signJWT signs claims as a compact JWS with alg and key; kid "" leaves
// the kid out of the header.
func signJWT(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Error(err)
		return ""
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Error(err)
		return ""
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Error(err)
	}
	return s
}

// publicJWK is the JSON of key's public half as a signing JWK.
func publicJWK(key any, kid, alg string) map[string]any {
	var pub any
	switch k := key.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	default:
		pub = key
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		panic(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func (op *testOP) keys(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	jwks, cc := op.jwks, op.cacheControl
	op.mu.Unlock()
	keys := []any{publicJWK(op.key, "k1", "RS256")}
	if jwks != nil {
		keys = jwks()
	}
	w.Header().Set("Content-Type", "application/json")
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	json.NewEncoder(w).Encode(map[string]any{"keys": keys})
}

func (op *testOP) userinfo(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	op.mu.Lock()
	status, subOverride, extra := op.userinfoStatus, op.userinfoSub, op.userinfoExtra
	var user opUser
	found := false
	for _, c := range []opUser{op.user} {
		if accessTokenFor(c.sub) == tok {
			user, found = c, true
		}
	}
	op.mu.Unlock()
	if status != 0 {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid."`)
		w.WriteHeader(status)
		return
	}
	if scheme != "Bearer" || !found {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid."`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	body := map[string]any{"sub": user.sub, "preferred_username": user.login, "email": user.email, "name": "Test User"}
	if subOverride != nil {
		body["sub"] = *subOverride
	}
	for k, v := range extra {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}
